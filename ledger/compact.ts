/**
 * One compaction run, as a job of the ledger's write queue (it runs alone: everything written
 * before it is on disk, nothing is written while it reads). It reads each author's indexed
 * entries above its checkpoint, takes the tasks that are terminal and have no entry at or
 * after `horizon`, plans the cut (plan.ts), and writes in one atomic batch: each compacted
 * task's summary (stored once, under L:summary, and its state table row; its L:task record goes), the new checkpoint
 * entry of each author whose chain was cut, and the deletion of every log record and id
 * lookup at or below it. Heads, the state and recency indexes, and equivocation evidence are
 * untouched. A crash before the batch leaves the ledger as it was; after it, compacted.
 *
 * Limit: one run reads all live entries (bounded by what is live: compaction keeps it small).
 */
import { encodeSummary, isTerminal } from '../protocols/index.js'
import { planCompaction, type ChainEntry } from './plan.js'
import { summarize, summaryState, type Summary } from './summary.js'
import { P, logValue, parseLogValue, seqKey, type BatchOp, type Head, type LedgerStore, type Stored } from './store.js'
import { readRecords, recordOp } from './records.js'
import { tableValue } from './table.js'

/** `expired`: summaries dropped after `ledger.retention.summariesMs` (expire.ts). */
export interface CompactionTotals { at: number, horizon: number, tasks: number, entries: number, expired?: number }
export interface CompactionResult { tasks: number, entries: number, checkpoints: Map<string, Stored> }

export interface CompactionInput {
  store: LedgerStore
  heads: ReadonlyMap<string, Head>
  /** How far the task index has read each author's log: only indexed entries are compacted. */
  marks: ReadonlyMap<string, number>
  checkpoints: ReadonlyMap<string, Stored>
  horizon: number
  now: number
}

export async function compactionOps (input: CompactionInput): Promise<{ ops: BatchOp[], result: CompactionResult, summaries: Summary[] }> {
  const { store } = input
  const chains = new Map<string, ChainEntry[]>()
  const logged = new Map<string, Array<{ key: string, value: string, stored: Stored }>>()
  for (const [author, head] of input.heads) {
    const from = (input.checkpoints.get(author)?.entry.seq ?? 0) + 1
    const to = Math.min(head.seq, input.marks.get(author) ?? 0)
    if (from > to) continue
    const rows = await store.db.iterator({ gte: P.log + seqKey(author, from), lte: P.log + seqKey(author, to) }).all()
    const entries = rows.map(([key, value]) => ({ key, value, stored: parseLogValue(value) }))
    logged.set(author, entries)
    chains.set(author, entries.map(e => ({ seq: e.stored.entry.seq, task: e.stored.entry.task })))
  }
  const taskIds = [...new Set([...chains.values()].flatMap(c => c.map(e => e.task)))]
  const records = await readRecords(store.db, taskIds)
  const summaries = new Map<string, Summary>()
  const again = new Set<string>()
  taskIds.forEach((id, i) => {
    const record = records[i]
    if (record === undefined) return
    if (record.state === null || !isTerminal(record.state.state) || record.entries.some(e => e.entry.hlc.wall >= input.horizon)) return
    const summary = summarize(record.entries, record.summary)
    if (summary !== undefined) summaries.set(id, summary)
    if (record.summary !== undefined) again.add(id)
  })
  const plan = planCompaction(chains, new Set(summaries.keys()))
  const ops: BatchOp[] = []
  for (const task of plan.tasks) {
    const summary = summaries.get(task) as Summary
    ops.push(recordOp(task, { entries: [], state: summaryState(summary), summary }))
    const json = encodeSummary(summary)
    ops.push({ type: 'put', key: P.summary + task, value: json }, { type: 'put', key: P.table + task, value: tableValue(summary, json) })
  }
  let entries = 0
  const checkpoints = new Map<string, Stored>()
  for (const [author, seq] of plan.checkpoints) {
    for (const e of logged.get(author) ?? []) {
      if (e.stored.entry.seq > seq) break
      ops.push({ type: 'del', key: e.key }, { type: 'del', key: P.id + e.stored.id })
      entries++
      if (e.stored.entry.seq === seq) checkpoints.set(author, e.stored)
    }
    ops.push({ type: 'put', key: P.ckpt + author, value: logValue(checkpoints.get(author) as Stored) })
  }
  const before = await compactionTotals(store)
  const fresh = [...plan.tasks].filter(t => !again.has(t)).length
  const totals: CompactionTotals = { ...before, at: input.now, horizon: input.horizon, tasks: before.tasks + fresh, entries: before.entries + entries }
  ops.push({ type: 'put', key: P.compaction, value: JSON.stringify(totals) })
  return { ops, result: { tasks: fresh, entries, checkpoints }, summaries: [...plan.tasks].map(t => summaries.get(t) as Summary) }
}

export async function compactionTotals (store: LedgerStore): Promise<CompactionTotals> {
  const raw = await store.db.get(P.compaction)
  return raw === undefined ? { at: 0, horizon: 0, tasks: 0, entries: 0 } : JSON.parse(raw) as CompactionTotals
}
