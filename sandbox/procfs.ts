/**
 * Reads the host's process table from /proc: used to make sure nothing of a run survives it
 * where no cgroup can tell (rlimit backend), and by the tests and the benchmark to check it.
 */
import { readdirSync, statSync } from 'node:fs'
import { readFile, readdir } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'

export interface HostProcess { pid: number, uid: number, state: string, threads: number, cmdline: string }

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Whether any process (a zombie too) is owned by `uid` (/proc/PID's owner: the effective uid).
 * Synchronous, a stat a process: for the rare takeover of a stale uid claim (uid-locks.ts).
 */
export function uidHasProcesses (uid: number): boolean {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (statSync(`/proc/${name}`).uid === uid) return true
    } catch { /* exited meanwhile */ }
  }
  return false
}

export async function listProcesses (): Promise<HostProcess[]> {
  const processes: HostProcess[] = []
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const status = await readFile(`/proc/${name}/status`, 'utf8')
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? NaN)
      const state = /^State:\s+(\S+)/m.exec(status)?.[1] ?? '?'
      const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1)
      const cmdline = (await readFile(`/proc/${name}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim()
      processes.push({ pid: Number(name), uid, state, threads, cmdline })
    } catch { /* exited meanwhile */ }
  }
  return processes
}

/**
 * Kills every live process of `uid` until none is left; false if some remain after `timeoutMs`.
 * Zombies are left to their parent: they run nothing and cannot be killed.
 */
export async function killUid (uid: number, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const left = (await listProcesses()).filter(p => p.uid === uid && p.state !== 'Z')
    if (left.length === 0) return true
    if (Date.now() > deadline) return false
    for (const { pid } of left) {
      try { process.kill(pid, 'SIGKILL') } catch { /* gone */ }
    }
    await sleep(10)
  }
}

/**
 * This process's open fds >= `from`. Each must be masked in a sandbox launch: the node may have
 * inherited some without close-on-exec (a pipe or socket of whatever started it), and those
 * would leak into the sandbox. Telling them apart (/proc/self/fdinfo) costs ~0.05 ms an fd, so
 * all are masked. Synchronous: it runs right before the synchronous spawn, so none changes between.
 */
export function openFdsFrom (from: number): number[] {
  return readdirSync('/proc/self/fd').map(Number).filter(fd => fd >= from).sort((a, b) => a - b)
}
