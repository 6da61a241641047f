/**
 * Worker protocol (version 2): the messages between a node's worker broker (ZeroMQ ROUTER) and
 * its worker processes (DEALER), one schema each, checked on receipt in both directions. A
 * frame holds one message (a JSON object) or a batch of them (a JSON array of 1 to
 * WORKER_FRAME_MAX_MESSAGES objects, in the order they were sent): at many tasks in flight,
 * one frame per message cost more in ZeroMQ and in parsing than the messages themselves
 * (version 1 sent one object per frame). The version is settled once, in HELLO; later
 * messages carry none.
 *
 * worker -> broker: hello, ready, result, progress, log, heartbeat
 * broker -> worker: welcome, task, cancel, bye
 *
 * A frame that is not UTF-8 JSON, holds anything but messages matching their schemas, or that
 * exceeds the size limit, is an InvalidMessageError as a whole: never interpreted, never trusted.
 */
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { InvalidMessageError } from '../base/index.js'
import { parseJsonBytes } from './json.js'

export const WORKER_PROTOCOL_VERSION = 2
/** Messages in one batch frame, at most. */
export const WORKER_FRAME_MAX_MESSAGES = 256
export const WORKER_KINDS = ['exec', 'model'] as const
export type WorkerKind = typeof WORKER_KINDS[number]
/** Default bound on one frame; a sandbox result (2 x outputBytes + collected files) must fit. */
export const WORKER_MESSAGE_MAX_BYTES = 256 * 1024 * 1024

const Str = (max: number, min = 0) => Type.String({ minLength: min, maxLength: max })
const TaskId = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })
export const WorkerTaskTypeSchema = Type.String({ pattern: '^[a-z][a-z0-9._-]{0,63}$' })
const KindSchema = Type.Enum(WORKER_KINDS)
const strict = { additionalProperties: false } as const

/** An error as it crosses the wire; the pool rebuilds a typed error from `name`. */
export const WorkerWireErrorSchema = Type.Object({
  name: Str(128, 1),
  message: Str(4096),
  /** The same task may succeed if submitted again (the failure was the worker's, not the task's). */
  retryable: Type.Boolean(),
  details: Type.Optional(Type.Unknown()),
}, strict)

// worker -> broker
export const WorkerHelloSchema = Type.Object({
  t: Type.Literal('hello'),
  v: Type.Integer({ minimum: 0, maximum: 1000 }),
  kind: KindSchema,
  token: Str(512, 16),
  /** Set by the pool for the workers it spawned (from its own fd); absent for external ones. */
  workerId: Type.Optional(Str(64, 1)),
  pid: Type.Integer({ minimum: 0 }),
  handlers: Type.Array(WorkerTaskTypeSchema, { maxItems: 256 }),
}, strict)
/** The worker can run `slots` tasks at once (its credit); sent after WELCOME, once loaded. */
export const WorkerReadySchema = Type.Object({ t: Type.Literal('ready'), slots: Type.Integer({ minimum: 1, maximum: 1024 }) }, strict)
export const WorkerResultSchema = Type.Union([
  Type.Object({ t: Type.Literal('result'), task: TaskId, ok: Type.Literal(true), value: Type.Unknown() }, strict),
  Type.Object({ t: Type.Literal('result'), task: TaskId, ok: Type.Literal(false), error: WorkerWireErrorSchema }, strict),
])
export const WorkerProgressSchema = Type.Object({
  t: Type.Literal('progress'),
  task: TaskId,
  stage: Str(64, 1),
  done: Type.Optional(Type.Number({ minimum: 0 })),
  total: Type.Optional(Type.Number({ minimum: 0 })),
  message: Type.Optional(Str(1024)),
}, strict)
export const WorkerLogLevelSchema = Type.Enum(['debug', 'info', 'warn', 'error'])
/** A log line of a task; `stream` when it is a line of the task's command output. */
export const WorkerLogSchema = Type.Object({ t: Type.Literal('log'), task: TaskId, level: WorkerLogLevelSchema, message: Str(16_384), stream: Type.Optional(Type.Enum(['stdout', 'stderr'])) }, strict)
export const WorkerHeartbeatSchema = Type.Object({ t: Type.Literal('heartbeat'), running: Type.Integer({ minimum: 0 }) }, strict)

