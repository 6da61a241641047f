/**
 * models.autoFetch on a 3-node mesh: a request at c (which has no model) runs where it finishes
 * soonest: on a holder that can run it now (a, with a model worker), or, when the only holder
 * cannot run it (b, no model worker), on c after c fetched the model from b.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { join } from 'node:path'
import { ModelStore } from '../../models/index.js'
import { paddedTestModel } from './fetch-holders.js'
import type { GryphgenNode } from '../../node/node.js'
import { newSwarmKeyHex, nodeTracker, tempDir, waitFor } from '../helpers/nodes.js'

const nodes = nodeTracker()
let a: GryphgenNode
let b: GryphgenNode
let c: GryphgenNode

/** A test model padded to `chunks` x 4 MiB: its transfer (at the default 50 MB/s) is what a bid for fetch-then-run adds. */
async function addModel (node: GryphgenNode, name: string, seed: number, chunks: number): Promise<void> {
  const { path } = await paddedTestModel(join(await tempDir(), `${name}.gguf`), chunks, seed)
  await (await ModelStore.open({ dataDir: node.config.dataDir })).add(path, { name })
}

async function finished (node: GryphgenNode, id: string): Promise<Awaited<ReturnType<GryphgenNode['tasks']['get']>>> {
  await waitFor(async () => ['succeeded', 'failed', 'cancelled', 'abandoned'].includes((await node.tasks.get(id)).state), 240_000, 100)
  return node.tasks.get(id)
}

const generate = (model: string): Record<string, unknown> => ({ kind: 'generate', model, prompt: 'hello', maxTokens: 4, temperature: 0 })

beforeAll(async () => {
  const swarmKey = newSwarmKeyHex()
  a = await nodes.start({ swarmKey, name: 'a', modelWorkers: 1 })
  b = await nodes.start({ swarmKey, name: 'b', bootstrap: a.addresses() })
  c = await nodes.start({ swarmKey, name: 'c', bootstrap: a.addresses(), modelWorkers: 1, models: { autoFetch: true } })
  await addModel(a, 'on-a', 1, 10)
  await addModel(b, 'on-b', 2, 2)
  // Both model workers ready: a node without a ready slot does not bid at all.
  await waitFor(() => ['on-a', 'on-b'].every(name => c.meshModels().some(m => m.name === name)) && c.peers().length >= 2 &&
    [a, c].every(n => n.workers.stats().kinds.model.capacity >= 1), 120_000)
}, 180_000)

afterAll(async () => { await nodes.stopAll() }, 60_000)

describe('models.autoFetch', () => {
  test('a holder that can run the request now bids sooner than fetch-then-run: it runs there, nothing is fetched', async () => {
    // a has the model loaded (a first request at a, where only holders bid), so its bid is the
    // generation alone while c's adds the transfer and a load: the outcome does not hang on how
    // two load-time estimates compare on a busy machine.
    const warm = await a.tasks.submit(generate('on-a'), {})
    expect((await finished(a, warm.id)).state).toBe('succeeded')
    const { id } = await c.tasks.submit(generate('on-a'), {})
    const view = await finished(c, id)
    expect(view.state).toBe('succeeded')
    expect(view.attempts.at(-1)?.node).toBe(a.peerId)
    expect(c.models.list().some(m => m.name === 'on-a')).toBe(false)
    expect(c.modelFetch.progress()).toEqual([])
  }, 300_000)

  test('when the only holder cannot run it, c fetches the model from it (verified) and runs the request', async () => {
    const { id } = await c.tasks.submit(generate('on-b'), {})
    const view = await finished(c, id)
    expect(view.state).toBe('succeeded')
    expect(view.attempts.at(-1)?.node).toBe(c.peerId)
    const fetched = c.models.list().find(m => m.name === 'on-b')
    expect(fetched?.digest).toBe(b.models.list().find(m => m.name === 'on-b')?.digest)
    expect(c.modelFetch.progress().find(p => p.name === 'on-b')).toMatchObject({ state: 'done' })
    expect(b.modelFetch.serverStats.served).toBe(1)
  }, 300_000)
})
