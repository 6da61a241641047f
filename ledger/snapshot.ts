/**
 * Snapshot join: applying what a peer's ledger compacted, for a node that lacks the entries.
 * The peer sends every summary it holds in signed pages (verified before this runs:
 * snapshot-page.ts), then each author's checkpoint entry (verified by its author's signature). A summary replaces the task's record, keeping the node's own
 * entries of the task that the summary does not cover; a checkpoint above the node's head
 * moves the head there (its id is what the next entry's `prev` must name), deletes the
 * node's entries below it (all of them belong to tasks whose summaries came first) and marks
 * them indexed. A checkpoint at or below the head changes nothing: this node holds those
 * entries and compacts them itself. Summaries come before checkpoints, so a sync cut between
 * them leaves the head behind and the next sync sends them again (applying one twice is a no-op).
 */
import { encodeSummary, type Entry } from '../protocols/index.js'
import { InvalidMessageError } from '../base/index.js'
import { verifySignature, idOf } from './crypto.js'
import { foldTask } from './fold.js'
import { summaryState } from './summary.js'
import { hlcKey } from './hlc.js'
import { P, logValue, seqKey, type BatchOp, type Head, type LedgerStore, type Stored } from './store.js'
import { readRecords, recordOp } from './records.js'
import type { PageSummary } from './snapshot-page.js'
import { tableValue } from './table.js'

/**
 * Ops that apply summaries from an opened page (snapshot-page.ts); `added`: tasks that had no
 * summary before (for the totals). A task this node never saw (the usual case on join) gets
 * only its summary, written as received, without a parse of its state or a fold.
 */
export async function summaryOps (store: LedgerStore, page: readonly PageSummary[]): Promise<{ ops: BatchOp[], applied: number, added: number }> {
  const ops: BatchOp[] = []
  const records = await readRecords(store.db, page.map(s => s.summary.task))
  let applied = 0
  let added = 0
  page.forEach(({ json, summary }, i) => {
    const before = records[i]
    if (before?.summary !== undefined && encodeSummary(before.summary) === json) return
    const entries = (before?.entries ?? []).filter(e => e.entry.seq > (summary.upTo[e.entry.author] ?? 0))
    const state = entries.length === 0 ? summaryState(summary) : foldTask(entries, summaryState(summary)) ?? null
    if (before !== undefined) ops.push(recordOp(summary.task, { entries, state, summary }))
    ops.push({ type: 'put', key: P.summary + summary.task, value: json }, { type: 'put', key: P.table + summary.task, value: tableValue(summary, json) })
    if (before?.state != null && before.state.state !== state?.state) ops.push({ type: 'del', key: `${P.state}${before.state.state}!${summary.task}` })
    if (state !== null && before?.state?.state !== state.state) ops.push({ type: 'put', key: `${P.state}${state.state}!${summary.task}`, value: '' })
    const submitted = summary.proof.find(e => e.type === 'submitted')
    if (before?.state == null && submitted !== undefined) ops.push({ type: 'put', key: `${P.recent}${hlcKey(submitted.hlc)}!${summary.task}`, value: '' })
    applied++
    if (before?.summary === undefined) added++
  })
  return { ops, applied, added }
}

/** Verify a checkpoint entry from a peer; throws InvalidMessageError. */
export function verifyCheckpoint (entry: Entry): Stored {
  if (!verifySignature(entry)) throw new InvalidMessageError(`forged checkpoint at seq ${entry.seq} of ${entry.author}`)
  return { id: idOf(entry), entry }
}

/** Ops that move an author's head up to a checkpoint above it; undefined if it is not above. */
export async function checkpointOps (store: LedgerStore, checkpoint: Stored, head: Head | undefined, floor: number): Promise<BatchOp[] | undefined> {
  const { author, seq } = checkpoint.entry
  if (seq <= (head?.seq ?? 0)) return undefined
  const ops: BatchOp[] = []
  if (head !== undefined && head.seq > floor) {
    const rows = await store.db.iterator({ gte: P.log + seqKey(author, floor + 1), lte: P.log + seqKey(author, head.seq) }).all()
    for (const [key, value] of rows) ops.push({ type: 'del', key }, { type: 'del', key: P.id + value.slice(0, 64) })
  }
  ops.push(
    { type: 'put', key: P.head + author, value: JSON.stringify({ seq, id: checkpoint.id } satisfies Head) },
    { type: 'put', key: P.indexed + author, value: String(seq) },
    { type: 'put', key: P.ckpt + author, value: logValue(checkpoint) },
  )
  return ops
}
