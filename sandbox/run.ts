/**
 * One sandboxed run on a detected host: passes the inputs (inputs.ts), creates the run's
 * cgroup, launches and supervises it, and always cleans up: cgroup removed, nothing of the
 * run's uid left running, uid returned.
 * Resolves with a JSON-serializable result; rejects with AbortedError when aborted (after the
 * cleanup), SandboxSetupError when bubblewrap never started, SandboxBusyError when no uid is free.
 */
import { AbortedError, type Logger } from '../base/index.js'
import { type TaskCgroup, TASK_GROUP_PREFIX } from './cgroup.js'
import { prepareInputs, type PreparedInputs } from './inputs.js'
import { FileCollector, type CollectedFile } from './collect.js'
import { SandboxBusyError, SandboxSetupError } from './errors.js'
import type { SandboxHost } from './host.js'
import { classifyOutcome, type LimitHit } from './outcome.js'
import { parentDirectories } from './paths.js'
import { killUid, listProcesses } from './procfs.js'
import { bubblewrapArgs, launcherScript } from './profile.js'
import type { ValidatedSpec } from './spec.js'
import { STDIO, supervise, type Supervised } from './supervise.js'

export interface SandboxUsage {
  /** CPU time of all the run's processes; null without a cgroup. */
  cpuMs: number | null
  /** Peak memory of the run (processes and tmpfs files); null without a cgroup. */
  peakMemoryMb: number | null
  wallMs: number
}

export interface SandboxResult {
  exitCode: number | null
  signal: string | null
  timedOut: boolean
  limitHit: LimitHit | null
  stdout: string
  stderr: string
  stdoutTruncated: boolean
  stderrTruncated: boolean
  files: CollectedFile[]
  /** Some matched files are missing: too many, too large a stream, or the run was ended early. */
  filesTruncated: boolean
  usage: SandboxUsage
}

export interface RunOptions { signal?: AbortSignal, logger: Logger, onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void }

let runCounter = 0
/** A function, not an inline check: the signal may abort while the run is being prepared. */
const aborted = (signal: AbortSignal | undefined): boolean => signal?.aborted === true
const round1 = (value: number): number => Math.round(value * 10) / 10

/** A uid of the host's pool, claimed across processes; null when runs share the node's uid. Throws SandboxBusyError. */
export function claimUid (host: SandboxHost): number | null {
  const uid = host.uids === null ? null : host.uids.allocate(candidate => host.uidLocks?.claim(candidate) ?? true)
  if (host.uids !== null && uid === null) throw new SandboxBusyError('every sandbox uid is in use')
  return uid
}

export function releaseUid (host: SandboxHost, uid: number | null): void {
  if (uid === null) return
  host.uidLocks?.release(uid)
  host.uids?.release(uid)
}

export const collectorFor = (spec: ValidatedSpec): FileCollector | null => spec.collect.length === 0
  ? null
  : new FileCollector(spec.collect, 2 * spec.limits.diskMb * 1024 * 1024 + 1024 * 1024)

export interface LaunchPlan {
  files: ValidatedSpec['files']
  env: ValidatedSpec['env']
  limits: ValidatedSpec['limits']
  command: readonly string[]
  collecting: boolean
  uid: number | null
  inputs: PreparedInputs
  cgroup: TaskCgroup | null
}

/** The launcher's shell, script, arguments and owner for one sandbox (cold run or warm sandbox). */
export async function launchArgs (host: SandboxHost, plan: LaunchPlan): Promise<{ shell: string, script: string, args: string[], owner: { uid: number, gid: number } | null }> {
  const { inputs, cgroup, uid } = plan
  const owner = uid === null ? null : { uid, gid: uid }
  const bwrapArgv = bubblewrapArgs({
    rootLayout: host.rootLayout,
    etcBinds: host.etcBinds,
    optBinds: host.optBinds,
    etcFds: inputs.etcFds,
    fileFds: inputs.fileFds,
    directories: parentDirectories(plan.files.map(file => file.path)),
    env: plan.env,
    limits: plan.limits,
    seccompFd: inputs.seccompFd,
    statusFd: STDIO.status,
    init: host.tools.tini,
    command: plan.command,
    collect: plan.collecting ? { fd: STDIO.collect, shell: host.tools.shell, tar: host.tools.tar } : null,
  })
  const script = launcherScript({
    limits: plan.limits,
    procsFiles: cgroup?.procsFiles ?? [],
    dropTo: host.tools.setpriv !== null && owner !== null ? { setpriv: host.tools.setpriv, ...owner } : null,
    nproc: cgroup === null ? await nprocLimit(uid, plan.limits.pids) : null,
    rlimitMemory: cgroup === null,
  })
  return {
    shell: host.tools.shell,
    script,
    args: [...cgroup?.procsFiles ?? [], '--', host.tools.bwrap, ...bwrapArgv],
    owner: host.tools.setpriv === null ? owner : null,
  }
}

