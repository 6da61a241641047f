/**
 * The sandbox profile, as pure functions: the bubblewrap arguments, the host-side launcher
 * script (join the cgroup, set rlimits, drop to the run's uid, exec bubblewrap) and the
 * in-sandbox script that returns produced files. Nothing here touches the system; run.ts
 * supplies the file descriptors and paths.
 *
 * Inside: new user, pid, mount, network (a private loopback only), ipc and uts namespaces,
 * uid/gid 65534, no capabilities, a new session, a seccomp filter, read-only /usr (and the /bin, /lib... links
 * or directories of the host's layout), a tmpfs /etc with only the dynamic loader's files,
 * python's config and synthetic passwd/group/hosts/nsswitch.conf, private /proc and /dev,
 * size-capped tmpfs /work (the run's files), /tmp and /dev/shm, and the root read-only.
 * tini is pid 1 (`--as-pid-1`): it reaps orphans inside, and the outer bubblewrap reaps it,
 * so no zombie is ever handed to the host's init.
 *
 * Not unshared: the cgroup namespace. With a fresh cgroup per run (v1 here) creating one cost
 * ~7 ms per run, doubling the sandbox's start-up; all it hides is the run's own cgroup path in
 * /proc/self/cgroup (no cgroup file system is mounted inside).
 */
import type { SandboxLimits } from './spec.js'

export const SANDBOX_UID = 65534
const MIB = 1024 * 1024
const SHM_BYTES = 16 * MIB

/** How the host lays out a top-level directory that bubblewrap must recreate. */
export type RootEntry = { path: string, symlinkTo: string } | { path: string, bind: true }

/** Synthetic /etc files, shipped in sandbox/etc/ (a nobody-only passwd and group, localhost hosts). */
export const SYNTHETIC_ETC = Object.freeze(['passwd', 'group', 'hosts', 'nsswitch.conf'])

/**
 * Host /etc entries bound read-only when present: the loader's cache and the Debian
 * alternatives that /usr/bin links point through. Each mount costs start-up time; python's
 * /etc config (an apport hook, a packaging default) and localtime (UTC without it) are not needed.
 */
export const ETC_BINDS = Object.freeze(['/etc/ld.so.cache', '/etc/alternatives'])

export interface ProfileInput {
  rootLayout: readonly RootEntry[]
  etcBinds: readonly string[]
  optBinds: ReadonlyArray<{ from: string, to: string }>
  /** Synthetic /etc file name -> fd holding its content. */
  etcFds: ReadonlyMap<string, number>
  /** Input files: path under /work -> fd holding its content. */
  fileFds: ReadonlyArray<{ path: string, fd: number }>
  directories: readonly string[]
  env: Readonly<Record<string, string>>
  limits: SandboxLimits
  seccompFd: number
  statusFd: number
  init: string
  command: readonly string[]
  /** When files are collected: the fd to send the tar stream to and the tools inside. */
  collect: { fd: number, shell: string, tar: string } | null
}

export function bubblewrapArgs (input: ProfileInput): string[] {
  const args = [
    '--unshare-user', '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--disable-userns',
    '--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_UID), '--hostname', 'sandbox',
    '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--as-pid-1',
    '--clearenv',
  ]
  for (const [name, value] of Object.entries(input.env)) args.push('--setenv', name, value)
  args.push('--ro-bind', '/usr', '/usr')
  for (const entry of input.rootLayout) {
    if ('symlinkTo' in entry) args.push('--symlink', entry.symlinkTo, entry.path)
    else args.push('--ro-bind', entry.path, entry.path)
  }
  for (const bind of input.optBinds) args.push('--ro-bind', bind.from, bind.to)
  args.push('--tmpfs', '/etc')
  for (const path of input.etcBinds) args.push('--ro-bind', path, path)
  for (const [name, fd] of input.etcFds) args.push('--perms', '0644', '--file', String(fd), `/etc/${name}`)
  args.push(
    '--remount-ro', '/etc',
    '--proc', '/proc', '--dev', '/dev',
    '--size', String(SHM_BYTES), '--tmpfs', '/dev/shm', '--remount-ro', '/dev',
    '--size', String(input.limits.diskMb * MIB), '--tmpfs', '/tmp',
    '--size', String(input.limits.diskMb * MIB), '--tmpfs', '/work',
  )
  for (const dir of input.directories) args.push('--dir', `/work/${dir}`)
  for (const { path, fd } of input.fileFds) args.push('--perms', '0644', '--file', String(fd), `/work/${path}`)
  args.push(
    '--chdir', '/work', '--remount-ro', '/',
    '--seccomp', String(input.seccompFd), '--json-status-fd', String(input.statusFd),
    '--', input.init, '--',
  )
  if (input.collect !== null) args.push(input.collect.shell, '-c', collectScript(input.collect.fd, input.collect.tar), 'sh')
  args.push(...input.command)
  return args
}

