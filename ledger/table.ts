/**
 * The state table: one row per compacted task (L:table:<task>, format in
 * protocols/snapshot-table.ts), kept beside its summary by every node (compaction and every
 * summary received write it; expiry deletes it). A joining node is sent the table, not the
 * summaries, and is ready once the rows and their state and recency index keys are written:
 * three puts per task, no JSON parse. Its full summaries come afterwards (a background
 * backfill, or at once when something reads a task whose summary is missing: ledger.ts, the
 * indexer), each accepted only if its bytes hash to the digest its row names and the row
 * agrees with it. A task with a row and no summary (a "stub") never has an L:task record:
 * entries of it are indexed only after its summary came (indexer.ts).
 *
 * Trust: a table page is checked like a summary page (snapshot-page.ts): a signer the caller
 * trusts, its signature over the page, each row's shape and order, before anything is written.
 */
import type { ClassicLevel } from 'classic-level'
import { InvalidMessageError } from '../base/index.js'
import { encodeTableRow, summaryDigest, tableDigest, tableRows, type TablePage } from '../protocols/index.js'
import { verifyBytes } from './crypto.js'
import { hlcKey } from './hlc.js'
import { P, END, type BatchOp } from './keys.js'
import type { TaskState } from './fold.js'
import type { Summary } from './summary.js'

/** The stored row (value of L:table:<task>) of a summary and its canonical JSON. */
export function tableValue (summary: Summary, json: string): string {
  const submitted = summary.proof.find(e => e.type === 'submitted')
  const recent = hlcKey(submitted?.hlc ?? { wall: summary.state.submittedAt, logical: 0 })
  return encodeTableRow({ digest: summaryDigest(json), state: summary.state.state as 'succeeded', updatedAt: summary.state.updatedAt, recent, kind: summary.state.kind })
}

/** Check a table page's signer and signature, then its rows; throws InvalidMessageError. */
export function openTablePage (page: TablePage, trusted: (peerId: string) => boolean): Array<[task: string, value: string]> {
  if (!trusted(page.signer)) throw new InvalidMessageError(`snapshot table signed by ${page.signer}, not a member this node trusts`)
  if (!verifyBytes(page.signer, tableDigest(page.body), page.sig)) throw new InvalidMessageError(`snapshot table page with a bad signature of ${page.signer}`)
  return tableRows(page)
}

async function keysIn (db: ClassicLevel<string, string>, prefix: string, first: string, last: string): Promise<Set<string>> {
  return new Set((await db.keys({ gte: prefix + first, lte: prefix + last }).all()).map(k => k.slice(prefix.length)))
}

/**
 * Ops that apply verified rows. A task this node holds nothing of (the usual case on join)
 * gets its row and its state and recency index keys; one whose row it holds already, nothing.
 * One it holds entries of (an L:task record) gets its row only: its summary, fetched later,
 * goes through summaryOps, which folds those entries on top and moves the index. One whose
 * other summary it holds (a shorter one: the peer's covers later entries) loses that summary
 * to the row, its state index key moved to the row's state. `added`: tasks that had no summary.
 */
export async function tableOps (db: ClassicLevel<string, string>, rows: ReadonlyArray<readonly [string, string]>): Promise<{ ops: BatchOp[], added: number }> {
  const ops: BatchOp[] = []
  if (rows.length === 0) return { ops, added: 0 }
  const [first, last] = [rows[0][0], rows[rows.length - 1][0]]
  // Range reads (one seek each) rather than a lookup per task: a new node holds none of them.
  const [held, records, summaries] = await Promise.all([
    db.iterator({ gte: P.table + first, lte: P.table + last }).all().then(r => new Map(r.map(([k, v]) => [k.slice(P.table.length), v]))),
    keysIn(db, P.task, first, last),
    keysIn(db, P.summary, first, last),
  ])
  let added = 0
  for (const [task, value] of rows) {
    if (held.get(task) === value) continue
    ops.push({ type: 'put', key: P.table + task, value })
    // "<digest> <state> <updatedAt> <recent> <kind>", checked by the row pattern: cut at the spaces.
    const s1 = value.indexOf(' ')
    const s2 = value.indexOf(' ', s1 + 1)
    const s3 = value.indexOf(' ', s2 + 1)
    const state = value.slice(s1 + 1, s2)
    if (summaries.has(task)) {
      ops.push({ type: 'del', key: P.summary + task })
      if (records.has(task)) continue
      const before = JSON.parse(await db.get(P.summary + task) as string) as Summary
      if (before.state.state !== state) ops.push({ type: 'del', key: `${P.state}${before.state.state}!${task}` }, { type: 'put', key: `${P.state}${state}!${task}`, value: '' })
      continue
    }
    added++
    if (records.has(task)) continue
    ops.push({ type: 'put', key: `${P.state}${state}!${task}`, value: '' }, { type: 'put', key: `${P.recent}${value.slice(s3 + 1, value.indexOf(' ', s3 + 1))}!${task}`, value: '' })
  }
  return { ops, added }
}

/** Of `ids`, the tasks that have a row and no summary (stubs), with their rows. */
export async function stubsOf (db: ClassicLevel<string, string>, ids: readonly string[]): Promise<Map<string, string>> {
  const stubs = new Map<string, string>()
  if (ids.length === 0) return stubs
  const rows = await db.getMany(ids.map(id => P.table + id))
  const withRow = ids.flatMap((id, i) => rows[i] === undefined ? [] : [[id, rows[i]] as const])
  if (withRow.length === 0) return stubs
  const summaries = await db.getMany(withRow.map(([id]) => P.summary + id))
  withRow.forEach(([id, row], i) => { if (summaries[i] === undefined) stubs.set(id, row) })
  return stubs
}

/** Up to `limit` stubs after task `after`, in task order (the backfill's next request). */
export async function nextStubs (db: ClassicLevel<string, string>, after: string, limit: number): Promise<{ ids: string[], scanned: number, last?: string }> {
  const keys = await db.keys({ gt: P.table + after, lt: P.table + END, limit }).all()
  const ids = keys.map(k => k.slice(P.table.length))
  const summaries = ids.length === 0 ? [] : await db.getMany(ids.map(id => P.summary + id))
  return { ids: ids.filter((_, i) => summaries[i] === undefined), scanned: ids.length, last: ids[ids.length - 1] }
}

/** A stub's state as far as its row tells (no attempts, spec or result: its summary is not here yet). */
export function rowState (id: string, value: string): TaskState {
  const [, state, updatedAt, recent, kind] = value.split(' ')
  return { id, kind: decodeURIComponent(kind), priority: 0, spec: {}, auctioneer: '', epoch: 1, state: state as TaskState['state'], submittedAt: Number(recent.slice(0, 15)), updatedAt: Number(updatedAt), attempts: [], conflicts: [], compacted: true, partial: true }
}

/** Format 2 → 3 of one database: a row for every summary held. Idempotent; returns the rows written. */
export async function buildTable (db: ClassicLevel<string, string>, batchSize = 1000): Promise<number> {
  let ops: BatchOp[] = []
  let written = 0
  for await (const [key, json] of db.iterator({ gt: P.summary, lt: P.summary + END })) {
    ops.push({ type: 'put', key: P.table + key.slice(P.summary.length), value: tableValue(JSON.parse(json) as Summary, json) })
    written++
    if (ops.length >= batchSize) { await db.batch(ops, { sync: true }); ops = [] }
  }
  if (ops.length > 0) await db.batch(ops, { sync: true })
  return written
}
