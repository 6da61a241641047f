/**
 * Per-run cgroups: limits (memory, pids) and usage (CPU time, peak memory, OOM kills, pids-limit
 * hits) for all of a run's processes together. Task groups are created below this process's own
 * cgroup, so limits set on the node (container, systemd unit) still apply, and are removed
 * after the run; `removeStale` clears groups left by a node that crashed.
 * v1: one directory per hierarchy (memory, pids, cpuacct); the run's first process writes its
 * pid to each cgroup.procs (chowned to the run's uid). v2: one directory with memory and pids
 * enabled; the join must be done by root or the owner of the node's cgroup (see joinAsRoot).
 *
 * cgroupfs is in memory and never blocks, so it is read and written synchronously: a sample
 * of four files takes ~0.05 ms that way and ~1 ms through the thread pool, on every run.
 */
import { chownSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs'
import { getPriority } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import type { SandboxLimits } from './spec.js'
import { parseKeyedCounts } from './cgroup-paths.js'
import { isAlive } from './procfs.js'

export type CgroupKind = 'cgroup1' | 'cgroup2'

export interface CgroupSample {
  cpuMs: number
  peakMemoryBytes: number | null
  oomKills: number
  pidsLimitHits: number
}

export interface TaskCgroup {
  /** The cgroup.procs files the run's first process joins before it execs bubblewrap. */
  readonly procsFiles: readonly string[]
  sample: () => Promise<CgroupSample>
  /** Kills whatever is left, waits for the group to empty and removes it; false if it could not. */
  remove: () => Promise<boolean>
  /** Sets the memory and pids limits again (a warm sandbox's group, before its run); throws if refused. */
  setLimits: (limits: SandboxLimits) => void
  /** Starts the peak memory over from the current usage where the kernel allows it (v1). */
  resetPeak: () => void
}

export interface CgroupBackend {
  readonly kind: CgroupKind
  /** True when the join must run as root before dropping to the run's uid (v2 migration rules). */
  readonly joinAsRoot: boolean
  create: (name: string, limits: SandboxLimits, owner: { uid: number, gid: number } | null) => Promise<TaskCgroup>
  /** Removes empty task groups whose node process is gone. */
  removeStale: () => Promise<void>
}

export const TASK_GROUP_PREFIX = 'gryphgen-task-'
const REMOVE_TIMEOUT_MS = 5000
const MIB = 1024 * 1024

const readText = (path: string): string => readFileSync(path, 'utf8')
const readNumber = (path: string): number => Number(readText(path).trim())
const readCount = (path: string, key: string): number => parseKeyedCounts(readText(path)).get(key) ?? 0
function tryWrite (path: string, value: string): void {
  try { writeFileSync(path, value) } catch { /* optional knob missing on this kernel */ }
}

/**
 * The CPU weight of a run's group: the kernel's weight of the niceness the run inherits from
 * this process (sched_prio_to_weight: 1024 at nice 0, ~1.25x less per step), so that a task
 * group weighs against the node's threads what its processes' niceness says. null at nice 0
 * or below: the group keeps the default weight and no write is spent on it.
 */
export function runCpuShares (nice: number = getPriority()): number | null {
  if (nice <= 0) return null
  return Math.max(2, Math.round(1024 / 1.25 ** Math.min(19, nice)))
}

function killMembers (dir: string): void {
  let pids: string[] = []
  try { pids = readText(`${dir}/cgroup.procs`).split('\n').filter(line => line !== '') } catch { return }
  for (const pid of pids) {
    try { process.kill(Number(pid), 'SIGKILL') } catch { /* already gone */ }
  }
}

/** Removes the groups (killing what is left in them first, if any) and waits until they are gone. */
async function removeGroups (dirs: readonly string[], beforeKill?: () => void): Promise<boolean> {
  const deadline = Date.now() + REMOVE_TIMEOUT_MS
  let left = [...dirs]
  for (let attempt = 0; ; attempt++) {
    left = left.filter(dir => {
      try {
        rmdirSync(dir)
        return false
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
        if (attempt === 0) beforeKill?.()
        killMembers(dir)
        return true
      }
    })
    if (left.length === 0) return true
    if (Date.now() > deadline) return false
    await sleep(attempt < 10 ? 2 : 20)
  }
}

/** Creates `dirs`, then runs `configure`; on any failure removes what was made and rethrows. */
async function createGroups (dirs: readonly string[], configure: () => void): Promise<void> {
  const made: string[] = []
  try {
    for (const dir of dirs) {
      mkdirSync(dir)
      made.push(dir)
    }
    configure()
  } catch (err) {
    await removeGroups(made)
    throw err
  }
}

function removeStaleIn (parents: readonly string[]): void {
  for (const parent of parents) {
    let names: string[] = []
    try { names = readdirSync(parent) } catch { continue }
    for (const name of names) {
      const pid = Number(/^gryphgen-task-(\d+)-/.exec(name)?.[1] ?? NaN)
      if (Number.isNaN(pid) || isAlive(pid)) continue
      try { rmdirSync(`${parent}/${name}`) } catch { /* not empty: a later sweep retries */ }
    }
  }
}

/** cgroup v1: `dirs` maps memory, pids and cpuacct to this process's own group in each. */
export function cgroupV1Backend (dirs: ReadonlyMap<string, string>): CgroupBackend {
  const parents = [...new Set(dirs.values())]
  return {
    kind: 'cgroup1',
    joinAsRoot: false,
    removeStale: async () => { removeStaleIn(parents) },
    create: async (name, limits, owner) => {
      const groupOf = (controller: string): string => `${dirs.get(controller) ?? ''}/${name}`
      const [memory, pids, cpuacct] = [groupOf('memory'), groupOf('pids'), groupOf('cpuacct')]
      const unique = [...new Set([memory, pids, cpuacct])]
      // memsw may not be below the memory limit: raising needs it first, lowering after.
      const setLimits = (next: SandboxLimits): void => {
        tryWrite(`${memory}/memory.memsw.limit_in_bytes`, String(next.memoryMb * MIB))
        writeFileSync(`${memory}/memory.limit_in_bytes`, String(next.memoryMb * MIB))
        tryWrite(`${memory}/memory.memsw.limit_in_bytes`, String(next.memoryMb * MIB))
        writeFileSync(`${pids}/pids.max`, String(next.pids))
      }
      await createGroups(unique, () => {
        setLimits(limits)
        const shares = runCpuShares()
        // cpu.shares exists where the cpu controller is mounted with cpuacct (the usual layout).
        if (shares !== null) tryWrite(`${cpuacct}/cpu.shares`, String(shares))
        if (owner !== null) for (const dir of unique) chownSync(`${dir}/cgroup.procs`, owner.uid, owner.gid)
      })
      return {
        procsFiles: unique.map(dir => `${dir}/cgroup.procs`),
        sample: async () => ({
          cpuMs: readNumber(`${cpuacct}/cpuacct.usage`) / 1e6,
          peakMemoryBytes: readNumber(`${memory}/memory.max_usage_in_bytes`),
          oomKills: readCount(`${memory}/memory.oom_control`, 'oom_kill'),
          pidsLimitHits: readCount(`${pids}/pids.events`, 'max'),
        }),
        remove: async () => await removeGroups(unique),
        setLimits,
        resetPeak: () => { tryWrite(`${memory}/memory.max_usage_in_bytes`, '0') },
      }
    },
  }
}

/** cgroup v2: `parent` is a group whose subtree_control enables memory and pids. */
export function cgroupV2Backend (parent: string, joinAsRoot: boolean): CgroupBackend {
  return {
    kind: 'cgroup2',
    joinAsRoot,
    removeStale: async () => { removeStaleIn([parent]) },
    create: async (name, limits, owner) => {
      const dir = `${parent}/${name}`
      const setLimits = (next: SandboxLimits): void => {
        writeFileSync(`${dir}/memory.max`, String(next.memoryMb * MIB))
        writeFileSync(`${dir}/pids.max`, String(next.pids))
      }
      await createGroups([dir], () => {
        setLimits(limits)
        tryWrite(`${dir}/memory.swap.max`, '0')
        const shares = runCpuShares()
        // cpu.weight (1-10000, default 100) exists where the cpu controller is delegated too.
        if (shares !== null) tryWrite(`${dir}/cpu.weight`, String(Math.max(1, Math.round(shares * 100 / 1024))))
        if (owner !== null && !joinAsRoot) chownSync(`${dir}/cgroup.procs`, owner.uid, owner.gid)
      })
      const peak = (): number | null => {
        try { return readNumber(`${dir}/memory.peak`) } catch { return null } // kernels before 5.19
      }
      return {
        procsFiles: [`${dir}/cgroup.procs`],
        sample: async () => ({
          cpuMs: readCount(`${dir}/cpu.stat`, 'usage_usec') / 1000,
          peakMemoryBytes: peak(),
          oomKills: readCount(`${dir}/memory.events`, 'oom_kill'),
          pidsLimitHits: readCount(`${dir}/pids.events`, 'max'),
        }),
        remove: async () => await removeGroups([dir], () => { tryWrite(`${dir}/cgroup.kill`, '1') }),
        setLimits,
        // memory.peak is reset per open file only (6.12+): a warm run's peak includes its set-up.
        resetPeak: () => {},
      }
    },
  }
}
