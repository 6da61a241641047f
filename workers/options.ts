/**
 * The pool's options: defaults, validation (every problem reported at once, as a
 * WorkerPoolConfigError) and the resolved, frozen form. Pure: the physical core count and the
 * token are passed in by the caller.
 */
import type { Logger } from '../base/index.js'
import { WORKER_KINDS, WORKER_MESSAGE_MAX_BYTES, type WorkerKind } from '../protocols/index.js'
import { endpointProblems, ipcEndpoint, isLoopbackEndpoint } from './endpoint.js'
import { WorkerPoolConfigError } from './errors.js'
import { isValidWorkerToken } from './token.js'

export interface WorkerKindOptions {
  /** Worker processes the pool spawns and keeps. Default: exec 'auto' (physical cores), model 0. */
  size?: number | 'auto'
  /** Tasks one worker runs at once (its credit). Default 1. */
  slots?: number
  /** Absolute paths of modules whose `handlers` export adds task types to this kind. */
  handlerModules?: string[]
  /** Niceness (0-19) of this kind's spawned processes and everything they run (workers/priority.ts). Default 0. */
  nice?: number
}

/** What the pool keeps of one kind: how many processes, their slots, their extra handlers. */
export interface KindPlan { size: number, slots: number, nice: number, handlerModules: readonly string[] }

export interface WorkerPoolInit {
  /** The node's data dir: the default endpoint `ipc://<dataDir>/workers.sock` and token file `<dataDir>/worker-token`. */
  dataDir?: string
  /** `ipc:///absolute/path` or `tcp://HOST:PORT` (port 0: any free port). Default: from dataDir. */
  endpoint?: string
  /** The worker token. Default: read from (or created in) `<dataDir>/worker-token`. */
  token?: string
  kinds?: Partial<Record<WorkerKind, WorkerKindOptions>>
  logger?: Logger
  /** How often workers heartbeat. Default 1000 ms. */
  heartbeatIntervalMs?: number
  /** A worker silent this long is killed (spawned) or dropped (external) and replaced. Default 10 000 ms. */
  heartbeatTimeoutMs?: number
  /** A spawned worker must join within this. Default 30 000 ms. */
  startTimeoutMs?: number
  /** A worker that has not ended a cancelled task within this is killed. Default 5000 ms. */
  cancelGraceMs?: number
  /** After the drain deadline, how long workers get to exit before SIGKILL. Default 3000 ms. */
  killGraceMs?: number
  /** Largest frame either side accepts. Default 256 MiB. */
  maxMessageBytes?: number
  /** For `size: 'auto'`. Default: measured at start. */
  physicalCores?: number
}

export interface ResolvedPoolOptions {
  dataDir: string | undefined
  endpoint: string
  loopback: boolean
  token: string | undefined
  plans: Readonly<Record<WorkerKind, KindPlan>>
  heartbeatIntervalMs: number
  heartbeatTimeoutMs: number
  startTimeoutMs: number
  cancelGraceMs: number
  killGraceMs: number
  maxMessageBytes: number
}

const DEFAULT_SIZE: Record<WorkerKind, number | 'auto'> = { exec: 'auto', model: 0 }
const KIND_KEYS = new Set(['size', 'slots', 'nice', 'handlerModules'])

function integer (problems: string[], name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}`)
    return fallback
  }
  return value
}

function plan (problems: string[], kind: WorkerKind, options: WorkerKindOptions | undefined, cores: number): KindPlan {
  for (const key of Object.keys(options ?? {})) if (!KIND_KEYS.has(key)) problems.push(`kinds.${kind}: unknown option '${key}'`)
  const rawSize = options?.size ?? DEFAULT_SIZE[kind]
  const size = rawSize === 'auto' ? cores : integer(problems, `kinds.${kind}.size`, rawSize, 0, 0, 256)
  const slots = integer(problems, `kinds.${kind}.slots`, options?.slots, 1, 1, 1024)
  const nice = integer(problems, `kinds.${kind}.nice`, options?.nice, 0, 0, 19)
  const handlerModules = options?.handlerModules ?? []
  if (!Array.isArray(handlerModules) || handlerModules.some(m => typeof m !== 'string' || !(m.startsWith('/') || m.startsWith('file:')))) {
    problems.push(`kinds.${kind}.handlerModules must be absolute paths`)
  }
  return Object.freeze({ size, slots, nice, handlerModules: Object.freeze([...handlerModules]) })
}

export function resolvePoolOptions (init: WorkerPoolInit, physicalCores: number): ResolvedPoolOptions {
  const problems: string[] = []
  for (const kind of Object.keys(init.kinds ?? {})) {
    if (!(WORKER_KINDS as readonly string[]).includes(kind)) problems.push(`unknown worker kind '${kind}' (known: ${WORKER_KINDS.join(', ')})`)
  }
  if (init.dataDir === undefined && (init.endpoint === undefined || init.token === undefined)) problems.push('give dataDir, or both endpoint and token')
  if (init.token !== undefined && !isValidWorkerToken(init.token)) problems.push('token must be 32-256 characters of A-Z a-z 0-9 _ -')
  let endpoint = init.endpoint ?? ''
  if (init.endpoint !== undefined) problems.push(...endpointProblems(init.endpoint))
  else if (init.dataDir !== undefined) {
    try { endpoint = ipcEndpoint(init.dataDir) } catch (err) { problems.push((err as Error).message) }
  }
  const cores = integer(problems, 'physicalCores', init.physicalCores ?? physicalCores, 1, 1, 65_536)
  const heartbeatIntervalMs = integer(problems, 'heartbeatIntervalMs', init.heartbeatIntervalMs, 1000, 10, 600_000)
  const heartbeatTimeoutMs = integer(problems, 'heartbeatTimeoutMs', init.heartbeatTimeoutMs, 10_000, 50, 3_600_000)
  if (heartbeatTimeoutMs < 2 * heartbeatIntervalMs) problems.push('heartbeatTimeoutMs must be at least twice heartbeatIntervalMs')
  const plans = {
    exec: plan(problems, 'exec', init.kinds?.exec, cores),
    model: plan(problems, 'model', init.kinds?.model, cores),
  }
  const resolved: ResolvedPoolOptions = {
    dataDir: init.dataDir,
    endpoint,
    loopback: isLoopbackEndpoint(endpoint),
    token: init.token,
    plans: Object.freeze(plans),
    heartbeatIntervalMs,
    heartbeatTimeoutMs,
    startTimeoutMs: integer(problems, 'startTimeoutMs', init.startTimeoutMs, 30_000, 100, 600_000),
    cancelGraceMs: integer(problems, 'cancelGraceMs', init.cancelGraceMs, 5000, 10, 600_000),
    killGraceMs: integer(problems, 'killGraceMs', init.killGraceMs, 3000, 0, 600_000),
    maxMessageBytes: integer(problems, 'maxMessageBytes', init.maxMessageBytes, WORKER_MESSAGE_MAX_BYTES, 64 * 1024, 2 ** 31 - 1),
  }
  if (problems.length > 0) throw new WorkerPoolConfigError(`invalid worker pool options: ${problems.join('; ')}`, { details: problems })
  return Object.freeze(resolved)
}