// broker -> worker
export const WorkerWelcomeSchema = Type.Object({
  t: Type.Literal('welcome'),
  workerId: Str(64, 1),
  heartbeatIntervalMs: Type.Integer({ minimum: 10, maximum: 600_000 }),
}, strict)
export const WorkerTaskSchema = Type.Object({ t: Type.Literal('task'), task: TaskId, type: WorkerTaskTypeSchema, input: Type.Unknown() }, strict)
export const WorkerCancelSchema = Type.Object({ t: Type.Literal('cancel'), task: TaskId }, strict)
export const WORKER_BYE_REASONS = ['unauthorized', 'version', 'unknown-worker', 'shutdown', 'evicted'] as const
export const WorkerByeReasonSchema = Type.Enum(WORKER_BYE_REASONS)
export const WorkerByeSchema = Type.Object({ t: Type.Literal('bye'), reason: WorkerByeReasonSchema }, strict)

export type WorkerWireError = Type.Static<typeof WorkerWireErrorSchema>
export type WorkerHello = Type.Static<typeof WorkerHelloSchema>
export type WorkerReady = Type.Static<typeof WorkerReadySchema>
export type WorkerResult = Type.Static<typeof WorkerResultSchema>
export type WorkerProgress = Type.Static<typeof WorkerProgressSchema>
export type WorkerLog = Type.Static<typeof WorkerLogSchema>
export type WorkerLogLevel = Type.Static<typeof WorkerLogLevelSchema>
export type WorkerHeartbeat = Type.Static<typeof WorkerHeartbeatSchema>
export type WorkerWelcome = Type.Static<typeof WorkerWelcomeSchema>
export type WorkerTask = Type.Static<typeof WorkerTaskSchema>
export type WorkerCancel = Type.Static<typeof WorkerCancelSchema>
export type WorkerByeReason = Type.Static<typeof WorkerByeReasonSchema>
export type WorkerBye = Type.Static<typeof WorkerByeSchema>
/** What a task reports while it runs (`onProgress`): a stage name and optional counts. */
export type TaskProgress = Omit<WorkerProgress, 't' | 'task'>
/** One log line of a task (`onLog`). */
export type TaskLogLine = Omit<WorkerLog, 't' | 'task'>

export type WorkerMessage = WorkerHello | WorkerReady | WorkerResult | WorkerProgress | WorkerLog | WorkerHeartbeat
export type BrokerMessage = WorkerWelcome | WorkerTask | WorkerCancel | WorkerBye

type Validator = ReturnType<typeof Compile>
const workerValidators: Record<WorkerMessage['t'], Validator> = {
  hello: Compile(WorkerHelloSchema),
  ready: Compile(WorkerReadySchema),
  result: Compile(WorkerResultSchema),
  progress: Compile(WorkerProgressSchema),
  log: Compile(WorkerLogSchema),
  heartbeat: Compile(WorkerHeartbeatSchema),
}
const brokerValidators: Record<BrokerMessage['t'], Validator> = {
  welcome: Compile(WorkerWelcomeSchema),
  task: Compile(WorkerTaskSchema),
  cancel: Compile(WorkerCancelSchema),
  bye: Compile(WorkerByeSchema),
}

export function encodeWorkerMessage (message: WorkerMessage | BrokerMessage): string {
  return JSON.stringify(message)
}

/** One frame of messages already encoded by encodeWorkerMessage (1 to WORKER_FRAME_MAX_MESSAGES). */
export function encodeWorkerBatch (encoded: readonly string[]): string {
  return encoded.length === 1 ? encoded[0] : `[${encoded.join(',')}]`
}

