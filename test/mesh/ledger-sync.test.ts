import { afterEach, describe, expect, test } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import type { GryphgenNode } from '../../node/node.js'
import { nodeTracker, newSwarmKeyHex, waitFor } from '../helpers/nodes.js'

const nodes = nodeTracker()
afterEach(nodes.stopAll)
const node = nodes.start
const submit = async (n: GryphgenNode, task: string): Promise<void> => {
  // A kind no node runs: the nodes' auctioneers leave these tasks alone (replication only here).
  await n.ledger.append('submitted', task, { kind: 'ledger-test', priority: 5, spec: {} })
}
const same = (nodes: GryphgenNode[]): boolean => {
  const [first, ...rest] = nodes.map(n => JSON.stringify(Object.entries(n.ledger.versionVector()).sort()))
  return rest.every(v => v === first)
}

describe('ledger replication on loopback', () => {
  test('a new entry reaches every node through gossip, and its history is served by each', async () => {
    const psk = newSwarmKeyHex()
    const a = await node({ swarmKey: psk })
    const b = await node({ swarmKey: psk, bootstrap: a.addresses() })
    const c = await node({ swarmKey: psk, bootstrap: b.addresses() })
    await waitFor(() => a.peers().length === 2 && c.peers().length === 2)
    await submit(c, 'task-gossip1')
    await c.ledger.append('awarded', 'task-gossip1', { attempt: 1, node: a.peerId, leaseMs: 5000, epoch: 1 })
    await waitFor(async () => (await a.ledger.task('task-gossip1'))?.state === 'awarded' && (await b.ledger.task('task-gossip1'))?.state === 'awarded', 5000)
    const history = await a.taskHistory('task-gossip1')
    expect(history?.entries.map(e => e.type)).toEqual(['submitted', 'awarded'])
    expect(history?.entries[0].author).toBe(c.peerId)
  })

  test('partition with concurrent appends, then heal: identical on every node (convergence time: npm run bench:ledger)', async () => {
    const psk = newSwarmKeyHex()
    const a = await node({ swarmKey: psk })
    const b = await node({ swarmKey: psk, bootstrap: a.addresses() })
    const c = await node({ swarmKey: psk })
    const d = await node({ swarmKey: psk, bootstrap: c.addresses() })
    await waitFor(() => a.peers().length === 1 && c.peers().length === 1)
    // Two groups, each appending to tasks both sides will know.
    await Promise.all([
      ...Array.from({ length: 100 }, async (_, i) => submit(i % 2 === 0 ? a : b, `task-left${i}`)),
      ...Array.from({ length: 100 }, async (_, i) => submit(i % 2 === 0 ? c : d, `task-right${i}`)),
    ])
    await waitFor(() => same([a, b]) && same([c, d]))
    expect(same([a, c])).toBe(false)
    await c.ledger.append('cancelled', 'task-left0', { reason: 'seen from the right before heal' })
    await a.mesh.dial(multiaddr(c.addresses()[0]), { signal: AbortSignal.timeout(5000) })
    await waitFor(() => [a, b, c, d].every(n => n.ledger.entryCount() === 201) && same([a, b, c, d]))
    await Promise.all([a, b, c, d].map(async n => n.ledger.whenIndexed()))
    const states = await Promise.all([a, b, c, d].map(async n => n.ledger.task('task-left0')))
    expect(states.every(s => s?.state === 'cancelled')).toBe(true)
    expect(new Set(states.map(s => JSON.stringify(s))).size).toBe(1)
  })

  test('a node joining a mesh that holds 10k entries catches up completely', async () => {
    const psk = newSwarmKeyHex()
    const a = await node({ swarmKey: psk })
    const b = await node({ swarmKey: psk, bootstrap: a.addresses() })
    await waitFor(() => a.peers().length === 1)
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(Array.from({ length: 500 }, async (_, i) => submit(batch % 2 === 0 ? a : b, `task-${batch}-${i}`)))
    }
    await waitFor(() => a.ledger.entryCount() === 10_000 && b.ledger.entryCount() === 10_000, undefined, 50)
    const joiner = await node({ swarmKey: psk, bootstrap: a.addresses() })
    await waitFor(() => joiner.ledger.entryCount() === 10_000, undefined, 50)
    expect(same([a, b, joiner])).toBe(true)
    await joiner.ledger.whenIndexed()
    expect((await joiner.ledger.task('task-19-499'))?.state).toBe('pending')
    expect((await joiner.ledger.tasksByState('pending', 20_000)).length).toBe(10_000)
  })
})
