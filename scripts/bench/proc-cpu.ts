/**
 * CPU time (user + system, ms) a process has used so far, from /proc/<pid>/stat (Linux; clock
 * ticks of 10 ms): a figure for CPU per task that a crowded machine does not inflate the way
 * it does wall time or a profile's samples.
 */
import { readFileSync } from 'node:fs'

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
