/**
 * The task kinds: one registry entry per kind with its schema (fields added to the common
 * envelope), its default requirements, the worker slots that bound how many run at once,
 * whether it needs the sandbox, and its executor. `parseSubmission` is pure; executors do
 * the I/O through the narrow context they are given.
 *
 * - `noop`: completes at once on the winner (health checks, benchmarks); no slot needed.
 * - `exec`: runs `command` in the sandbox through the exec worker pool. A zero exit with no
 *   limit hit succeeds; anything else fails with the sandbox result attached.
 * Other kinds plug in through this contract without this part importing them: the node
 * registers the model kinds and `build` (node/kinds/).
 */
import Type, { type TProperties } from 'typebox'
import { Compile } from 'typebox/compile'
import { EnvelopeProperties, explainSchemaErrors, type Durability, type Limits, type Requirements, type HostSettings, type HostStatus, type ModelFile, type Bodies } from '../protocols/index.js'
import type { TaskRequirements } from '../scheduler/index.js'
import { LIMIT_BOUNDS, validateSpec, type SandboxSpec } from '../sandbox/index.js'
import type { TaskLogLine, TaskProgress, WorkerKind, WorkerPool } from '../workers/index.js'
import type { Checkpoint } from '../ledger/index.js'
import type { TaskOps } from './to-end.js'
import { InvalidTaskError } from './errors.js'
import { normalizeRequirements, type PlacementTraits } from './view.js'
import { offloadOutputs, type BlobSink } from './outputs.js'
import { reserveForLimits } from './reservation.js'

/** What model kinds need of the node: its models' files, the worker settings, and the worker's state after a run. */
export interface ModelAccess {
  readonly settings: HostSettings
  resolve: (name: string) => Promise<ModelFile>
  observe: (host: HostStatus) => void
}

/** A long task's own record: its id and attempt, its checkpoints so far, and recording the next. */
export interface TaskRecord {
  readonly id: string
  readonly attempt: number
  /** When it was submitted (ms): budgets of wall time count from here. */
  readonly submittedAt: number
  checkpoints: () => Promise<Checkpoint[]>
  /** Durable (fsynced) before it resolves; refused by the fold if this attempt is no longer open. */
  checkpoint: (body: Omit<Bodies['checkpoint'], 'attempt'>) => Promise<void>
}

/** A corpus as one blob (its name where it was shared from, and who shared it). */
export interface CorpusRef { name: string, digest: string, size: number, from: string }

export interface KindContext {
  signal: AbortSignal
  /** The most relevant chunks of a corpus for a query (retrieval); absent where the node has no corpora. */
  retrieve?: (corpus: { name: string, ref?: CorpusRef }, query: string, options: { k: number, signal: AbortSignal }) => Promise<Array<{ source: string, text: string }>>
  /** Tasks this one runs as its steps (placed by the auction like any task). */
  subtasks: TaskOps | undefined
  task: TaskRecord
  workers: Pick<WorkerPool, 'runSandboxed' | 'submit'>
  models: ModelAccess | undefined
  blobs: BlobSink | undefined
  onLog: (line: TaskLogLine) => void
  onProgress: (progress: TaskProgress) => void
  /** Generated text as it comes: `offset` is its position (UTF-16 units) in the whole output, `tokens` the count so far. */
  onToken: (text: string, offset: number, tokens: number) => void
}

/** What a kind may consult to admit a user's submission (the node provides it). */
export interface AdmissionContext {
  /** Throws (a 404 at the API) when no live node of the mesh serves the model. */
  requireModel: (name: string) => void
  /** One of this node's corpora as a blob the task can carry to any node. */
  shareCorpus: (name: string, options: { signal?: AbortSignal }) => Promise<CorpusRef>
  signal?: AbortSignal
}

/** Admission for kinds that name a `model`: refused now when no live node serves it, rather than left to wait forever. */
export async function admitModel (body: Record<string, unknown>, context: AdmissionContext): Promise<Record<string, unknown>> {
  if (typeof body.model === 'string') context.requireModel(body.model)
  return body
}

export interface KindOutcome { outcome: 'succeeded' | 'failed', result?: Record<string, unknown>, error?: string }

export interface TaskKind extends PlacementTraits {
  readonly name: string
  /** The kind's own body fields (besides the envelope). */
  readonly fields: TProperties
  readonly defaults: { cpus: number, memoryMb: number }
  /** Worker slots of this kind bound concurrent runs; null: runs inline, unbounded. */
  readonly workerKind: WorkerKind | null
  /** Checks beyond the schema (pure); throws InvalidTaskError. */
  check?: (spec: TaskSpec) => void
  /**
   * Before a user's submission is parsed: refuse what can be known not to run now (a model no
   * node has), or complete the body from this node (a corpus as a blob). Steps a task submits
   * (subtasks) are not admitted again.
   */
  admit?: (body: Record<string, unknown>, context: AdmissionContext) => Promise<Record<string, unknown>>
  /** The spec as stored, after check (pure): normalized fields, derived requirements, `work`. */
  prepare?: (spec: TaskSpec) => TaskSpec
  execute: (spec: TaskSpec, context: KindContext) => Promise<KindOutcome>
}

/** What the ledger's `submitted.spec` holds: the body less kind, priority and durability, defaults filled. */
export type TaskSpec = Record<string, unknown> & { requirements: TaskRequirements, limits: Limits }

export interface Submission { kind: string, priority: number, durability: Durability, spec: TaskSpec }

/** A requirement above the sandbox's memory bound is for placement; the run's cap stays in bounds. */
const SANDBOX_MAX_MEMORY_MB = LIMIT_BOUNDS.memoryMb.max

