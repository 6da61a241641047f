/**
 * Deriving and checking compaction summaries (see protocols/ledger-summary.ts). Pure.
 *
 * summarize: the folded state of a task's entries (on top of an earlier summary, if the task
 * was compacted before and got late entries), the deciding entries as proof, and the highest
 * seq per author it covers. Same entries in, same bytes out, on every node. Each output is
 * held once (format v2): the deciding attempt's result only in its signed `finished` entry
 * (summaryState puts it back into the state on read), other attempts' results only up to
 * SUMMARY_INLINE_BYTES each.
 *
 * verifySummary: what a node that never saw the entries can check. Every proof entry must
 * carry its author's valid signature, and the state must agree with them: the task's kind,
 * priority, spec and submission time are the `submitted` entry's; a succeeded or failed
 * state names its deciding attempt, whose node the `awarded` entry (by the submitter or the
 * auctioneer of record) named and whose `finished` entry (by that node) carries the same
 * outcome, digest, result and error; a cancelled state carries a `cancelled` entry with its
 * reason; a failed task given up carries the auctioneer's `abandoned` entry. A peer can
 * therefore not invent a result, a success or a cancellation; it can withhold summaries
 * (as it can withhold entries) and it can misstate the history of attempts that did not
 * decide the task (kept for inspection only).
 */
import { canonicalJson, isTerminal, SUMMARY_INLINE_BYTES, SUMMARY_VERSION, type Bodies, type Entry, type TaskSummary } from '../protocols/index.js'
import { InvalidMessageError } from '../base/index.js'
import { verifySignature } from './crypto.js'
import { canonicalOrder, foldTask, type TaskState } from './fold.js'

export type Summary = TaskSummary<TaskState>

/** The summary of a terminal task's entries (and of its earlier summary); undefined if not terminal. */
export function summarize (entries: ReadonlyArray<{ id: string, entry: Entry }>, before?: Summary): Summary | undefined {
  const folded = foldTask(entries, before === undefined ? undefined : summaryState(before))
  if (folded === undefined || !isTerminal(folded.state)) return undefined
  const { compacted: _compacted, ...state } = folded
  const candidates = [...before?.proof ?? [], ...entries.map(s => s.entry)].sort(canonicalOrder)
  const upTo: Record<string, number> = { ...before?.upTo }
  for (const { entry } of entries) upTo[entry.author] = Math.max(upTo[entry.author] ?? 0, entry.seq)
  const proof = proofOf(state, candidates)
  if (proof === undefined) return undefined
  // Through JSON once: the stored and the freshly derived summary are then the same value.
  return JSON.parse(canonicalJson({ v: SUMMARY_VERSION, task: state.id, state: withoutCopies(state), proof, upTo })) as Summary
}

/** The state a summary stands for: a v2 summary's with its deciding result put back from the proof (a new object; the summary is untouched). */
export function summaryState (summary: Summary): TaskState {
  const state = summary.state
  const decided = state.decidedBy === undefined ? undefined : state.attempts[state.decidedBy - 1]
  if (summary.v === 1 || decided === undefined) return state
  const result = (deciding(summary.proof, decided)?.body as Bodies['finished'] | undefined)?.result
  if (result === undefined) return state
  return { ...state, attempts: state.attempts.map(a => a === decided ? { ...a, result } : a) }
}

/** A format-1 summary as format 2: the same entries' summary as summarize writes it now (deterministic, so replicas still agree byte for byte). */
export function upgradeSummary (summary: Summary): Summary {
  if (summary.v === SUMMARY_VERSION) return summary
  return JSON.parse(canonicalJson({ ...summary, v: SUMMARY_VERSION, state: withoutCopies(summary.state) })) as Summary
}

/** The state as a v2 summary stores it: no deciding result (the proof has it), other results only when small. */
function withoutCopies (state: TaskState): TaskState {
  const attempts = state.attempts.map((a, i) => {
    if (a.result === undefined) return a
    const { result, ...rest } = a
    if (i + 1 === state.decidedBy) return rest
    const bytes = Buffer.byteLength(canonicalJson(result))
    return bytes <= SUMMARY_INLINE_BYTES ? a : { ...rest, resultOmittedBytes: bytes }
  })
  return { ...state, attempts }
}

const deciding = (proof: readonly Entry[], attempt: TaskState['attempts'][number]): Entry | undefined =>
  proof.find(e => e.type === 'finished' && e.author === attempt.node && (e.body as Bodies['finished']).attempt === attempt.attempt)

