/**
 * Chooses the limits backend once, at start-up: cgroup v2 where this process's cgroup is a
 * delegated, writable subtree with the memory and pids controllers; else cgroup v1 where the
 * memory, pids and cpuacct hierarchies are writable; else none (rlimits only). Each candidate
 * is proven by creating and removing a real task group, never assumed from mount flags.
 *
 * v2's "no internal processes" rule forbids enabling controllers for the children of a group
 * that holds processes. When the node is the only process in its group, it moves itself into
 * a leaf `gryphgen-node` below it and enables memory and pids there (what a service started
 * with systemd's Delegate=yes is expected to do); otherwise v2 is not used.
 */
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises'
import type { Logger } from '../base/index.js'
import { cgroupV1Backend, cgroupV2Backend, type CgroupBackend, TASK_GROUP_PREFIX } from './cgroup.js'
import { ownV1Directories, ownV2Directory, parseMountinfo, parseProcCgroup } from './cgroup-paths.js'
import { DEFAULT_LIMITS } from './spec.js'

const V1_CONTROLLERS = ['memory', 'pids', 'cpuacct'] as const

export interface DetectInit {
  logger: Logger
  /** Where to read the process's cgroup facts (tests point these at fixtures). */
  procCgroup?: string
  mountinfo?: string
}

export async function detectCgroupBackend (init: DetectInit): Promise<CgroupBackend | null> {
  let own, mounts
  try {
    own = parseProcCgroup(await readFile(init.procCgroup ?? '/proc/self/cgroup', 'utf8'))
    mounts = parseMountinfo(await readFile(init.mountinfo ?? '/proc/self/mountinfo', 'utf8'))
  } catch (err) {
    init.logger.debug({ err }, 'no cgroup information')
    return null
  }
  const v2Dir = ownV2Directory(own, mounts)
  if (v2Dir !== null) {
    const backend = await tryV2(v2Dir, init.logger)
    if (backend !== null) return backend
  }
  const v1Dirs = ownV1Directories(own, mounts, V1_CONTROLLERS)
  if (v1Dirs.size === V1_CONTROLLERS.length) {
    const backend = cgroupV1Backend(v1Dirs)
    if (await proves(backend, init.logger)) return backend
  }
  return null
}

/** Creates and removes a task group; true when both work. */
async function proves (backend: CgroupBackend, logger: Logger): Promise<boolean> {
  try {
    await backend.removeStale()
    const group = await backend.create(`${TASK_GROUP_PREFIX}${process.pid}-probe`, DEFAULT_LIMITS, null)
    await group.sample()
    return await group.remove()
  } catch (err) {
    logger.debug({ err, kind: backend.kind }, 'cgroup backend not usable')
    return false
  }
}

const hasControllers = (text: string): boolean => {
  const enabled = text.trim().split(/\s+/)
  return enabled.includes('memory') && enabled.includes('pids')
}

async function tryV2 (dir: string, logger: Logger): Promise<CgroupBackend | null> {
  const joinAsRoot = process.getuid?.() === 0
  try {
    if (!hasControllers(await readFile(`${dir}/cgroup.subtree_control`, 'utf8'))) {
      if (!await enableControllers(dir, logger)) return null
    }
  } catch (err) {
    logger.debug({ err }, 'cgroup v2 not delegated here')
    return null
  }
  const backend = cgroupV2Backend(dir, joinAsRoot)
  return await proves(backend, logger) ? backend : null
}

async function enableControllers (dir: string, logger: Logger): Promise<boolean> {
  const procs = (await readFile(`${dir}/cgroup.procs`, 'utf8')).split('\n').filter(line => line !== '')
  if (procs.length > 0 && !(procs.length === 1 && procs[0] === String(process.pid))) return false
  const leaf = `${dir}/gryphgen-node`
  try {
    if (procs.length > 0) {
      await mkdir(leaf, { recursive: true })
      await writeFile(`${leaf}/cgroup.procs`, String(process.pid))
    }
    await writeFile(`${dir}/cgroup.subtree_control`, '+memory +pids')
    logger.info({ dir }, 'moved the node into a leaf cgroup to delegate memory and pids to sandboxes')
    return true
  } catch (err) {
    logger.debug({ err }, 'could not enable cgroup v2 controllers')
    if (procs.length > 0) {
      await writeFile(`${dir}/cgroup.procs`, String(process.pid)).catch(() => {})
      await rmdir(leaf).catch(() => {})
    }
    return false
  }
}
