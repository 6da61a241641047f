/**
 * CPU priority of a worker process. Linux's setpriority acts on one thread, and a thread
 * inherits the niceness of the thread that starts it: lowering every thread the process has
 * when it starts (before it loads a model or runs a task) lowers everything it will ever run,
 * sandboxed task processes (forked from it) and llama.cpp's compute threads included. The node
 * itself keeps its own priority, so its control plane (API, auction, ledger, leases) is served
 * first whenever the cores are busy with task work. Unprivileged processes may only raise their
 * niceness; a failure is logged and the worker runs at the priority it has.
 */
import { readdirSync } from 'node:fs'
import { getPriority, setPriority } from 'node:os'
import type { Logger } from '../base/index.js'

export const MAX_NICE = 19

/** Sets `nice` on every thread of this process; returns how many threads it was set on. */
export function lowerOwnPriority (nice: number, logger: Logger): number {
  if (nice <= 0) return 0
  let tids: number[]
  try {
    tids = readdirSync('/proc/self/task').map(Number).filter(Number.isInteger)
  } catch {
    tids = [process.pid] // no procfs: the main thread at least
  }
  let set = 0
  for (const tid of tids) {
    try {
      if (getPriority(tid) < nice) setPriority(tid, nice)
      set++
    } catch (err) {
      logger.warn({ err, tid, nice }, 'could not lower the worker thread priority')
    }
  }
  logger.debug({ nice, threads: set }, 'worker priority lowered')
  return set
}

