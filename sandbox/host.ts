/**
 * What this host offers the sandbox, found once at start-up: the tools (bubblewrap, tini, sh,
 * tar; setpriv where a root launcher must drop privileges), the seccomp filter for this
 * architecture, the layout of /bin, /lib... (merged /usr or not), which host /etc files the
 * programs inside need, the limits backend (cgroup v2, v1, or rlimits only) and, when the node
 * runs as root, the pool of per-run uids. Missing bubblewrap, tini or a filter makes the host
 * unavailable: untrusted code is never run without them. Tools the node itself ships go in
 * read-only under /opt: the TypeScript compiler at /opt/typescript (its `bin/tsc`), so
 * generated TypeScript can be checked.
 */
import { constants } from 'node:fs'
import { access, lstat, readlink } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import type { Logger } from '../base/index.js'
import { assetPath } from './assets.js'
import type { CgroupBackend } from './cgroup.js'
import { detectCgroupBackend } from './cgroup-detect.js'
import { ETC_BINDS, SYNTHETIC_ETC, type RootEntry } from './profile.js'
import { uidLocks, type UidLocks } from './uid-locks.js'
import { UidPool } from './uid-pool.js'

export type LimitsBackendName = 'cgroup2' | 'cgroup1' | 'rlimit'

export interface SandboxTools { shell: string, bwrap: string, tini: string, tar: string, setpriv: string | null }

export interface SandboxHost {
  available: boolean
  reason: string | null
  limits: LimitsBackendName
  cgroup: CgroupBackend | null
  /** Per-run uids when the node runs as root; null when it runs as a normal user. */
  uids: UidPool | null
  /** Claims on those uids shared with other processes on this host. */
  uidLocks: UidLocks | null
  tools: SandboxTools
  seccompFile: string
  /** Synthetic /etc file name -> its path on the host. */
  etcFiles: Map<string, string>
  rootLayout: RootEntry[]
  etcBinds: string[]
  /** Host directories bound read-only at `to` inside (the node's own tools). */
  optBinds: Array<{ from: string, to: string }>
}

/** Where the TypeScript compiler appears inside the sandbox. */
export const SANDBOX_TYPESCRIPT = '/opt/typescript'

/** The node's own TypeScript package, if installed (a dependency of the node: its compiler checks generated code). */
async function typescriptDir (): Promise<string | null> {
  try {
    const dir = dirname(createRequire(import.meta.url).resolve('typescript/package.json'))
    return await exists(`${dir}/lib/tsc.js`, constants.R_OK) ? dir : null
  } catch {
    return null
  }
}

export type ToolCandidates = Partial<Record<keyof SandboxTools, readonly string[]>>

export interface HostInit {
  logger: Logger
  /** 'auto' picks the best backend; 'rlimit' forces rlimits only (tests, or by choice). */
  limits?: 'auto' | 'rlimit'
  /** Where to look for each tool, in order; defaults to the usual system paths. */
  tools?: ToolCandidates
}

const CANDIDATES: Readonly<Record<keyof SandboxTools, readonly string[]>> = {
  shell: ['/bin/sh', '/usr/bin/sh'],
  bwrap: ['/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap'],
  tini: ['/usr/bin/tini', '/usr/bin/tini-static', '/usr/local/bin/tini', '/sbin/tini', '/usr/sbin/tini', '/bin/tini'],
  tar: ['/usr/bin/tar', '/bin/tar'],
  setpriv: ['/usr/bin/setpriv', '/bin/setpriv'],
}

const ROOT_DIRECTORIES = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']
const SECCOMP_ARCHES: Partial<Record<NodeJS.Architecture, string>> = { x64: 'x86_64', arm64: 'aarch64' }

async function exists (path: string, mode = constants.F_OK): Promise<boolean> {
  try {
    await access(path, mode)
    return true
  } catch {
    return false
  }
}

async function findExecutable (candidates: readonly string[]): Promise<string | null> {
  for (const path of candidates) if (await exists(path, constants.X_OK)) return path
  return null
}

async function rootLayout (): Promise<RootEntry[]> {
  const entries: RootEntry[] = []
  for (const path of ROOT_DIRECTORIES) {
    try {
      const stat = await lstat(path)
      if (stat.isSymbolicLink()) entries.push({ path, symlinkTo: await readlink(path) })
      else if (stat.isDirectory()) entries.push({ path, bind: true })
    } catch { /* not on this host */ }
  }
  return entries
}

export async function detectHost (init: HostInit): Promise<SandboxHost> {
  const logger = init.logger
  const layout = await rootLayout()
  const visibleInside = (path: string): boolean =>
    path.startsWith('/usr/') || layout.some(entry => path.startsWith(`${entry.path}/`))
  const candidates = { ...CANDIDATES, ...init.tools }
  const found = {
    shell: await findExecutable(candidates.shell),
    bwrap: await findExecutable(candidates.bwrap),
    tini: await findExecutable(candidates.tini),
    tar: await findExecutable(candidates.tar),
    setpriv: await findExecutable(candidates.setpriv),
  }
  const arch = SECCOMP_ARCHES[process.arch]
  const seccompFile = arch === undefined ? null : await assetPath(`seccomp/${arch}.bpf`)
  const etcFiles = new Map<string, string>()
  for (const name of SYNTHETIC_ETC) {
    const path = await assetPath(`etc/${name}`)
    if (path !== null) etcFiles.set(name, path)
  }
  const isRoot = process.getuid?.() === 0
  const cgroup = init.limits === 'rlimit' ? null : await detectCgroupBackend({ logger })
  const problems: string[] = []
  if (process.platform !== 'linux') problems.push('not Linux')
  if (found.bwrap === null) problems.push('bubblewrap (bwrap) not installed')
  if (found.tini === null) problems.push('tini not installed')
  if (found.shell === null || found.tar === null) problems.push('sh or tar missing')
  for (const tool of [found.tini, found.shell, found.tar]) {
    if (tool !== null && !visibleInside(tool)) problems.push(`${tool} is not under /usr or a /bin, /lib link`)
  }
  if (seccompFile === null) problems.push(`no seccomp filter for ${process.arch}`)
  if (etcFiles.size !== SYNTHETIC_ETC.length) problems.push('sandbox/etc files missing')
  const joinAsRoot = cgroup?.joinAsRoot === true && isRoot
  if (joinAsRoot && found.setpriv === null) problems.push('setpriv (util-linux) missing')
  const etcBinds: string[] = []
  for (const path of ETC_BINDS) if (await exists(path)) etcBinds.push(path)
  const typescript = await typescriptDir()
  const host: SandboxHost = {
    available: problems.length === 0,
    reason: problems.length === 0 ? null : problems.join('; '),
    limits: cgroup?.kind ?? 'rlimit',
    cgroup,
    uids: isRoot ? new UidPool() : null,
    uidLocks: isRoot ? uidLocks() : null,
    tools: {
      shell: found.shell ?? '/bin/sh',
      bwrap: found.bwrap ?? 'bwrap',
      tini: found.tini ?? 'tini',
      tar: found.tar ?? 'tar',
      setpriv: joinAsRoot ? found.setpriv : null,
    },
    seccompFile: seccompFile ?? '',
    etcFiles,
    rootLayout: layout,
    etcBinds,
    optBinds: typescript === null ? [] : [{ from: typescript, to: SANDBOX_TYPESCRIPT }],
  }
  logger.info({ available: host.available, reason: host.reason, limits: host.limits, uidPerRun: isRoot }, 'sandbox host detected')
  return host
}