/** The deciding entries among `candidates` (canonical order), or undefined if any is missing. */
function proofOf (state: TaskState, candidates: readonly Entry[]): Entry[] | undefined {
  const submitted = candidates.find(e => e.type === 'submitted')
  if (submitted === undefined) return undefined
  const proof = [submitted]
  const pick = (test: (e: Entry) => boolean): boolean => {
    const found = candidates.find(test)
    if (found !== undefined && !proof.includes(found)) proof.push(found)
    return found !== undefined
  }
  const decided = state.decidedBy === undefined ? undefined : state.attempts[state.decidedBy - 1]
  if (decided !== undefined) {
    if (!pick(e => isAward(e, decided.attempt, decided.node, submitted.author, state.auctioneer))) return undefined
    if (!pick(e => isFinish(e, decided))) return undefined
  }
  if (state.state === 'cancelled' && !pick(e => e.type === 'cancelled' && (e.body as Bodies['cancelled']).reason === state.cancelReason)) return undefined
  if (state.abandonedReason !== undefined && !pick(e => e.type === 'abandoned' && (e.body as Bodies['abandoned']).reason === state.abandonedReason && isAuctioneer(e.author, submitted.author, state.auctioneer))) return undefined
  return proof.sort(canonicalOrder)
}

const isAuctioneer = (author: string, submitter: string, auctioneer: string): boolean => author === submitter || author === auctioneer

function isAward (e: Entry, attempt: number, node: string, submitter: string, auctioneer: string): boolean {
  const body = e.body as Bodies['awarded']
  return e.type === 'awarded' && body.attempt === attempt && body.node === node && isAuctioneer(e.author, submitter, auctioneer)
}

function isFinish (e: Entry, attempt: TaskState['attempts'][number]): boolean {
  if (e.type !== 'finished' || e.author !== attempt.node) return false
  const body = e.body as Bodies['finished']
  const outcome = attempt.outcome === 'late-succeeded' ? 'succeeded' : attempt.outcome === 'late-failed' ? 'failed' : attempt.outcome
  return body.attempt === attempt.attempt && body.outcome === outcome && body.resultDigest === attempt.resultDigest &&
    body.error === attempt.error && canonicalJson(body.result ?? null) === canonicalJson(attempt.result ?? null)
}

/**
 * Check a summary received from a peer (shape already validated). Throws InvalidMessageError
 * naming the first disagreement; returns the summary typed.
 */
export function verifySummary (summary: TaskSummary): Summary {
  const stored = summary.state as unknown as TaskState
  const fail = (why: string): never => { throw new InvalidMessageError(`summary of ${summary.task} rejected: ${why}`) }
  if (typeof stored !== 'object' || stored.id !== summary.task || !isTerminal(stored.state) || !Array.isArray(stored.attempts)) fail('its state is not a terminal state of this task')
  for (const entry of summary.proof) if (!verifySignature(entry)) fail(`bad signature on ${entry.type} by ${entry.author}`)
  if (summary.v !== 1) {
    stored.attempts.forEach((a, i) => {
      if (a.result === undefined) return
      if (i + 1 === stored.decidedBy) fail('its state carries the deciding result, which the proof holds')
      if (Buffer.byteLength(canonicalJson(a.result)) > SUMMARY_INLINE_BYTES) fail('its state carries a result over the inline limit')
    })
  }
  const state = summaryState(summary as unknown as Summary)
  const submitted = summary.proof.find(e => e.type === 'submitted')
  if (submitted === undefined) return fail('no submitted entry')
  const body = submitted.body as Bodies['submitted']
  if (state.kind !== body.kind || state.priority !== body.priority || state.submittedAt !== submitted.hlc.wall || canonicalJson(state.spec) !== canonicalJson(body.spec)) fail('the state disagrees with its submitted entry')
  if (state.state === 'succeeded' || (state.state === 'failed' && state.abandonedReason === undefined)) {
    const decided = state.decidedBy === undefined ? undefined : state.attempts[state.decidedBy - 1]
    if (decided === undefined || decided.attempt !== state.decidedBy) return fail('no deciding attempt')
    const outcome = decided.outcome === 'late-succeeded' ? 'succeeded' : decided.outcome === 'late-failed' ? 'failed' : decided.outcome
    if (outcome !== state.state) fail('the deciding attempt has another outcome')
    if (!summary.proof.some(e => isAward(e, decided.attempt, decided.node, submitted.author, state.auctioneer))) fail('no award of the deciding attempt')
    if (!summary.proof.some(e => isFinish(e, decided))) fail('no finish of the deciding attempt that matches it')
  }
  if (state.state === 'cancelled' && !summary.proof.some(e => e.type === 'cancelled' && (e.body as Bodies['cancelled']).reason === state.cancelReason)) fail('no cancellation')
  if (state.state === 'failed' && state.abandonedReason !== undefined && !summary.proof.some(e => e.type === 'abandoned' && (e.body as Bodies['abandoned']).reason === state.abandonedReason && isAuctioneer(e.author, submitted.author, state.auctioneer))) fail('no abandonment')
  for (const entry of summary.proof) if ((summary.upTo[entry.author] ?? 0) < entry.seq) fail('a proof entry lies above what the summary covers')
  return summary as unknown as Summary
}

/** The blobs a task's state refers to (result digests, checkpoint files): for blob GC, which may drop those only compacted tasks name. */
export function blobRefsOf (state: TaskState): string[] {
  const refs = new Set<string>()
  for (const a of state.attempts) if (a.resultDigest !== undefined) refs.add(a.resultDigest)
  for (const c of state.checkpoints ?? []) for (const f of Object.values(c.files)) refs.add(f.digest)
  return [...refs]
}
