/**
 * The pool end to end with real worker processes over ipc in a temp data dir: results,
 * progress and log lines, typed errors, 10k tasks through 2 workers, a worker killed with -9
 * mid-task, a hung worker, and cancelling tasks (queued, running, ignored).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { AbortedError } from '../../base/index.js'
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { createWorkerPool, PoolStoppedError, WorkerInfoSchema, WorkerPoolStatsSchema, type TaskLogLine, type TaskProgress, type WorkerPool } from '../../workers/index.js'
import { cleanUp, isAlive, startPool, TEST_HANDLERS, waitUntil } from './helpers.js'

let pool: WorkerPool

beforeAll(async () => {
  ({ pool } = await startPool({ kinds: { exec: { size: 2, slots: 1, handlerModules: [TEST_HANDLERS] }, model: { size: 1 } } }))
})
afterAll(cleanUp)

const readyExecWorkers = (): number => pool.stats().kinds.exec.workers
const errorOf = async (promise: Promise<unknown>): Promise<Error & { retryable?: boolean, remoteName?: string }> => {
  try {
    await promise
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection')
}

describe('lifecycle', () => {
  test('a pool refuses bad options when created, and submits before start', async () => {
    expect(() => createWorkerPool({ endpoint: 'tcp://127.0.0.1:0' })).toThrow(/dataDir, or both endpoint and token/)
    const pool = createWorkerPool({ endpoint: 'tcp://127.0.0.1:0', token: 'k'.repeat(43) })
    await expect(pool.submit('exec', { type: 'echo' })).rejects.toBeInstanceOf(PoolStoppedError)
    expect(pool.stats().state).toBe('idle')
    await pool.stop()
    await expect(pool.start()).rejects.toBeInstanceOf(PoolStoppedError)
  })

})

describe('serving tasks', () => {
  test('echo returns its input; stats and workers describe the pool', async () => {
    await expect(pool.submit('exec', { type: 'echo', input: { a: [1, 'two', null] } })).resolves.toEqual({ a: [1, 'two', null] })
    const stats = pool.stats()
    expect(stats.state).toBe('running')
    expect(stats.endpoint).toMatch(/^ipc:\/\/.*workers\.sock$/)
    expect(stats.kinds.exec).toMatchObject({ workers: 2, capacity: 2, size: 2, queued: 0, running: 0, idle: 2, external: 0 })
    expect(stats.kinds.model).toMatchObject({ workers: 1, capacity: 1, size: 1 })
    const workers = pool.workers()
    expect(workers.map(w => [w.kind, w.state, w.spawned])).toEqual(expect.arrayContaining([['exec', 'ready', true], ['model', 'ready', true]]))
    expect(workers.every(w => isAlive(w.pid))).toBe(true)
    // What GET /v1/node shows is exactly what the published schemas describe.
    expect(Compile(WorkerPoolStatsSchema).Check(stats)).toBe(true)
    expect(Compile(Type.Array(WorkerInfoSchema)).Check(workers)).toBe(true)
  })

  test('progress and log lines reach the submitter while the task runs', async () => {
    const progress: TaskProgress[] = []
    const logs: TaskLogLine[] = []
    const result = await pool.submit('exec', { type: 'hold', input: { ms: 10 } }, { onProgress: p => progress.push(p), onLog: l => logs.push(l) })
    expect(progress).toEqual([{ stage: 'started', done: 0, total: 1 }, { stage: 'done', done: 1, total: 1 }])
    expect(logs).toEqual([{ level: 'info', message: `holding in ${(result as { pid: number }).pid}` }])
  })

  test('failures come back as typed errors', async () => {
    const model = await errorOf(pool.submit('model', { type: 'generate', input: { prompt: 'hi' } }))
    expect(model.name).toBe('InvalidTaskDataError') // no model file, no settings: refused before anything loads
    expect((await errorOf(pool.submit('exec', { type: 'no-such-type' }))).name).toBe('UnsupportedTaskError')
    const failed = await errorOf(pool.submit('exec', { type: 'fail' }))
    expect(failed).toMatchObject({ name: 'TaskFailedError', remoteName: 'PurposefulError', retryable: false })
    expect((await errorOf(pool.submit('exec', { type: 'unserializable' }))).name).toBe('InvalidTaskDataError')
    expect((await errorOf(pool.submit('exec', { type: 'echo', input: { n: 1n } }))).name).toBe('InvalidTaskDataError')
    const spec = await errorOf(pool.runSandboxed({ command: [] }))
    expect(spec.name).toBe('InvalidSandboxSpecError')
    expect(pool.stats().kinds.exec.workers).toBe(2)
  })

  test('10k tasks through 2 workers: every result arrives once, none lost or duplicated', async () => {
    const before = pool.stats().kinds.exec.completed
    const started = Date.now()
    const results = await Promise.all(Array.from({ length: 10_000 }, async (_, i) => await pool.submit('exec', { type: 'echo', input: { i } })))
    expect(results.map(r => (r as { i: number }).i)).toEqual(Array.from({ length: 10_000 }, (_, i) => i))
    const stats = pool.stats()
    expect(stats.kinds.exec.completed - before).toBe(10_000)
    expect(stats.kinds.exec).toMatchObject({ queued: 0, running: 0, lost: 0 })
    expect(stats.frames.unexpectedResults).toBe(0)
    expect(Date.now() - started).toBeLessThan(20_000)
  })
})

describe('failing workers', () => {
  test('a worker killed with -9 mid-task: the task ends retryable, the worker is replaced, the pool serves on', async () => {
    const restartsBefore = pool.stats().kinds.exec.restarts
    const task = errorOf(pool.submit('exec', { type: 'hold', input: { ms: 30_000 } }))
    await waitUntil(() => pool.workers().some(w => w.kind === 'exec' && w.running === 1), 5000, 'task running')
    const victim = pool.workers().find(w => w.kind === 'exec' && w.running === 1)?.pid as number
    process.kill(victim, 'SIGKILL')
    const err = await task
    expect(err).toMatchObject({ name: 'WorkerLostError', retryable: true })
    await waitUntil(() => readyExecWorkers() === 2 && !pool.workers().some(w => w.pid === victim), 20_000, 'replacement ready')
    const stats = pool.stats()
    expect(stats.kinds.exec.restarts).toBe(restartsBefore + 1)
    expect(stats.kinds.exec.lost).toBeGreaterThanOrEqual(1)
    const results = await Promise.all(Array.from({ length: 20 }, async (_, i) => await pool.submit('exec', { type: 'echo', input: i })))
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })

  test('a hung worker (event loop blocked, no heartbeat) is killed and replaced', async () => {
    const task = errorOf(pool.submit('exec', { type: 'block', input: { ms: 120_000 } }))
    await waitUntil(() => pool.workers().some(w => w.kind === 'exec' && w.running === 1), 5000, 'task running')
    const hung = pool.workers().find(w => w.kind === 'exec' && w.running === 1)?.pid as number
    const started = Date.now()
    const err = await task
    expect(err).toMatchObject({ name: 'WorkerLostError', retryable: true })
    expect(Date.now() - started).toBeLessThan(60_000) // found by its silence, long before the block ends
    await waitUntil(() => !isAlive(hung), 5000, 'hung worker killed')
    await waitUntil(() => readyExecWorkers() === 2, 20_000, 'replacement ready')
    await expect(pool.submit('exec', { type: 'echo', input: 'after' })).resolves.toBe('after')
  })
})

describe('cancelling', () => {
  test('a queued task is cancelled without reaching a worker', async () => {
    const holds = [0, 1].map(async () => await pool.submit('exec', { type: 'hold', input: { ms: 400 } }))
    await waitUntil(() => pool.stats().kinds.exec.running === 2, 5000, 'both slots busy')
    const controller = new AbortController()
    const queued = pool.submit('exec', { type: 'echo', input: 'never' }, { signal: controller.signal })
    expect(pool.stats().kinds.exec.queued).toBe(1)
    controller.abort()
    await expect(queued).rejects.toBeInstanceOf(AbortedError)
    expect(pool.stats().kinds.exec.queued).toBe(0)
    await Promise.all(holds)
  })

  test('a running task is cancelled in its worker, which stays', async () => {
    const controller = new AbortController()
    const task = pool.submit('exec', { type: 'hold', input: { ms: 30_000 } }, { signal: controller.signal })
    await waitUntil(() => pool.stats().kinds.exec.running === 1, 5000, 'task running')
    const pids = pool.workers().map(w => w.pid)
    controller.abort()
    await expect(task).rejects.toMatchObject({ name: 'AbortedError' })
    expect(pool.workers().map(w => w.pid)).toEqual(pids)
    expect(pool.stats().kinds.exec.running).toBe(0)
  })

  test('a worker that ignores a cancel is killed after the grace period', async () => {
    const controller = new AbortController()
    const task = pool.submit('exec', { type: 'hold', input: { ms: 30_000, ignoreAbort: true } }, { signal: controller.signal })
    await waitUntil(() => pool.workers().some(w => w.kind === 'exec' && w.running === 1), 5000, 'task running')
    const stubborn = pool.workers().find(w => w.kind === 'exec' && w.running === 1)?.pid as number
    controller.abort()
    await expect(task).rejects.toMatchObject({ name: 'AbortedError' })
    await waitUntil(() => !isAlive(stubborn), 5000, 'stubborn worker killed')
    await waitUntil(() => readyExecWorkers() === 2, 20_000, 'replacement ready')
  })
})
