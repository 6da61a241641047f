/**
 * A lock file shared by the processes that use one model store, held only while the manifest is
 * read, changed and rewritten (milliseconds, never during a copy). It holds the owner's pid; a
 * lock whose process is gone is taken over. Two waiters taking over the same stale lock at once
 * may both go on: the manifest stays whole (it is replaced by rename), at worst one change is lost.
 */
import { readFile, stat, unlink, writeFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { DataDirError } from '../../base/index.js'

const WAIT_MS = 10_000
const POLL_MS = 10

export async function withFileLock<T> (path: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx', mode: 0o600 })
      break
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'EEXIST') throw new DataDirError(`cannot create the lock ${path}: ${code ?? (err as Error).message}`, { cause: err })
      if (await isStale(path)) { await unlink(path).catch(() => {}); continue }
      if (Date.now() > deadline) throw new DataDirError(`the model store is locked (${path}) by another process`)
      await sleep(POLL_MS)
    }
  }
  try {
    return await fn()
  } finally {
    await unlink(path).catch(() => {})
  }
}

async function isStale (path: string): Promise<boolean> {
  try {
    const text = await readFile(path, 'utf8')
    const pid = Number.parseInt(text, 10)
    // An empty lock is one whose owner died between creating and writing it (or is just writing it).
    if (!Number.isSafeInteger(pid) || pid <= 0) return Date.now() - (await stat(path)).mtimeMs > 5_000
    if (pid === process.pid) return false
    try { process.kill(pid, 0); return false } catch (err) { return (err as NodeJS.ErrnoException).code === 'ESRCH' }
  } catch {
    return false // gone already, or unreadable: try again
  }
}
