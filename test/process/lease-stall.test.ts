/**
 * Lease safety under load (issue 20, item 2), real processes: the node running a task is
 * frozen (SIGSTOP, its event loop and every thread stalled) once for 2 s, then for 4 s, longer
 * than the 3 s lease. The first stall makes its renewals measurably late; the auctioneer
 * counts that lateness into the margin, so the second stall costs no lease: the task runs once
 * (one attempt) and succeeds. With the old rule (a lease expires `leaseMs` after the last
 * renewal) the second stall re-auctions the task.
 */
import { afterAll, beforeAll, expect, test } from 'vitest'
import { copyFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { tempDir, removeTempDirs, waitFor } from '../helpers/nodes.js'
import { killAll, nodeApi as api, startNode, type NodeProcess } from '../helpers/processes.js'
import type { TaskViewT } from '../../protocols/task.js'

const LEASE_MS = 3000
const CONFIG = { auction: { leaseMs: LEASE_MS, heartbeatMs: 300 }, advert: { baseIntervalMs: 2000, maxReceiveRate: 20 } }
let a: NodeProcess
let b: NodeProcess

beforeAll(async () => {
  const aDir = await tempDir()
  a = await startNode(aDir, { ...CONFIG, workers: { exec: { size: 0 } } })
  const address = (await api<{ addresses: string[] }>(a, 'GET', '/v1/node')).body.addresses[0]
  const bDir = await tempDir()
  await copyFile(join(aDir, 'swarm.key'), join(bDir, 'swarm.key'))
  b = await startNode(bDir, { ...CONFIG, labels: ['holder'], workers: { exec: { size: 1 } } }, address)
  await waitFor(async () => (await api<{ peers: unknown[] }>(a, 'GET', '/v1/peers')).body.peers.length === 1, undefined, 200)
})
afterAll(async () => {
  if (b?.child.pid !== undefined) b.child.kill('SIGCONT')
  await killAll()
  await removeTempDirs()
})

const view = async (id: string): Promise<TaskViewT> => (await api<TaskViewT>(a, 'GET', `/v1/tasks/${id}`)).body

/** Freezes B for `ms`, then lets it run and waits for a few of its renewals. */
async function stall (ms: number): Promise<void> {
  b.child.kill('SIGSTOP')
  try { await sleep(ms) } finally { b.child.kill('SIGCONT') }
  await sleep(3 * CONFIG.auction.heartbeatMs)
}

test('a holder frozen longer than a lease, after an earlier shorter stall, keeps its lease: one attempt, no re-run', async () => {
  const submit = await api<{ id: string }>(a, 'POST', '/v1/tasks', {
    kind: 'exec', command: ['sleep', '14'], requirements: { cpus: 1, memoryMb: 64, labels: ['holder'] }, limits: { timeoutMs: 120_000 },
  })
  expect(submit.status).toBe(202)
  const id = submit.body.id
  await waitFor(async () => (await view(id)).state === 'running', undefined, 100)
  await sleep(2 * CONFIG.auction.heartbeatMs) // renewals flowing
  await stall(2000)
  await stall(4000)
  await waitFor(async () => ['succeeded', 'failed', 'cancelled'].includes((await view(id)).state), undefined, 200)
  const done = await view(id)
  expect(done.attempts.map(t => t.outcome)).toEqual(['succeeded'])
  expect(done.state).toBe('succeeded')
})
