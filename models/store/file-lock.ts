/**
 * The lock shared by the processes that use one model store. It is held only while the manifest
 * is read, changed and rewritten (milliseconds, never during a copy).
 * - Mutual exclusion across processes: proper-lockfile creates the lock as a directory with
 *   mkdir, which is atomic, so at most one process holds a live lock. Within one process,
 *   callers are serialised the same way.
 * - A dead holder does not block the store: the holder refreshes the lock's mtime every
 *   staleMs/4, but no more often than once a second. A lock not refreshed for staleMs is taken
 *   over. A holder that exits normally or on a signal removes its lock. One killed with SIGKILL
 *   leaves it behind, and the next process waits up to staleMs before taking it over.
 * - Waiting is bounded: after waitMs it fails with DataDirError. The caller's signal also ends
 *   the wait (AbortedError).
 * - Limits: a holder whose event loop stalls for longer than staleMs looks dead and loses the
 *   lock. Two waiters that take over the same stale lock at the same moment can both go on.
 *   In either case the manifest stays whole (it is replaced by rename), and at worst one
 *   change is lost.
 */
import { unlink } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { lock } from 'proper-lockfile'
import { DataDirError } from '../../base/index.js'
import { checkAborted } from '../errors.js'

export interface FileLockOptions {
  signal?: AbortSignal
  /** How long to wait for a lock held by someone else before DataDirError. Default 30 s. */
  waitMs?: number
  /**
   * How long a lock can go without a refresh before it is taken over. Default 10 s.
   * proper-lockfile raises anything under 2 s to 2 s. Every process sharing a lock must use
   * the same value.
   */
  staleMs?: number
}

const WAIT_MS = 30_000
const STALE_MS = 10_000
const POLL_MS = 10

export async function withFileLock<T> (path: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const release = await acquire(path, options)
  try {
    return await fn()
  } finally {
    // Fails only when the lock was already taken over (see Limits above). Nothing is left to undo.
    await release().catch(() => {})
  }
}

async function acquire (path: string, options: FileLockOptions): Promise<() => Promise<void>> {
  const staleMs = options.staleMs ?? STALE_MS
  const deadline = Date.now() + (options.waitMs ?? WAIT_MS)
  let removedLegacyFile = false
  for (;;) {
    checkAborted(options.signal, `waiting for the lock ${path}`)
    try {
      return await lock(path, {
        lockfilePath: path,
        realpath: false,
        stale: staleMs,
        update: staleMs / 4,
        // By default proper-lockfile throws this from a timer, which would crash the node.
        // Losing the lock is one of the limits stated above, so it is ignored here.
        onCompromised: () => {},
      })
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOTDIR' && !removedLegacyFile) {
        // Earlier versions made the lock a plain file. proper-lockfile found this one stale
        // but can remove only directories, so the file is removed here, once.
        removedLegacyFile = true
        await unlink(path).catch(() => {})
        continue
      }
      if (code !== 'ELOCKED') throw new DataDirError(`cannot take the lock ${path}: ${code ?? (err as Error).message}`, { cause: err })
      if (Date.now() > deadline) throw new DataDirError(`the model store is locked (${path}) by another process`)
      // An abort ends the sleep early. The check at the top of the loop then throws AbortedError.
      await sleep(POLL_MS, undefined, { signal: options.signal }).catch(() => {})
    }
  }
}
