/**
 * The exec kind runs sandboxes: a result comes back whole and checked, and cancelling a
 * running task kills its sandbox before the submitter hears AbortedError.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, expect, test } from 'vitest'
import type { WorkerPool } from '../../workers/index.js'
import { cleanUp, processesWith, startPool, waitUntil } from './helpers.js'

let pool: WorkerPool

beforeAll(async () => {
  ({ pool } = await startPool({ kinds: { exec: { size: 1 }, model: { size: 0 } } }))
})
afterAll(cleanUp)

test('a sandbox run through the pool returns its result', async () => {
  const result = await pool.runSandboxed({
    files: { 'in.txt': 'hello' },
    command: ['sh', '-c', 'cat in.txt; echo " world" > out.txt; exit 3'],
    collect: ['out.txt'],
  })
  expect(result).toMatchObject({ exitCode: 3, stdout: 'hello', limitHit: null, timedOut: false })
  expect(result.files).toEqual([expect.objectContaining({ path: 'out.txt', content: ' world\n' })])
})

test('cancelling a running exec task kills its sandbox', async () => {
  const marker = `gryphgen-marker-${randomUUID()}`
  const controller = new AbortController()
  const run = pool.runSandboxed({ command: ['sh', '-c', `sleep 30; echo ${marker}`], limits: { wallMs: 60_000 } }, { signal: controller.signal })
  run.catch(() => {})
  await waitUntil(async () => (await processesWith(marker)).length > 0, 10_000, 'sandboxed process running')
  controller.abort()
  await expect(run).rejects.toMatchObject({ name: 'AbortedError' })
  expect(await processesWith(marker)).toEqual([])
  expect(pool.stats().kinds.exec).toMatchObject({ running: 0, workers: 1, cancelled: 1 })
  await expect(pool.submit('exec', { type: 'echo', input: 1 })).resolves.toBe(1)
})
