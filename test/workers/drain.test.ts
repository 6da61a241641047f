/**
 * stop() drains: no new tasks, queued ones end with PoolStoppedError, running ones finish
 * within the deadline; past it they are cut off and their workers (and sandboxes) killed.
 * Either way no worker process outlives stop(), nor a node killed with -9.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { afterAll, expect, test } from 'vitest'
import { cleanUp, isAlive, processesWith, startPool, tempDataDir, TEST_HANDLERS, waitUntil } from './helpers.js'

const POOL_PROCESS = fileURLToPath(new URL('./fixtures/pool-process.ts', import.meta.url))

afterAll(cleanUp)

const settle = async (promise: Promise<unknown>): Promise<{ ok: boolean, name?: string }> =>
  await promise.then(() => ({ ok: true }), (err: Error) => ({ ok: false, name: err.name }))

test('tasks in flight finish; queued ones are refused; no worker survives', async () => {
  const { pool } = await startPool({ kinds: { exec: { size: 2, handlerModules: [TEST_HANDLERS] }, model: { size: 0 } } })
  const pids = pool.workers().map(w => w.pid)
  const running = [0, 1].map(async () => await settle(pool.submit('exec', { type: 'hold', input: { ms: 500 } })))
  await waitUntil(() => pool.stats().kinds.exec.running === 2, 5000, 'both running')
  const queued = [0, 1].map(async () => await settle(pool.submit('exec', { type: 'echo', input: 'late' })))
  const stopped = pool.stop({ deadlineMs: 10_000 })
  await expect(pool.submit('exec', { type: 'echo' })).rejects.toMatchObject({ name: 'PoolStoppedError', retryable: true })
  await stopped
  expect(await Promise.all(running)).toEqual([{ ok: true }, { ok: true }])
  expect(await Promise.all(queued)).toEqual([{ ok: false, name: 'PoolStoppedError' }, { ok: false, name: 'PoolStoppedError' }])
  expect(pool.stats().state).toBe('stopped')
  expect(pids.filter(isAlive)).toEqual([])
})

test('past the deadline running tasks are cut off and workers and sandboxes killed', async () => {
  const { pool } = await startPool({ kinds: { exec: { size: 2, handlerModules: [TEST_HANDLERS] }, model: { size: 0 } } })
  const pids = pool.workers().map(w => w.pid)
  const marker = `gryphgen-marker-${randomUUID()}`
  const sandbox = settle(pool.runSandboxed({ command: ['sh', '-c', `sleep 30; echo ${marker}`], limits: { wallMs: 60_000 } }))
  const stubborn = settle(pool.submit('exec', { type: 'hold', input: { ms: 30_000, ignoreAbort: true } }))
  await waitUntil(async () => pool.stats().kinds.exec.running === 2 && (await processesWith(marker)).length > 0, 10_000, 'both running')
  const started = Date.now()
  await pool.stop({ deadlineMs: 300 })
  expect(Date.now() - started).toBeLessThan(5000)
  expect(await sandbox).toEqual({ ok: false, name: 'PoolStoppedError' })
  expect(await stubborn).toEqual({ ok: false, name: 'PoolStoppedError' })
  expect(pids.filter(isAlive)).toEqual([])
  await waitUntil(async () => (await processesWith(marker)).length === 0, 3000, 'sandbox gone')
})

test('workers of a node killed with -9 exit by themselves (their control pipe closes)', async () => {
  const node = spawn(process.execPath, ['--import', 'tsx', POOL_PROCESS, await tempDataDir()], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    const [line] = await once(node.stdout, 'data') as [Buffer]
    const pids = JSON.parse(line.toString()) as number[]
    expect(pids).toHaveLength(2)
    expect(pids.every(isAlive)).toBe(true)
    node.kill('SIGKILL')
    await waitUntil(() => !pids.some(isAlive), 5000, 'orphaned workers gone')
  } finally {
    if (node.exitCode === null && node.signalCode === null) node.kill('SIGKILL')
  }
})
