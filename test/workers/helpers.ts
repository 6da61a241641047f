/** Helpers for the worker pool's tests: temp data dirs, pools that clean up, process checks. */
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { silentLogger } from '../../base/index.js'
import { PATIENCE_MS } from '../helpers/nodes.js'
import { listProcesses } from '../../sandbox/procfs.js'
import { createWorkerPool, type WorkerPool, type WorkerPoolInit } from '../../workers/index.js'

export const TEST_HANDLERS = fileURLToPath(new URL('./fixtures/handlers.ts', import.meta.url))

/**
 * Faster failure detection than the real defaults (1 s / 10 s), yet generous enough that a
 * worker importing node-llama-cpp on a busy machine (seconds of module loading, event loop
 * blocked) is not taken for a hung one.
 */
export const FAST = { heartbeatIntervalMs: 250, heartbeatTimeoutMs: 5000, cancelGraceMs: 1500, killGraceMs: 1000, startTimeoutMs: 60_000 } as const

const dirs: string[] = []
const pools: WorkerPool[] = []

export async function tempDataDir (): Promise<string> {
  // Short: an ipc socket path must fit in 107 bytes.
  const dir = await mkdtemp(join(tmpdir(), 'gw-'))
  dirs.push(dir)
  return dir
}

export async function startPool (init: Partial<WorkerPoolInit> & { dataDir?: string } = {}): Promise<{ pool: WorkerPool, dataDir: string }> {
  const dataDir = init.dataDir ?? await tempDataDir()
  const pool = createWorkerPool({ logger: silentLogger(), ...FAST, ...init, dataDir })
  pools.push(pool)
  await pool.start({ signal: AbortSignal.timeout(PATIENCE_MS) })
  return { pool, dataDir }
}

/** Stops every pool the tests started and removes their dirs. */
export async function cleanUp (): Promise<void> {
  await Promise.all(pools.splice(0).map(async pool => await pool.stop({ deadlineMs: 0 })))
  await Promise.all(dirs.splice(0).map(async dir => await rm(dir, { recursive: true, force: true })))
}

/** The process exists and is not a zombie (an orphan's zombie waits for pid 1 to reap it). */
export function isAlive (pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** Live host processes whose command line contains `text`. */
export async function processesWith (text: string): Promise<number[]> {
  return (await listProcesses()).filter(p => p.cmdline.includes(text) && p.state !== 'Z' && p.pid !== process.pid).map(p => p.pid)
}

/** Polls `check` until it returns true; fails after `timeoutMs`. */
/** Polls `check` until it holds; gives up after `timeoutMs` (never less than PATIENCE_MS: deadlines are safety nets). */
export async function waitUntil (check: () => boolean | Promise<boolean>, timeoutMs = PATIENCE_MS, what = 'condition'): Promise<void> {
  timeoutMs = Math.max(timeoutMs, PATIENCE_MS)
  const deadline = Date.now() + timeoutMs
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`)
    await sleep(20)
  }
}
