/**
 * Node loss with real processes (kill -9): a task whose runner dies completes on another
 * node with both attempts in its history and exactly one success; a task whose auctioneer
 * dies right after acknowledging completes after a restart, and, with `replicated`
 * durability, even if the auctioneer never comes back.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { copyFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir, removeTempDirs, waitFor } from '../helpers/nodes.js'
import { spawnNode, waitReady, killAll, type NodeProcess, nodeApi, startNode } from '../helpers/processes.js'
import type { TaskViewT } from '../../protocols/task.js'

// Leases of 6 s and adverts every 2 s (peers expire after 6 s of silence): a busy machine stalls
// a node's event loop for seconds at times, which must not look like a dead node here.
const CONFIG = { auction: { leaseMs: 6000, heartbeatMs: 500 }, advert: { baseIntervalMs: 2000, maxReceiveRate: 20 } }
let a: NodeProcess
let b: NodeProcess
let c: NodeProcess
let aDir: string
let aId: string

const api = nodeApi
const start = async (dir: string, config: Record<string, unknown>, bootstrap?: string): Promise<NodeProcess> => startNode(dir, { ...CONFIG, ...config }, bootstrap)

async function peers (node: NodeProcess): Promise<number> {
  return (await api<{ peers: unknown[] }>(node, 'GET', '/v1/peers')).body.peers.length
}

async function finished (node: NodeProcess, id: string, timeoutMs: number): Promise<TaskViewT> {
  let view: TaskViewT | undefined
  await waitFor(async () => {
    const r = await api<TaskViewT>(node, 'GET', `/v1/tasks/${id}`).catch(() => undefined)
    view = r?.status === 200 ? r.body : undefined
    return view !== undefined && ['succeeded', 'failed', 'cancelled'].includes(view.state)
  }, timeoutMs, 200)
  return view as TaskViewT
}

beforeAll(async () => {
  aDir = await tempDir()
  a = await start(aDir, { workers: { exec: { size: 0 } } })
  const self = (await api<{ addresses: string[], peerId: string }>(a, 'GET', '/v1/node')).body
  const address = self.addresses[0]
  aId = self.peerId
  const dirs = [await tempDir(), await tempDir()]
  for (const d of dirs) await copyFile(join(aDir, 'swarm.key'), join(d, 'swarm.key'))
  ;[b, c] = await Promise.all(dirs.map(async d => start(d, { labels: ['worker'], workers: { exec: { size: 1 } } }, address)))
  await waitFor(async () => (await peers(a)) === 2 && (await peers(b)) === 2 && (await peers(c)) === 2, 20_000, 200)
})
afterAll(async () => {
  await killAll()
  await removeTempDirs()
})

describe('node loss', () => {
  test('kill -9 the node running a task: it completes on another node, exactly one success', async () => {
    const submit = await api<{ id: string }>(a, 'POST', '/v1/tasks', { kind: 'exec', command: ['sleep', '3'], requirements: { cpus: 1, memoryMb: 64, labels: ['worker'] } })
    expect(submit.status).toBe(202)
    const id = submit.body.id
    let runner: string | undefined
    await waitFor(async () => {
      const v = (await api<TaskViewT>(a, 'GET', `/v1/tasks/${id}`)).body
      runner = v.state === 'running' ? v.attempts[v.attempts.length - 1].node : undefined
      return runner !== undefined
    }, 20_000, 100)
    const victim = (await api<{ peerId: string }>(b, 'GET', '/v1/node')).body.peerId === runner ? b : c
    const survivor = victim === b ? c : b
    victim.child.kill('SIGKILL')
    const view = await finished(a, id, 30_000)
    expect(view.state, JSON.stringify(view)).toBe('succeeded')
    expect(view.attempts.length).toBe(2)
    expect(view.attempts[0]).toMatchObject({ node: runner, outcome: 'lost' })
    expect(view.attempts[0].error).toMatch(/lease expired/)
    const survivorId = (await api<{ peerId: string }>(survivor, 'GET', '/v1/node')).body.peerId
    expect(view.attempts[1]).toMatchObject({ node: survivorId, outcome: 'succeeded' })
    expect(view.attempts.filter(t => t.outcome === 'succeeded' || t.outcome === 'late-succeeded')).toHaveLength(1)
    // Restart the victim for the next tests (same data dir, same identity).
    const restarted = spawnNode(victim.dataDir, ['--bootstrap', (await api<{ addresses: string[] }>(a, 'GET', '/v1/node')).body.addresses[0]])
    await waitReady(restarted, 30_000)
    if (victim === b) b = restarted
    else c = restarted
    await waitFor(async () => (await peers(a)) === 2, 20_000, 200)
  })

  test('kill -9 the auctioneer right after it acknowledged: after a restart the task still runs', async () => {
    // Nobody has the label yet: the task is pending when the auctioneer dies.
    const submit = await api<{ id: string }>(a, 'POST', '/v1/tasks', { kind: 'noop', requirements: { labels: ['later'] } })
    expect(submit.status).toBe(202)
    a.child.kill('SIGKILL')
    await new Promise(resolve => a.child.once('exit', resolve))
    a = spawnNode(aDir)
    await waitReady(a, 30_000)
    await waitFor(async () => (await peers(a)) === 2, 20_000, 200)
    await api(b, 'PUT', '/v1/node/labels', { labels: ['worker', 'later'] })
    const view = await finished(a, submit.body.id, 30_000)
    expect(view.state).toBe('succeeded')
    expect(view.attempts[view.attempts.length - 1].node).toBe((await api<{ peerId: string }>(b, 'GET', '/v1/node')).body.peerId)
  })

  test('with replicated durability the task completes even if the auctioneer never comes back', async () => {
    const submit = await api<{ id: string }>(a, 'POST', '/v1/tasks', { kind: 'noop', durability: 'replicated', requirements: { labels: ['never-yet'] } })
    expect(submit.status).toBe(202)
    a.child.kill('SIGKILL')
    await api(c, 'PUT', '/v1/node/labels', { labels: ['worker', 'never-yet'] })
    const view = await finished(b, submit.body.id, 40_000)
    expect(view.state).toBe('succeeded')
    expect(view.auctioneer).not.toBe(aId) // taken over by a live node
    const history = (await api<{ entries: Array<{ type: string, author: string }> }>(b, 'GET', `/v1/tasks/${submit.body.id}/history`)).body.entries
    expect(history.map(e => e.type)).toEqual(expect.arrayContaining(['submitted', 'adopted', 'awarded', 'finished'])) // a noop has no 'started'
  })
})
