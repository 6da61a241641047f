/**
 * Claims of sandbox uids across processes: several nodes (or test workers) on one host draw
 * from the same range, and two runs must never share a uid (RLIMIT_NPROC counts per uid, and
 * cleaning up after a run without a cgroup kills every process of its uid). A claim is a file
 * created with O_EXCL in a root-only directory, holding the claimant's pid; a claim whose pid
 * is gone is stale and taken over, unless processes of the uid are still alive (then the uid is
 * skipped). /run is a tmpfs, so a reboot clears every claim.
 * Synchronous: a tmpfs create or unlink costs microseconds, and allocation must not interleave.
 */
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isAlive, uidHasProcesses } from './procfs.js'

export interface UidLocks {
  claim: (uid: number) => boolean
  release: (uid: number) => void
}

export function uidLocks (dir = defaultLockDir()): UidLocks {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const path = (uid: number): string => join(dir, `uid-${uid}`)
  const claim = (uid: number, retry = true): boolean => {
    try {
      writeFileSync(path(uid), String(process.pid), { flag: 'wx', mode: 0o600 })
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !retry) return false
      let owner = NaN
      try { owner = Number(readFileSync(path(uid), 'utf8')) } catch { /* released meanwhile */ }
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) return false
      // Its claimant died, but processes of the uid may live on (a probe's bwrap orphaned by a
      // killed node was seen sleeping for an hour): they would count against the next run's
      // RLIMIT_NPROC, and its clean-up would kill them. Such a uid is skipped, not taken over.
      if (uidHasProcesses(uid)) return false
      try { unlinkSync(path(uid)) } catch { /* someone else took it over */ }
      return claim(uid, false)
    }
  }
  return {
    claim: uid => claim(uid),
    release: uid => {
      try { unlinkSync(path(uid)) } catch { /* already gone */ }
    },
  }
}

function defaultLockDir (): string {
  try {
    mkdirSync('/run/gryphgen-sandbox', { recursive: true, mode: 0o700 })
    return '/run/gryphgen-sandbox'
  } catch {
    return join(tmpdir(), 'gryphgen-sandbox-uids')
  }
}
