/**
 * Retryable faults re-auction the task (issue 15, item 3): an exec worker process killed with
 * -9 mid-task loses that attempt (WorkerLostError), not the task; it runs again, elsewhere if
 * another node fits, up to `auction.maxAttempts` (3 here, the default). The task's own failure
 * (a non-zero exit) still ends it `failed` at once, with no second attempt. Real 2-node
 * loopback mesh, real worker processes and sandboxes.
 */
import { afterAll, beforeAll, expect, test } from 'vitest'
import { PATIENCE_MS, newSwarmKeyHex, nodeTracker, waitFor } from '../helpers/nodes.js'
import type { GryphgenNode } from '../../node/node.js'
import type { TaskViewT } from '../../protocols/task.js'

const nodes = nodeTracker()
let all: GryphgenNode[] = []

beforeAll(async () => {
  const swarmKey = newSwarmKeyHex()
  const a = await nodes.start({ swarmKey, execWorkers: 2, name: 'a' })
  const b = await nodes.start({ swarmKey, bootstrap: a.addresses(), execWorkers: 2, name: 'b' })
  all = [a, b]
  await waitFor(() => all.every(n => n.peers().length === 1 && n.peers().every(p => p.capabilities.sandbox?.available === true)))
})
afterAll(async () => { await nodes.stopAll() })

const over = (t: TaskViewT): boolean => ['succeeded', 'failed', 'cancelled'].includes(t.state)

/** The pid of an exec worker process (found through the pool's API) running a task now. */
async function busyWorker (): Promise<number> {
  let victim: number | undefined
  await waitFor(() => {
    for (const node of all) victim ??= node.workers.workers().find(w => w.kind === 'exec' && w.running > 0)?.pid
    return victim !== undefined
  }, undefined, 10)
  return victim as number
}

test('20 tasks, one exec worker killed with -9 during them: 20/20 succeed, the lost attempt ran again', async () => {
  const [a] = all
  const ids: string[] = []
  for (let i = 0; i < 20; i++) {
    const { id } = await a.tasks.submit({ kind: 'exec', command: ['sh', '-c', `sleep 2; echo task ${i}`], requirements: { cpus: 1, memoryMb: 64 } }, {})
    ids.push(id)
  }
  process.kill(await busyWorker(), 'SIGKILL')

  await waitFor(async () => (await Promise.all(ids.map(async id => a.tasks.get(id)))).every(over), undefined, 100)
  const views = await Promise.all(ids.map(async id => a.tasks.get(id)))
  expect(views.map(v => v.state)).toEqual(ids.map(() => 'succeeded'))
  // The kill hit a task: its attempt is lost with the worker's error, and a later attempt succeeded.
  const hit = views.filter(v => v.attempts.some(at => at.outcome === 'lost' && /WorkerLostError/.test(at.error ?? '')))
  expect(hit.length, JSON.stringify(views.flatMap(v => v.attempts.filter(at => at.outcome !== 'succeeded')))).toBeGreaterThanOrEqual(1)
  for (const v of hit) expect(v.attempts[v.attempts.length - 1].outcome).toBe('succeeded')
})

test("a task's own failure (non-zero exit) ends it failed at once, with no retry", async () => {
  const [a] = all
  const { id } = await a.tasks.submit({ kind: 'exec', command: ['sh', '-c', 'exit 3'], requirements: { cpus: 1, memoryMb: 64 } }, {})
  await waitFor(async () => over(await a.tasks.get(id)), undefined, 50)
  const view = await a.tasks.get(id)
  expect(view.state).toBe('failed')
  expect(view.attempts).toHaveLength(1)
  expect(view.attempts[0]).toMatchObject({ outcome: 'failed', error: 'exit code 3' })
})

test('a task whose worker is killed at every attempt fails after maxAttempts, naming the lost workers', async () => {
  const [a] = all
  // A unique argument: no other process on the machine is this one.
  // A wall limit of its own: on a busy machine the kills may come later than the default 30 s.
  const { id } = await a.tasks.submit({ kind: 'exec', command: ['sleep', `600.${process.pid}${Date.now() % 1000}`], requirements: { cpus: 1, memoryMb: 64 }, limits: { timeoutMs: 600_000 } }, {})
  // Bounded: one kill per attempt, at most maxAttempts (3) of them and a spare.
  for (let kills = 0; kills < 4 && !over(await a.tasks.get(id)); kills++) {
    // Attempt number kills + 1 running: counted, not compared with a count read after the last
    // kill (the next attempt may already have started by then, and no other would come).
    await waitFor(async () => { const v = await a.tasks.get(id); return over(v) || (v.attempts.length === kills + 1 && v.state === 'running') }, 3 * PATIENCE_MS, 25)
    if (over(await a.tasks.get(id))) break
    process.kill(await busyWorker(), 'SIGKILL')
    await waitFor(async () => { const v = await a.tasks.get(id); return over(v) || v.attempts[kills]?.outcome === 'lost' }, 3 * PATIENCE_MS, 25)
  }
  await waitFor(async () => over(await a.tasks.get(id)), 3 * PATIENCE_MS, 50)
  const view = await a.tasks.get(id)
  expect(view.state).toBe('failed')
  expect(view.attempts.map(at => at.outcome), JSON.stringify(view.attempts)).toEqual(['lost', 'lost', 'lost'])
  expect(view.error).toMatch(/gave up after 3 attempts.*WorkerLostError/)
}, 20 * PATIENCE_MS)