function check<T> (message: unknown, validators: Record<string, Validator>): T {
  const type = (message as { t?: unknown } | null)?.t
  const validator = typeof type === 'string' && Object.hasOwn(validators, type) ? validators[type] : undefined
  if (validator === undefined) throw new InvalidMessageError('worker frame has no known message type')
  if (!validator.Check(message)) {
    const first = validator.Errors(message)[0]
    throw new InvalidMessageError(`worker ${type} message fails schema at ${first?.instancePath ?? ''}: ${first?.message ?? 'invalid'}`)
  }
  return message as T
}

function decode<T> (frame: Uint8Array, validators: Record<string, Validator>, maxBytes: number): T[] {
  if (frame.byteLength > maxBytes) throw new InvalidMessageError(`worker frame of ${frame.byteLength} bytes exceeds ${maxBytes}`)
  const parsed = parseJsonBytes(frame, 'worker frame')
  if (!Array.isArray(parsed)) return [check<T>(parsed, validators)]
  if (parsed.length === 0 || parsed.length > WORKER_FRAME_MAX_MESSAGES) {
    throw new InvalidMessageError(`worker batch of ${parsed.length} messages (1 to ${WORKER_FRAME_MAX_MESSAGES})`)
  }
  for (const message of parsed) check<T>(message, validators)
  return parsed as T[]
}

/** The messages of a frame a worker sent to the broker, in order. Throws InvalidMessageError. */
export function decodeWorkerFrame (frame: Uint8Array, maxBytes = WORKER_MESSAGE_MAX_BYTES): WorkerMessage[] {
  return decode<WorkerMessage>(frame, workerValidators, maxBytes)
}

/** The messages of a frame the broker sent to a worker, in order. Throws InvalidMessageError. */
export function decodeBrokerFrame (frame: Uint8Array, maxBytes = WORKER_MESSAGE_MAX_BYTES): BrokerMessage[] {
  return decode<BrokerMessage>(frame, brokerValidators, maxBytes)
}

// Task types of the exec kind and the shape of their results.
export const EXEC_TASK_TYPES = { sandbox: 'sandbox', echo: 'echo' } as const

/** Which limit ended a sandboxed run. */
export const LIMIT_HITS = ['wall', 'cpu', 'memory', 'pids', 'output', 'fsize'] as const
export type LimitHit = typeof LIMIT_HITS[number]
const NullableNumber = Type.Union([Type.Number(), Type.Null()])
export const SandboxResultSchema = Type.Object({
  exitCode: Type.Union([Type.Integer(), Type.Null()]),
  signal: Type.Union([Str(32), Type.Null()]),
  timedOut: Type.Boolean(),
  limitHit: Type.Union([Type.Enum(LIMIT_HITS), Type.Null()]),
  stdout: Type.String(),
  stderr: Type.String(),
  stdoutTruncated: Type.Boolean(),
  stderrTruncated: Type.Boolean(),
  files: Type.Array(Type.Object({
    path: Str(4096, 1),
    size: Type.Integer({ minimum: 0 }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    content: Type.Optional(Type.String()),
  }, strict)),
  filesTruncated: Type.Boolean(),
  usage: Type.Object({ cpuMs: NullableNumber, peakMemoryMb: NullableNumber, wallMs: Type.Number() }, strict),
}, strict)
/** A sandboxed run's result as it crosses from a worker to the node (sandbox/run.ts builds it). */
export type SandboxResultValue = Type.Static<typeof SandboxResultSchema>
const checkSandboxResult = Compile(SandboxResultSchema)

/** A sandbox result a worker returned. Throws InvalidMessageError. */
export function checkSandboxResultValue (value: unknown): SandboxResultValue {
  if (!checkSandboxResult.Check(value)) {
    const first = checkSandboxResult.Errors(value)[0]
    throw new InvalidMessageError(`sandbox result fails schema at ${first?.instancePath ?? ''}: ${first?.message ?? 'invalid'}`)
  }
  return value as SandboxResultValue
}