function toSandboxSpec (spec: TaskSpec): SandboxSpec {
  const { limits, requirements } = spec
  return {
    command: spec.command as string[],
    files: spec.files as Record<string, string> | undefined,
    stdin: spec.stdin as string | undefined,
    collect: spec.collect as string[] | undefined,
    env: spec.env as Record<string, string> | undefined,
    limits: {
      ...(limits.timeoutMs === undefined ? {} : { wallMs: limits.timeoutMs }),
      ...(limits.cpuMs === undefined ? {} : { cpuMs: limits.cpuMs }),
      memoryMb: limits.memoryMb ?? Math.min(SANDBOX_MAX_MEMORY_MB, Math.max(16, requirements.memoryMb)),
      ...(limits.pids === undefined ? {} : { pids: limits.pids }),
      ...(limits.diskMb === undefined ? {} : { diskMb: limits.diskMb }),
      ...(limits.outputBytes === undefined ? {} : { outputBytes: limits.outputBytes }),
    },
  }
}

/**
 * What an exec task runs, as its class of work for run estimates: the program's base name,
 * with the module for `-m` (`python3 -m pytest`). A spec from the ledger: checked, not trusted.
 */
export function programOf (spec: Record<string, unknown>): string | undefined {
  const command = spec.command
  if (!Array.isArray(command) || typeof command[0] !== 'string') return undefined
  const program = command[0].split('/').at(-1) ?? ''
  if (program === '') return undefined
  const module = command[1] === '-m' && typeof command[2] === 'string' ? ` -m ${command[2]}` : ''
  return `${program}${module}`.slice(0, 96)
}

const noop: TaskKind = {
  name: 'noop',
  fields: {},
  defaults: { cpus: 0, memoryMb: 0 },
  workerKind: null,
  needsSandbox: false,
  execute: async () => ({ outcome: 'succeeded', result: {} }),
}

const exec: TaskKind = {
  name: 'exec',
  fields: {
    command: Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), { minItems: 1, maxItems: 256 }),
    files: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 512 }), Type.String())),
    stdin: Type.Optional(Type.String()),
    collect: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { maxItems: 64 })),
    env: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 256 }), Type.String({ maxLength: 65_536 }))),
  },
  defaults: { cpus: 1, memoryMb: 512 },
  workerKind: 'exec',
  needsSandbox: true,
  workClass: programOf,
  check: spec => {
    try {
      validateSpec(toSandboxSpec(spec))
    } catch (err) {
      throw new InvalidTaskError(`invalid exec task: ${(err as Error).message}`, { details: [(err as Error).message] })
    }
  },
  execute: async (spec, context) => {
    const sandbox = toSandboxSpec(spec)
    const result = await context.workers.runSandboxed(sandbox, { signal: context.signal, onLog: context.onLog, onProgress: context.onProgress })
    const stored = await offloadOutputs(result, context.blobs, context.signal)
    const ok = result.exitCode === 0 && !result.timedOut && result.limitHit === null
    const error = ok
      ? undefined
      : result.timedOut ? 'timed out' : result.limitHit !== null ? `limit hit: ${result.limitHit}` : result.signal !== null ? `killed by ${result.signal}` : `exit code ${String(result.exitCode)}`
    return { outcome: ok ? 'succeeded' : 'failed', result: stored, ...(error === undefined ? {} : { error }) }
  },
}

export type KindRegistry = ReadonlyMap<string, TaskKind>

export const BASIC_KINDS: readonly TaskKind[] = [noop, exec]

const compiled = new WeakMap<TaskKind, { check: ReturnType<typeof Compile>, schema: unknown }>()
function validatorOf (kind: TaskKind): { check: ReturnType<typeof Compile>, schema: unknown } {
  let entry = compiled.get(kind)
  if (entry === undefined) {
    const schema = Type.Object({ ...EnvelopeProperties, ...kind.fields }, { additionalProperties: false })
    entry = { check: Compile(schema), schema }
    compiled.set(kind, entry)
  }
  return entry
}

/** Check a submitted body against its kind's schema; every problem at once. Pure. */
export function parseSubmission (body: unknown, registry: KindRegistry): Submission {
  const name = (body as { kind?: unknown } | null)?.kind
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidTaskError('the task must be a JSON object', { details: ['body: must be an object'] })
  const kind = typeof name === 'string' ? registry.get(name) : undefined
  if (kind === undefined) {
    throw new InvalidTaskError(`unknown task kind ${JSON.stringify(name)} (known: ${[...registry.keys()].join(', ')})`, { details: [`kind: must be one of ${[...registry.keys()].join(', ')}`] })
  }
  const { check, schema } = validatorOf(kind)
  if (!check.Check(body)) {
    const problems = explainSchemaErrors([...check.Errors(body)].slice(0, 20), schema)
    throw new InvalidTaskError(`invalid ${kind.name} task: ${problems.join('; ')}`, { details: problems })
  }
  const { kind: _k, priority, requirements, limits, durability, ...fields } = body as Record<string, unknown> & { priority?: number, requirements?: Requirements, limits?: Limits, durability?: Durability }
  const normalized = normalizeRequirements(requirements ?? {}, kind.defaults)
  // A sandboxed run's limits never exceed what placement reserves (reservation.ts).
  const spec: TaskSpec = { ...fields, ...(kind.needsSandbox ? reserveForLimits(requirements, normalized, limits ?? {}) : { requirements: normalized, limits: limits ?? {} }) }
  kind.check?.(spec)
  return { kind: kind.name, priority: priority ?? 5, durability: durability ?? 'local', spec: kind.prepare?.(spec) ?? spec }
}
