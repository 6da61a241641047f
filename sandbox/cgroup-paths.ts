/**
 * Pure parsing of /proc/self/cgroup and /proc/self/mountinfo into the host directories of this
 * process's own cgroups: one for cgroup v2, one per controller for v1. The sandbox creates its
 * task groups below them, so a node running inside a container or a systemd unit stays within
 * the limits set there.
 */

export interface MountInfo { root: string, mountPoint: string, fsType: string, superOptions: string[] }

export interface OwnCgroups {
  /** The v2 path ("0::/path"), or null without one. */
  v2: string | null
  /** v1 controller -> path; co-mounted controllers ("cpu,cpuacct") share a path. */
  v1: Map<string, string>
}

export function parseProcCgroup (text: string): OwnCgroups {
  const own: OwnCgroups = { v2: null, v1: new Map() }
  for (const line of text.split('\n')) {
    const first = line.indexOf(':')
    const second = line.indexOf(':', first + 1)
    if (first === -1 || second === -1) continue
    const id = line.slice(0, first)
    const controllers = line.slice(first + 1, second)
    const path = line.slice(second + 1)
    if (id === '0' && controllers === '') own.v2 = path
    else for (const controller of controllers.split(',')) if (controller !== '') own.v1.set(controller, path)
  }
  return own
}

const unescapeMount = (field: string): string =>
  field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)))

export function parseMountinfo (text: string): MountInfo[] {
  const mounts: MountInfo[] = []
  for (const line of text.split('\n')) {
    const fields = line.split(' ')
    const dash = fields.indexOf('-', 6)
    if (fields.length < 10 || dash === -1) continue
    mounts.push({
      root: unescapeMount(fields[3] ?? ''),
      mountPoint: unescapeMount(fields[4] ?? ''),
      fsType: fields[dash + 1] ?? '',
      superOptions: (fields[dash + 3] ?? '').split(','),
    })
  }
  return mounts
}

/** The host directory of `path` in the hierarchy of `mount`, or null when it is not visible. */
export function cgroupDirectory (mount: MountInfo, path: string): string | null {
  const root = mount.root === '/' ? '' : mount.root
  if (root !== '' && path !== root && !path.startsWith(`${root}/`)) return null
  const relative = path.slice(root.length).replace(/\/+$/, '')
  return `${mount.mountPoint.replace(/\/+$/, '')}${relative}`
}

/** The v2 directory of this process's cgroup, if a cgroup2 file system shows it. */
export function ownV2Directory (own: OwnCgroups, mounts: MountInfo[]): string | null {
  if (own.v2 === null) return null
  for (const mount of mounts.filter(m => m.fsType === 'cgroup2')) {
    const dir = cgroupDirectory(mount, own.v2)
    if (dir !== null) return dir
  }
  return null
}

/** controller -> v1 directory of this process's cgroup, for each controller asked that is mounted. */
export function ownV1Directories (own: OwnCgroups, mounts: MountInfo[], controllers: readonly string[]): Map<string, string> {
  const dirs = new Map<string, string>()
  for (const controller of controllers) {
    const path = own.v1.get(controller)
    const mount = mounts.find(m => m.fsType === 'cgroup' && m.superOptions.includes(controller))
    if (path === undefined || mount === undefined) continue
    const dir = cgroupDirectory(mount, path)
    if (dir !== null) dirs.set(controller, dir)
  }
  return dirs
}

/** Reads a flat keyed file ("key value" lines: memory.events, pids.events, oom_control, cpu.stat). */
export function parseKeyedCounts (text: string): Map<string, number> {
  const values = new Map<string, number>()
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/)
    if (key !== undefined && key !== '' && value !== undefined && /^\d+$/.test(value)) values.set(key, Number(value))
  }
  return values
}
