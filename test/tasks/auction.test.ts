import { afterEach, describe, expect, test } from 'vitest'
import { newSwarmKeyHex, nodeTracker, waitFor } from '../helpers/nodes.js'
import type { GryphgenNode } from '../../node/node.js'

const nodes = nodeTracker()
afterEach(async () => { await nodes.stopAll() })

async function mesh (count: number, init: Partial<Parameters<typeof nodes.start>[0]> = {}): Promise<GryphgenNode[]> {
  const swarmKey = newSwarmKeyHex()
  const first = await nodes.start({ swarmKey, ...init })
  const rest = await Promise.all(Array.from({ length: count - 1 }, async () => nodes.start({ swarmKey, bootstrap: first.addresses(), ...init })))
  const all = [first, ...rest]
  await waitFor(() => all.every(n => n.peers().length === count - 1), 15_000)
  return all
}

describe('auction', () => {
  test('a noop task submitted at one node succeeds', async () => {
    const [a] = await mesh(3)
    const { id, state } = await a.tasks.submit({ kind: 'noop' }, {})
    expect(state).toBe('pending')
    await waitFor(async () => (await a.tasks.get(id)).state === 'succeeded', 10_000)
    const view = await a.tasks.get(id)
    expect(view.attempts).toHaveLength(1)
    expect(view.attempts[0].outcome).toBe('succeeded')
  }, 60_000)
})