export async function runWithHost (host: SandboxHost, spec: ValidatedSpec, options: RunOptions): Promise<SandboxResult> {
  if (aborted(options.signal)) throw new AbortedError('sandbox run aborted before it started')
  const uid = claimUid(host)
  const owner = uid === null ? null : { uid, gid: uid }
  const name = `${TASK_GROUP_PREFIX}${process.pid}-${++runCounter}`
  const logger = options.logger.child({ run: name })
  let inputs: PreparedInputs | null = null
  let cgroup: TaskCgroup | null = null
  let mayLeaveProcesses = false
  try {
    inputs = await prepareInputs(host, spec.files)
    cgroup = host.cgroup === null ? null : await host.cgroup.create(name, spec.limits, host.tools.setpriv === null ? owner : null)
    const collector = collectorFor(spec)
    const launcher = await launchArgs(host, { ...spec, collecting: collector !== null, uid, inputs, cgroup })
    logger.debug({ uid, limits: host.limits, command: spec.command[0] }, 'sandbox run starting')
    if (aborted(options.signal)) throw new AbortedError('sandbox run aborted before it started')
    mayLeaveProcesses = true
    const run = await supervise({
      ...launcher,
      extraFds: inputs.extraFds,
      devNullFd: inputs.devNullFd,
      stdin: spec.stdin,
      limits: spec.limits,
      cgroup,
      collector,
      signal: options.signal,
      onOutput: options.onOutput,
    })
    mayLeaveProcesses = run.killedFor !== null
    return resultOf(run, spec, collector, logger)
  } finally {
    inputs?.close()
    if (cgroup !== null && !await cgroup.remove()) logger.warn('sandbox cgroup could not be removed')
    // Without a cgroup, a run that was killed may leave processes dying for a moment.
    if (uid !== null && cgroup === null && mayLeaveProcesses && !await killUid(uid)) logger.warn({ uid }, 'sandbox processes survive')
    releaseUid(host, uid)
  }
}

/**
 * The result of a supervised run (cold or warm); throws AbortedError when it was aborted and
 * SandboxSetupError when bubblewrap never started.
 */
export function resultOf (run: Supervised, spec: ValidatedSpec, collector: FileCollector | null, logger: Logger): SandboxResult {
  if (run.killedFor === 'abort') throw new AbortedError('sandbox run aborted')
  if (!run.started && run.killedFor === null) {
    throw new SandboxSetupError('bubblewrap did not start the sandbox', { details: { stderr: run.stderr.toString('utf8').slice(0, 4096), code: run.code } })
  }
  const outcome = classifyOutcome({
    killedFor: run.killedFor,
    code: run.code,
    signal: run.signal,
    sample: run.sample,
    limits: spec.limits,
    largestFileSize: collector?.largestFileSize ?? 0,
  })
  logger.debug({ ...outcome, wallMs: round1(run.wallMs) }, 'sandbox run ended')
  return {
    ...outcome,
    stdout: run.stdout.toString('utf8'),
    stderr: run.stderr.toString('utf8'),
    stdoutTruncated: run.stdoutTruncated,
    stderrTruncated: run.stderrTruncated,
    files: collector?.files ?? [],
    filesTruncated: collector !== null && (collector.truncated || run.killedFor !== null),
    usage: {
      cpuMs: run.sample === null ? null : round1(run.sample.cpuMs),
      peakMemoryMb: run.sample?.peakMemoryBytes == null ? null : round1(run.sample.peakMemoryBytes / (1024 * 1024)),
      wallMs: round1(run.wallMs),
    },
  }
}

/** RLIMIT_NPROC counts per host uid: with a uid of its own the run gets `pids`, else what the node's uid has plus `pids`. */
async function nprocLimit (uid: number | null, pids: number): Promise<number> {
  if (uid !== null) return pids
  const own = process.getuid?.() ?? -1
  return (await listProcesses()).filter(p => p.uid === own).reduce((sum, p) => sum + p.threads, pids)
}
