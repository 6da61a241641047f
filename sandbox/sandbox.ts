/**
 * A sandbox instance: its host is detected once (first probe or run) and proven by a real
 * sandboxed `sh -c 'exit 0'`; if that fails the host is unavailable and every run throws
 * SandboxUnavailableError, so untrusted code never runs unsandboxed. The probe adds which
 * runtimes actually start inside; its result is what the node advertises. `runSandboxed` and
 * `probeSandbox` use one process-wide instance with the defaults.
 */
import { AbortedError, silentLogger, type Logger } from '../base/index.js'
import { SandboxUnavailableError } from './errors.js'
import { detectHost, SANDBOX_TYPESCRIPT, type LimitsBackendName, type SandboxHost, type ToolCandidates } from './host.js'
import { runWithHost, type SandboxResult } from './run.js'
import { validateSpec, type SandboxSpec } from './spec.js'
import { warmPool, type WarmPool } from './warm.js'

export interface SandboxProbe {
  available: boolean
  isolation: 'bubblewrap'
  limits: LimitsBackendName
  /** Runtimes that actually started inside the sandbox. */
  runtimes: string[]
  /** Whether each run gets a host uid of its own (the node runs as root). */
  uidPerRun: boolean
  /** Why the sandbox is unavailable; absent when it is available. */
  reason?: string
}

export interface SandboxCallOptions {
  signal?: AbortSignal
  logger?: Logger
  /** The command's output chunks as they come (runs only; the result still has all of it). */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void
}

export interface SandboxInit {
  /** Logger for host detection; runs log to the logger passed with each call, else this one. */
  logger?: Logger
  /** 'auto' (default): cgroup v2, v1 or rlimits, whichever works; 'rlimit': rlimits only. */
  limits?: 'auto' | 'rlimit'
  /** Where to look for bwrap, tini, sh, tar, setpriv (tests point these elsewhere). */
  tools?: ToolCandidates
  /** Warm sandboxes kept ready for runs that fit the default profile (warm.ts); 0: every run starts cold. Default 1. */
  warm?: number
}

export interface Sandbox {
  probe: (options?: SandboxCallOptions) => Promise<SandboxProbe>
  run: (spec: SandboxSpec, options?: SandboxCallOptions) => Promise<SandboxResult>
  /** Starts the warm sandboxes (else made at the first run) and resolves once they are ready. */
  prepared: (options?: SandboxCallOptions) => Promise<void>
  /** Ends the idle warm sandboxes; later runs start cold. */
  close: () => Promise<void>
}

const RUNTIME_CHECKS: ReadonlyArray<{ name: string, command: string[] }> = [
  { name: 'sh', command: ['sh', '-c', 'exit 0'] },
  { name: 'python3', command: ['python3', '-c', 'pass'] },
  { name: 'pytest', command: ['python3', '-m', 'pytest', '--version'] },
  { name: 'node', command: ['node', '-e', '0'] },
  { name: 'tsc', command: ['node', `${SANDBOX_TYPESCRIPT}/bin/tsc`, '--version'] },
]

const componentLogger = (logger: Logger | undefined): Logger =>
  (logger ?? silentLogger()).child({ component: 'gryphgen:sandbox' })

