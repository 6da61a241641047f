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

test('a sandboxed command\'s output reaches the submitter line by line while it runs', async () => {
  const lines: Array<{ stream?: string, message: string, at: number }> = []
  const started = Date.now()
  const result = await pool.runSandboxed({ command: ['sh', '-c', 'echo one; echo oops >&2; sleep 0.6; printf "two\\nthree"'] }, {
    onLog: line => { lines.push({ stream: line.stream, message: line.message, at: Date.now() - started }) },
  })
  expect(result.stdout).toBe('one\ntwo\nthree')
  expect(lines.filter(l => l.stream === 'stdout').map(l => l.message)).toEqual(['one', 'two', 'three'])
  expect(lines.filter(l => l.stream === 'stderr').map(l => l.message)).toEqual(['oops'])
  // 'one' came before the command slept, not with the result.
  const one = lines.find(l => l.message === 'one')?.at ?? Infinity
  const two = lines.find(l => l.message === 'two')?.at ?? 0
  expect(two - one).toBeGreaterThanOrEqual(400)
})