/**
 * Runs the command without the tar fd, then sends /work as a POSIX tar stream on it; exits
 * with the command's status.
 */
export function collectScript (fd: number, tar: string): string {
  return `"$@" ${fd}>&-; rc=$?; ${tar} --format=posix --hard-dereference -C /work -cf - . >&${fd} 2>/dev/null; exit $rc`
}

export interface LauncherInput {
  limits: SandboxLimits
  /** cgroup.procs files to join, in order. */
  procsFiles: readonly string[]
  /** setpriv and the uid/gid to drop to, when the launcher starts as root (cgroup v2 join). */
  dropTo: { setpriv: string, uid: number, gid: number } | null
  /** Also cap processes with RLIMIT_NPROC at this (only where no pids cgroup exists). */
  nproc: number | null
  /** Also cap memory with RLIMIT_DATA (only where no memory cgroup exists). */
  rlimitMemory: boolean
}

/**
 * The rlimits a run gets: CPU seconds (soft one below hard, so SIGXCPU comes first; with a
 * cgroup one second more, as a backstop to the sampled total) and file size in 512-byte blocks.
 */
export function rlimitFigures (limits: SandboxLimits, cgroup: boolean): { cpuSoft: number, cpuHard: number, fileBlocks: number } {
  const cpuSoft = Math.ceil(limits.cpuMs / 1000) + (cgroup ? 1 : 0)
  return { cpuSoft, cpuHard: cpuSoft + 1, fileBlocks: limits.fileSizeMb * 2048 }
}

/** Exit status of the launcher itself failing (cgroup join or rlimits). */
export const LAUNCHER_FAILED = 125

/**
 * The host-side launcher: `sh -c SCRIPT sh <procs...> -- <bubblewrap argv>`. It joins the
 * cgroups, sets hard rlimits (soft CPU one second below hard, so SIGXCPU comes first) and execs.
 */
export function launcherScript (input: LauncherInput): string {
  const { limits } = input
  const { cpuSoft, cpuHard, fileBlocks } = rlimitFigures(limits, input.procsFiles.length > 0)
  const ulimits = [
    'ulimit -c 0',
    `ulimit -S -t ${cpuSoft}`,
    `ulimit -H -t ${cpuHard}`,
    `ulimit -f ${fileBlocks}`,
    'ulimit -n 4096',
  ]
  if (input.nproc !== null) ulimits.push(`ulimit -p ${input.nproc}`)
  if (input.rlimitMemory) ulimits.push(`ulimit -d ${limits.memoryMb * 1024}`) // KiB
  const drop = input.dropTo === null
    ? ''
    : `${input.dropTo.setpriv} --reuid=${input.dropTo.uid} --regid=${input.dropTo.gid} --clear-groups -- `
  return [
    `while [ "$1" != -- ]; do echo $$ > "$1" || exit ${LAUNCHER_FAILED}; shift; done; shift`,
    `${ulimits.join(' && ')} || exit ${LAUNCHER_FAILED}`,
    `exec ${drop}"$@"`,
  ].join('\n')
}