export function createSandbox (init: SandboxInit = {}): Sandbox {
  let hostPromise: Promise<SandboxHost> | null = null
  let probePromise: Promise<SandboxProbe> | null = null
  let pool: WarmPool | null = null
  let closed = false
  const host = async (logger: Logger): Promise<SandboxHost> => {
    hostPromise ??= detectHost({ logger, limits: init.limits, tools: init.tools })
      .then(async detected => await provenHost(detected, logger))
    return await hostPromise
  }
  // Made at the first run, not at the probe: a process that only probes (the node itself)
  // keeps no warm sandbox.
  let poolMade = false
  const warm = (detected: SandboxHost): WarmPool | null => {
    if (!poolMade && !closed) pool = warmPool(detected, init.warm ?? 1, componentLogger(init.logger))
    poolMade = true
    return pool
  }
  const loggerFor = (options: SandboxCallOptions): Logger => componentLogger(options.logger ?? init.logger)
  return {
    probe: async (options = {}) => {
      const logger = loggerFor(options)
      probePromise ??= host(logger).then(async detected => await probeHost(detected, logger))
      return structuredClone(await untilAborted(probePromise, options.signal, 'sandbox probe'))
    },
    run: async (spec, options = {}) => {
      const validated = validateSpec(spec)
      const logger = loggerFor(options)
      const detected = await untilAborted(host(logger), options.signal, 'sandbox run')
      if (!detected.available) throw new SandboxUnavailableError(`sandbox unavailable: ${detected.reason ?? 'unknown reason'}`)
      const runOptions = { logger, signal: options.signal, onOutput: options.onOutput }
      const warmSandboxes = warm(detected)
      const warmRun = warmSandboxes?.run(validated, runOptions)
      if (warmRun != null) return await warmRun
      try {
        return await runWithHost(detected, validated, runOptions)
      } finally {
        warmSandboxes?.refill() // its uid is free again, where a warm start found none
      }
    },
    prepared: async (options = {}) => {
      const detected = await untilAborted(host(loggerFor(options)), options.signal, 'sandbox preparation')
      if (detected.available) await untilAborted(warm(detected)?.prepared() ?? Promise.resolve(), options.signal, 'sandbox preparation')
    },
    close: async () => {
      closed = true
      await pool?.close()
    },
  }
}

async function provenHost (host: SandboxHost, logger: Logger): Promise<SandboxHost> {
  if (!host.available) return host
  try {
    const result = await runWithHost(host, validateSpec({ command: ['sh', '-c', 'exit 0'], limits: { wallMs: 10_000 } }), { logger })
    if (result.exitCode === 0) return host
    return { ...host, available: false, reason: `bubblewrap fails here: ${result.stderr.trim().slice(0, 500)}` }
  } catch (err) {
    const stderr = (err as { details?: { stderr?: string } }).details?.stderr?.trim().slice(0, 500) ?? ''
    return { ...host, available: false, reason: `bubblewrap fails here: ${(err as Error).message}${stderr === '' ? '' : `: ${stderr}`}` }
  }
}

async function probeHost (host: SandboxHost, logger: Logger): Promise<SandboxProbe> {
  const base = { isolation: 'bubblewrap' as const, limits: host.limits, uidPerRun: host.uids !== null }
  if (!host.available) return { ...base, available: false, runtimes: [], reason: host.reason ?? 'unavailable' }
  const runtimes: string[] = []
  for (const check of RUNTIME_CHECKS) {
    const result = await runWithHost(host, validateSpec({ command: check.command, limits: { wallMs: 15_000 } }), { logger })
      .catch(() => null)
    if (result?.exitCode === 0) runtimes.push(check.name)
  }
  return { ...base, available: true, runtimes }
}

/** Resolves with `promise`, or rejects with AbortedError as soon as `signal` aborts. */
async function untilAborted<T> (promise: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (signal === undefined) return await promise
  if (signal.aborted) throw new AbortedError(`${what} aborted`)
  let onAbort = (): void => {}
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(new AbortedError(`${what} aborted`)) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

let shared: Sandbox | null = null

/** Probes the process-wide sandbox (detected once); the object the node advertises. */
export async function probeSandbox (options: SandboxCallOptions = {}): Promise<SandboxProbe> {
  shared ??= createSandbox()
  return await shared.probe(options)
}

/**
 * Runs `spec` in the process-wide sandbox. Throws InvalidSandboxSpecError (nothing run),
 * SandboxUnavailableError (this host cannot sandbox), SandboxBusyError, SandboxSetupError or
 * AbortedError (after the run was stopped and cleaned up).
 */
export async function runSandboxed (spec: SandboxSpec, options: SandboxCallOptions = {}): Promise<SandboxResult> {
  shared ??= createSandbox()
  return await shared.run(spec, options)
}
