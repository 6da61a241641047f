/**
 * A model fetch whose source process is killed (SIGKILL) mid-transfer resumes from another
 * holder: real node processes, a ~160 MB generated model held by a and b, fetched by c
 * through `POST /v1/models/fetch`, its progress followed in `GET /v1/node`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { copyFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ModelStore } from '../../models/index.js'
import { tempDir, waitFor } from '../helpers/nodes.js'
import { killAll, nodeApi as api, startNode, type NodeProcess } from '../helpers/processes.js'
import { paddedTestModel } from '../models/fetch-holders.js'

interface FetchView { name: string, digest: string, state: string, doneBytes: number, totalBytes: number | null, peer: string | null, holdersRejected: number }
const CONFIG = { advert: { baseIntervalMs: 1000, maxReceiveRate: 20 } }
const nodes: Record<string, { proc: NodeProcess, peerId: string }> = {}
let digest = ''

beforeAll(async () => {
  const source = await paddedTestModel(join(await tempDir(), 'big.gguf'), 40)
  digest = source.digest
  const dirs = { a: await tempDir(), b: await tempDir(), c: await tempDir() }
  for (const d of [dirs.a, dirs.b]) await (await ModelStore.open({ dataDir: d })).add(source.path, { name: 'big' })
  const a = await startNode(dirs.a, CONFIG)
  const self = (await api<{ addresses: string[], peerId: string }>(a, 'GET', '/v1/node')).body
  nodes.a = { proc: a, peerId: self.peerId }
  for (const d of [dirs.b, dirs.c]) await copyFile(join(dirs.a, 'swarm.key'), join(d, 'swarm.key'))
  const [b, c] = await Promise.all([dirs.b, dirs.c].map(async d => startNode(d, CONFIG, self.addresses[0])))
  for (const [name, proc] of [['b', b], ['c', c]] as const) nodes[name] = { proc, peerId: (await api<{ peerId: string }>(proc, 'GET', '/v1/node')).body.peerId }
  // c sees both holders' adverts of the model.
  await waitFor(async () => {
    const { peers } = (await api<{ peers: Array<{ peerId: string, capabilities: { models: Array<{ name: string }> } }> }>(c, 'GET', '/v1/peers')).body
    return peers.filter(p => p.capabilities.models.some(m => m.name === 'big')).length === 2
  }, 60_000, 200)
}, 180_000)

afterAll(async () => { await killAll() })

describe('model fetch across processes', () => {
  test('killing the holder being read mid-transfer: the fetch goes on from the other holder, keeping what it had, and the model is added verified', async () => {
    const c = nodes.c.proc
    const started = await api<FetchView>(c, 'POST', '/v1/models/fetch', { name: 'big' })
    expect(started.status).toBe(202)
    const progress = async (): Promise<FetchView | undefined> =>
      (await api<{ modelFetches?: FetchView[] }>(c, 'GET', '/v1/node')).body.modelFetches?.find(f => f.digest === digest)
    let atKill: FetchView | undefined
    await waitFor(async () => {
      const p = await progress()
      if (p?.state === 'fetching' && p.peer !== null && p.doneBytes > 0) atKill = p
      return atKill !== undefined || p?.state === 'done'
    }, 120_000, 20)
    expect(atKill, 'the fetch finished before a holder could be killed').toBeDefined()
    const victim = Object.values(nodes).find(n => n.peerId === atKill?.peer)
    expect(victim).toBeDefined()
    victim?.proc.child.kill('SIGKILL')
    let lowest = Number.POSITIVE_INFINITY
    const peersSeen = new Set<string>()
    await waitFor(async () => {
      const p = await progress()
      if (p !== undefined) { lowest = Math.min(lowest, p.doneBytes); if (p.peer !== null) peersSeen.add(p.peer) }
      return p?.state === 'done' || p?.state === 'failed'
    }, 180_000, 50)
    const done = await progress()
    expect(done).toMatchObject({ state: 'done', doneBytes: done?.totalBytes })
    // Resumed, not restarted: the bytes received never went back below what was there at the kill.
    expect(lowest).toBeGreaterThanOrEqual(atKill?.doneBytes ?? 0)
    const survivor = victim === nodes.a ? nodes.b : nodes.a
    expect(peersSeen.has(survivor.peerId)).toBe(true)
    const added = await (await ModelStore.open({ dataDir: c.dataDir })).get('big')
    expect(added).toMatchObject({ digest, available: true })
  }, 300_000)
})
