/**
 * Tasks as users submit and read them (HTTP API, CLI) and as the ledger's `submitted.spec`
 * keeps them. The envelope is common to every kind; each kind adds its own fields (its
 * schema is in the kind registry, node/tasks/kinds.ts), and the whole body is checked with
 * unknown properties rejected. Pure: no I/O.
 */
import Type from 'typebox'
import { LabelSchema } from './common.js'
import { TaskIdSchema } from './ledger.js'

export const RequirementsSchema = Type.Object({
  cpus: Type.Optional(Type.Number({ minimum: 0, maximum: 65_536 })),
  memoryMb: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_073_741_824 })),
  gpu: Type.Optional(Type.Union([
    Type.Object({ count: Type.Integer({ minimum: 1, maximum: 64 }), minVramMb: Type.Integer({ minimum: 0, maximum: 16_777_216 }) }, { additionalProperties: false }),
    Type.Null(),
  ])),
  model: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  labels: Type.Optional(Type.Array(LabelSchema, { maxItems: 32 })),
  arch: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  /** Programs the sandbox must have, as nodes advertise them (`sh`, `python3`, `pytest`, `node`, `tsc`). */
  runtimes: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { maxItems: 16 })),
}, { additionalProperties: false })

export const LimitsSchema = Type.Object({
  /** Wall-clock limit of one run (the sandbox's wallMs for `exec`). */
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000 })),
  cpuMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000 })),
  memoryMb: Type.Optional(Type.Integer({ minimum: 16, maximum: 65_536 })),
  pids: Type.Optional(Type.Integer({ minimum: 8, maximum: 4096 })),
  diskMb: Type.Optional(Type.Integer({ minimum: 1, maximum: 16_384 })),
  outputBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024 })),
}, { additionalProperties: false })

/**
 * When POST /v1/tasks answers: `local` (default) once the submission is fsynced in this
 * node's ledger; `replicated` once, in addition, at least one other node has fsynced it.
 */
export const DurabilitySchema = Type.Union([Type.Literal('local'), Type.Literal('replicated')])

/** The fields every kind shares; a kind's own fields are added to these. */
export const EnvelopeProperties = {
  kind: Type.String({ minLength: 1, maxLength: 64 }),
  priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 9 })),
  requirements: Type.Optional(RequirementsSchema),
  limits: Type.Optional(LimitsSchema),
  durability: Type.Optional(DurabilitySchema),
  /** Peer ids to place the task elsewhere than, where another node can run it now (a retry after a node's failure). */
  avoid: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 16 })),
}

export type Requirements = Type.Static<typeof RequirementsSchema>
export type Limits = Type.Static<typeof LimitsSchema>
export type Durability = Type.Static<typeof DurabilitySchema>

export const TASK_STATES = ['pending', 'awarded', 'running', 'succeeded', 'failed', 'cancelled'] as const
export type TaskStateName = typeof TASK_STATES[number]
/** The states a task never leaves (the one definition; the fold, the API, the CLI and runToEnd read it). */
export const TERMINAL_STATES: readonly TaskStateName[] = ['succeeded', 'failed', 'cancelled']
const terminal = new Set<string>(TERMINAL_STATES)
export const isTerminal = (state: string): boolean => terminal.has(state)

const Outcome = Type.Enum(['succeeded', 'failed', 'lost', 'cancelled', 'late-succeeded', 'late-failed'])
const Iso = Type.String({ description: 'ISO 8601 time' })

/** One task as GET /v1/tasks/:id shows it. */
export const TaskViewSchema = Type.Object({
  id: TaskIdSchema,
  kind: Type.String(),
  state: Type.Enum(TASK_STATES),
  priority: Type.Integer(),
  submittedAt: Iso,
  updatedAt: Iso,
  auctioneer: Type.String(),
  requirements: Type.Record(Type.String(), Type.Unknown()),
  attempts: Type.Array(Type.Object({
    attempt: Type.Integer(),
    node: Type.String(),
    awardedAt: Iso,
    startedAt: Type.Optional(Iso),
    endedAt: Type.Optional(Iso),
    outcome: Type.Optional(Outcome),
    error: Type.Optional(Type.String()),
  })),
  /** The deciding attempt's result (kind-specific: `exec` gives the sandbox result). */
  result: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  error: Type.Optional(Type.String()),
  /** Recorded steps of a long task (a `build`'s attempts): files as blobs, a kind-specific summary. */
  checkpoints: Type.Optional(Type.Array(Type.Object({
    step: Type.Integer(),
    attempt: Type.Integer(),
    node: Type.String(),
    at: Iso,
    basedOn: Type.Union([Type.Integer(), Type.Null()]),
    files: Type.Record(Type.String(), Type.Object({ digest: Type.String(), size: Type.Integer() })),
    summary: Type.Record(Type.String(), Type.Unknown()),
  }))),
  feedback: Type.Optional(Type.Array(Type.Object({ verdict: Type.String(), note: Type.Optional(Type.String()), node: Type.String(), at: Iso }))),
  /** Why no node runs it now (`wait`) or ever (`impossible`), grouped by reason. */
  blocked: Type.Optional(Type.Object({
    verdict: Type.Union([Type.Literal('wait'), Type.Literal('impossible')]),
    nodes: Type.Integer(),
    at: Iso,
    reasons: Type.Array(Type.Object({ check: Type.String(), fit: Type.String(), reason: Type.String(), nodes: Type.Integer() })),
  })),
  /** Its entries were compacted: this view is the summary's folded state (see `/v1/tasks/:id/history`). */
  compacted: Type.Optional(Type.Literal(true)),
  /** Its summary expired (`ledger.retention.summariesMs`): only state, kind and times remain. */
  expired: Type.Optional(Type.Literal(true)),
  /** Its summary has not reached this node yet (it joined by state table) and no peer gave it: only state, kind and times. */
  partial: Type.Optional(Type.Literal(true)),
})

export type TaskViewT = Type.Static<typeof TaskViewSchema>

export const SubmitReplySchema = Type.Object({ id: TaskIdSchema, state: Type.String() })
export type SubmitReplyT = Type.Static<typeof SubmitReplySchema>

/** A task event (SSE `event:` name and `data:`). */
export type TaskEvent =
  | { type: 'state', task: TaskViewT }
  | { type: 'log', task: string, stream: 'stdout' | 'stderr' | 'worker', line: string }
  | { type: 'progress', task: string, stage: string, done?: number, total?: number }
  /** Generated text (model kinds): `offset` is where it starts in the whole output, `tokens` the count so far. */
  | { type: 'token', task: string, text: string, offset: number, tokens: number }
