/**
 * Compaction summaries: what replaces the entries of a task that a compaction removed.
 *
 * `{ v, task, state, proof, upTo }`: `state` is the task's folded state (as `ledger/fold.ts`
 * derives it, less the deciding result, which the proof holds, and results of other attempts
 * over SUMMARY_INLINE_BYTES), `proof` the task's original signed entries that decided it (its `submitted`,
 * and the `awarded` + `finished` of the deciding attempt, or the `cancelled` / `abandoned`
 * entry), `upTo` the highest seq of each author among the entries it replaces (entries above
 * them still count on top of the summary). A summary is derived from the entries alone, so
 * every node that compacts the same entries writes the same bytes (canonical JSON); it is
 * trusted by checking the proof's signatures and that the state agrees with them. Pure.
 */
import { createHash } from 'node:crypto'
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { InvalidMessageError } from '../base/index.js'
import { canonicalJson, TaskIdSchema, validateEntry, type Entry } from './ledger.js'

/**
 * 2: the state no longer carries the deciding attempt's `result` (its `finished` entry in the
 * proof does; restored on read by ledger/summary.ts summaryState), and other attempts keep a
 * result inline only up to SUMMARY_INLINE_BYTES. 1 (read, never written): the state holds
 * every result, so the deciding one twice.
 */
export const SUMMARY_VERSION = 2 as const
export type SummaryVersion = 1 | typeof SUMMARY_VERSION
/** A summary larger than this (encoded) is rejected. */
export const SUMMARY_MAX_BYTES = 1024 * 1024
/**
 * The most a summary keeps inline of the result of an attempt that did not decide the task
 * (canonical JSON bytes); a bigger one is left out (`resultOmittedBytes` says how big it was;
 * blobs it named stay named by `resultDigest`). The deciding result is the signed `finished`
 * entry's, which the proof must carry whole: that is bounded by what a `finished` entry holds
 * inline (tasks/outputs.ts INLINE_BYTES per stream; more goes to a blob by digest).
 */
export const SUMMARY_INLINE_BYTES = 1024

const SummarySchema = Type.Object({
  v: Type.Union([Type.Literal(1), Type.Literal(SUMMARY_VERSION)]),
  task: TaskIdSchema,
  state: Type.Record(Type.String(), Type.Unknown()),
  proof: Type.Array(Type.Object({ type: Type.String({ maxLength: 32 }), task: Type.String({ maxLength: 64 }) }), { minItems: 1, maxItems: 8 }),
  upTo: Type.Record(Type.String({ minLength: 16, maxLength: 128 }), Type.Integer({ minimum: 1 })),
}, { additionalProperties: false })
const checkSummary = Compile(SummarySchema)

export interface TaskSummary<State = Record<string, unknown>> {
  v: SummaryVersion
  task: string
  state: State
  proof: Entry[]
  upTo: Record<string, number>
}

/** Canonical bytes of a summary: identical on every node that derived it from the same entries. */
export function encodeSummary (summary: TaskSummary<unknown>): string {
  return canonicalJson(summary)
}

export function summaryId (summary: TaskSummary<unknown>): string {
  return createHash('sha256').update(encodeSummary(summary)).digest('hex')
}

/**
 * Shape check (no signatures, no consistency: see ledger/summary.ts verifySummary).
 * `proof: 'submitted'` checks only the `submitted` proof entry in full (what a snapshot join
 * reads of the proof: its time, for the recency index); the rest is carried for an audit,
 * which checks every entry (`'all'`, the default).
 */
export function validateSummary (value: unknown, options: { proof?: 'all' | 'submitted' } = {}): TaskSummary {
  if (!checkSummary.Check(value)) {
    const first = checkSummary.Errors(value)[0]
    throw new InvalidMessageError(`summary fails schema at ${first?.instancePath ?? ''}: ${first?.message ?? 'invalid'}`)
  }
  const proof = options.proof === 'submitted'
    ? value.proof.map(e => (e as { type?: unknown }).type === 'submitted' ? validateEntry(e) : e as Entry)
    : value.proof.map(validateEntry)
  if (!proof.some(e => e.type === 'submitted')) throw new InvalidMessageError('a summary without its submitted entry')
  if (proof.some(e => e.task !== value.task)) throw new InvalidMessageError('a summary proves another task')
  if (Object.keys(value.upTo).length > 64) throw new InvalidMessageError('a summary names too many authors')
  return { ...value, proof }
}
