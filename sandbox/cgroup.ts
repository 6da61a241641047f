/**
 * Per-run cgroups: limits (memory, pids) and usage (CPU time, peak memory, OOM kills, pids-limit
 * hits) for all of a run's processes together. Task groups are created below this process's own
 * cgroup, so limits set on the node (container, systemd unit) still apply, and are removed
 * after the run; `removeStale` clears groups left by a node that crashed.
 * v1: one directory per hierarchy (memory, pids, cpuacct); the run's first process writes its
 * pid to each cgroup.procs (chowned to the run's uid). v2: one directory with memory and pids
 * enabled; the join must be done by root or the owner of the node's cgroup (see joinAsRoot).
 */
import { chown, mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import type { SandboxLimits } from './spec.js'
import { parseKeyedCounts } from './cgroup-paths.js'

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

const readText = async (path: string): Promise<string> => await readFile(path, 'utf8')
const readNumber = async (path: string): Promise<number> => Number((await readText(path)).trim())
const readCount = async (path: string, key: string): Promise<number> => parseKeyedCounts(await readText(path)).get(key) ?? 0
async function tryWrite (path: string, value: string): Promise<void> {
  try { await writeFile(path, value) } catch { /* optional knob missing on this kernel */ }
}

async function readProcs (dir: string): Promise<number[]> {
  try {
    return (await readText(`${dir}/cgroup.procs`)).split('\n').filter(line => line !== '').map(Number)
  } catch {
    return []
  }
}

function killAll (pids: number[]): void {
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
  }
}

/** Removes the groups (killing what is left in them first, if any) and waits until they are gone. */
async function removeGroups (dirs: readonly string[], beforeKill?: () => Promise<void>): Promise<boolean> {
  const deadline = Date.now() + REMOVE_TIMEOUT_MS
  let left = [...dirs]
  for (let attempt = 0; ; attempt++) {
    const removed = await Promise.all(left.map(async dir => {
      try {
        await rmdir(dir)
        return true
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true
        if (attempt === 0) await beforeKill?.()
        killAll(await readProcs(dir))
        return false
      }
    }))
    left = left.filter((_dir, i) => removed[i] !== true)
    if (left.length === 0) return true
    if (Date.now() > deadline) return false
    await sleep(attempt < 10 ? 2 : 20)
  }
}

async function removeStaleIn (parents: readonly string[]): Promise<void> {
  for (const parent of parents) {
    let names: string[] = []
    try { names = await readdir(parent) } catch { continue }
    for (const name of names) {
      const pid = Number(/^gryphgen-task-(\d+)-\d+$/.exec(name)?.[1] ?? NaN)
      if (Number.isNaN(pid) || isAlive(pid)) continue
      try { await rmdir(`${parent}/${name}`) } catch { /* not empty: a later sweep retries */ }
    }
  }
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** cgroup v1: `dirs` maps memory, pids and cpuacct to this process's own group in each. */
export function cgroupV1Backend (dirs: ReadonlyMap<string, string>): CgroupBackend {
  const parents = [...new Set(dirs.values())]
  return {
    kind: 'cgroup1',
    joinAsRoot: false,
    removeStale: async () => { await removeStaleIn(parents) },
    create: async (name, limits, owner) => {
      const groups = new Map([...dirs].map(([controller, parent]) => [controller, `${parent}/${name}`]))
      const unique = [...new Set(groups.values())]
      const memory = groups.get('memory') ?? ''
      try {
        await Promise.all(unique.map(async dir => { await mkdir(dir) }))
        await Promise.all([
          writeFile(`${memory}/memory.limit_in_bytes`, String(limits.memoryMb * MIB))
            .then(async () => { await tryWrite(`${memory}/memory.memsw.limit_in_bytes`, String(limits.memoryMb * MIB)) }),
          writeFile(`${groups.get('pids') ?? ''}/pids.max`, String(limits.pids)),
          ...unique.map(async dir => { if (owner !== null) await chown(`${dir}/cgroup.procs`, owner.uid, owner.gid) }),
        ])
      } catch (err) {
        await removeGroups(unique)
        throw err
      }
      return {
        procsFiles: unique.map(dir => `${dir}/cgroup.procs`),
        sample: async () => {
          const [cpuNs, peakMemoryBytes, oomKills, pidsLimitHits] = await Promise.all([
            readNumber(`${groups.get('cpuacct') ?? ''}/cpuacct.usage`),
            readNumber(`${memory}/memory.max_usage_in_bytes`),
            readCount(`${memory}/memory.oom_control`, 'oom_kill'),
            readCount(`${groups.get('pids') ?? ''}/pids.events`, 'max'),
          ])
          return { cpuMs: cpuNs / 1e6, peakMemoryBytes, oomKills, pidsLimitHits }
        },
        remove: async () => await removeGroups(unique),
      }
    },
  }
}

/** cgroup v2: `parent` is a group whose subtree_control enables memory and pids. */
export function cgroupV2Backend (parent: string, joinAsRoot: boolean): CgroupBackend {
  return {
    kind: 'cgroup2',
    joinAsRoot,
    removeStale: async () => { await removeStaleIn([parent]) },
    create: async (name, limits, owner) => {
      const dir = `${parent}/${name}`
      try {
        await mkdir(dir)
        await writeFile(`${dir}/memory.max`, String(limits.memoryMb * MIB))
        await tryWrite(`${dir}/memory.swap.max`, '0')
        await writeFile(`${dir}/pids.max`, String(limits.pids))
        if (owner !== null && !joinAsRoot) await chown(`${dir}/cgroup.procs`, owner.uid, owner.gid)
      } catch (err) {
        await removeGroups([dir])
        throw err
      }
      return {
        procsFiles: [`${dir}/cgroup.procs`],
        sample: async () => {
          const [cpuUs, peakMemoryBytes, oomKills, pidsLimitHits] = await Promise.all([
            readCount(`${dir}/cpu.stat`, 'usage_usec'),
            readNumber(`${dir}/memory.peak`).catch(() => null),
            readCount(`${dir}/memory.events`, 'oom_kill'),
            readCount(`${dir}/pids.events`, 'max'),
          ])
          return { cpuMs: cpuUs / 1000, peakMemoryBytes, oomKills, pidsLimitHits }
        },
        remove: async () => await removeGroups([dir], async () => { await tryWrite(`${dir}/cgroup.kill`, '1') }),
      }
    },
  }
}
