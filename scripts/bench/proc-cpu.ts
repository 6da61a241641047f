/**
 * CPU time (user + system, ms) a process has used so far, from /proc/<pid>/stat (Linux; clock
 * ticks of 10 ms): a figure for CPU per task that a crowded machine does not inflate the way
 * it does wall time or a profile's samples.
 */
import { readdirSync, readFileSync } from 'node:fs'

export function processCpuMs (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10 // utime, stime (fields 14 and 15 of stat)
}

/** This process's own CPU time (user + system, ms). */
export function ownCpuMs (): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

/** CPU time (ms) of each thread of process `pid` so far, by thread id, with the thread's name (`comm`). */
export function threadCpuMs (pid: number): Map<number, { name: string, ms: number }> {
  const threads = new Map<number, { name: string, ms: number }>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      threads.set(Number(tid), { name, ms: (Number(fields[11]) + Number(fields[12])) * 10 })
    } catch {} // the thread ended meanwhile
  }
  return threads
}

/**
 * Where a process's CPU went between two `threadCpuMs` readings, by thread: the main thread
 * (the event loop: JavaScript, and what it calls synchronously) apart, the others summed by name
 * (V8's GC and compiler helpers, libuv's pool where LevelDB writes and fsyncs, LevelDB's own
 * compaction thread). Largest first.
 */
export function threadBreakdown (pid: number, before: ReadonlyMap<number, { name: string, ms: number }>, after: ReadonlyMap<number, { name: string, ms: number }>): Array<{ thread: string, ms: number }> {
  const sums = new Map<string, number>()
  for (const [tid, t] of after) {
    const thread = tid === pid ? `main (${t.name})` : t.name
    sums.set(thread, (sums.get(thread) ?? 0) + t.ms - (before.get(tid)?.ms ?? 0))
  }
  return [...sums].map(([thread, ms]) => ({ thread, ms })).filter(t => t.ms > 0).sort((a, b) => b.ms - a.ms)
}
