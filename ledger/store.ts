/**
 * The ledger's LevelDB access: reads of the log, heads, marks and task records, and the batch
 * operations that append and index entries. Key layout: keys.ts; task records: records.ts.
 *
 * Task records are also kept in memory (the most recently written or read RECORDS_CACHED):
 * the hot path (a task's submit, award, run and the API's reads of it) reads and folds them
 * without LevelDB and JSON.parse. The cache holds only committed records: `write()` puts the
 * records indexOps built once their batch is on disk, and drops a task whose record, summary
 * or tombstone any other op of the batch changes (compaction, snapshots, expiry), so a read
 * never sees what the database does not hold. Records handed out are shared: callers must not
 * change them.
 */
import type { ClassicLevel } from 'classic-level'
import { LRUCache } from 'lru-cache'
import { foldTask, canonicalOrder, type TaskState } from './fold.js'
import { summaryState } from './summary.js'
import { hlcKey } from './hlc.js'
import type { Entry } from '../protocols/index.js'
import { P, END, seqKey, logValue, parseLogValue, type BatchOp, type Head, type Stored, type TaskRecord } from './keys.js'
import { allRecords, readRecords, recordOp } from './records.js'
import { expiredState } from './expire.js'
import { rowState, stubsOf } from './table.js'
import { GryphgenError } from '../base/index.js'

/** Entries of compacted tasks whose summaries this node has not fetched yet (ledger/table.ts): fetch them, then index. */
export class SummaryNeededError extends GryphgenError {
  constructor (readonly tasks: string[]) { super(`summaries of ${tasks.length} compacted tasks are needed first`) }
}

export { P, END, seqKey, logValue, parseLogValue, type BatchOp, type Head, type Stored, type TaskRecord } from './keys.js'

/** Task records kept in memory: the tasks in flight and the recently finished (~1-2 KB each for a small task). */
export const RECORDS_CACHED = 4096

export class LedgerStore {
  readonly db: ClassicLevel<string, string>
  /** Committed task records by task id (see the header). */
  readonly #records = new LRUCache<string, TaskRecord>({ max: RECORDS_CACHED })
  /** Batches committed so far (a read that overlapped one does not fill the cache). */
  #writes = 0
  /** Writes built but not yet committed (a write group in progress): later jobs of the group read through these. */
  readonly #pendingLog = new Map<string, string>()
  readonly #pendingTasks = new Map<string, TaskRecord>()
  /** The op that stores each record in #pendingTasks (any other op on the task's keys is not it). */
  readonly #pendingOps = new Map<string, BatchOp>()

  constructor (db: ClassicLevel<string, string>) {
    this.db = db
  }

  async loadHeads (): Promise<Map<string, Head>> {
    const heads = new Map<string, Head>()
    for await (const [key, value] of this.db.iterator({ gt: P.head, lt: P.head + END })) heads.set(key.slice(P.head.length), JSON.parse(value) as Head)
    return heads
  }

  async loadIndexed (): Promise<Map<string, number>> {
    const marks = new Map<string, number>()
    for await (const [key, value] of this.db.iterator({ gt: P.indexed, lt: P.indexed + END })) marks.set(key.slice(P.indexed.length), Number(value))
    return marks
  }

  /** An entry by its id (once indexed). */
  async byId (id: string): Promise<Stored | undefined> {
    const at = await this.db.get(P.id + id)
    const value = at === undefined ? undefined : await this.db.get(P.log + at)
    return value === undefined ? undefined : parseLogValue(value)
  }

  async idAt (author: string, seq: number): Promise<string | undefined> {
    const key = P.log + seqKey(author, seq)
    const value = this.#pendingLog.get(key) ?? await this.db.get(key)
    return value?.slice(0, 64)
  }

  /** Raw stored values ("<id> <json>") of `author` from `fromSeq` to `toSeq`, `limit` at most. */
  async rangeRaw (author: string, fromSeq: number, toSeq: number, limit: number): Promise<string[]> {
    return this.db.values({ gte: P.log + seqKey(author, fromSeq), lte: P.log + seqKey(author, toSeq), limit }).all()
  }

  async range (author: string, fromSeq: number, toSeq: number, limit: number): Promise<Stored[]> {
    return (await this.rangeRaw(author, fromSeq, toSeq, limit)).map(parseLogValue)
  }

  async loadCheckpoints (): Promise<Map<string, Stored>> {
    const checkpoints = new Map<string, Stored>()
    for await (const [key, value] of this.db.iterator({ gt: P.ckpt, lt: P.ckpt + END })) checkpoints.set(key.slice(P.ckpt.length), parseLogValue(value))
    return checkpoints
  }

  /**
   * A task's record; for a task whose summary expired, no entries and the tombstone's state
   * (expire.ts); for a stub (a state table row, its summary not here yet), the row's state,
   * marked `partial` (table.ts).
   */
  async task (id: string): Promise<TaskRecord | undefined> {
    const cached = this.#records.get(id)
    if (cached !== undefined) return cached
    const writesBefore = this.#writes
    const record = (await readRecords(this.db, [id]))[0]
    if (record === undefined) {
      const state = await expiredState(this.db, id)
      if (state !== undefined) return { entries: [], state }
      const row = await this.db.get(P.table + id)
      return row === undefined ? undefined : { entries: [], state: rowState(id, row) }
    }
    // Only if no write changed it meanwhile (a write drops or replaces the task in the cache;
    // one that ran during the read may have left this read's value stale).
    if (this.#writes === writesBefore) this.#records.set(id, record)
    return record
  }

  /** Every task's record (live ones, then compacted ones), read in batches (a snapshot of the database). */
  async * taskRecords (signal?: AbortSignal): AsyncGenerator<TaskRecord> {
    yield * allRecords(this.db, signal)
  }

  async tasksByState (state: string, limit: number): Promise<string[]> {
    const prefix = `${P.state}${state}!`
    return (await this.db.keys({ gt: prefix, lt: prefix + END, limit }).all()).map(k => k.slice(prefix.length))
  }

  async recentTasks (limit: number): Promise<string[]> {
    return (await this.db.keys({ gt: P.recent, lt: P.recent + END, reverse: true, limit }).all()).map(k => k.slice(k.indexOf('!') + 1))
  }

  evidenceOps (first: Stored, second: Stored): BatchOp[] {
    return [first, second].map(s => ({ type: 'put', key: `${P.evidence}${seqKey(s.entry.author, s.entry.seq)}!${s.id}`, value: JSON.stringify(s.entry) }))
  }

  async evidence (): Promise<Entry[]> {
    return (await this.db.values({ gt: P.evidence, lt: P.evidence + END, limit: 10_000 }).all()).map(v => JSON.parse(v) as Entry)
  }

  /** A tiny write whose fsync carries every earlier unsynced write to disk with it. */
  syncMarkOp (): BatchOp {
    return { type: 'put', key: 'L:sync', value: String(Date.now()) }
  }

  /** Operations that append verified, chain-contiguous entries to the log and move the heads. */
  logOps (items: readonly Stored[], heads: ReadonlyMap<string, Head>): BatchOp[] {
    const ops: BatchOp[] = []
    for (const item of items) {
      const key = P.log + seqKey(item.entry.author, item.entry.seq)
      const value = logValue(item)
      ops.push({ type: 'put', key, value })
      this.#pendingLog.set(key, value)
    }
    for (const [author, head] of heads) ops.push({ type: 'put', key: P.head + author, value: JSON.stringify(head) })
    return ops
  }

  /**
   * Operations that add logged entries to the task index (task records, folded states, state
   * and recency indexes) and move the per-author index marks. Returns the ops and the states.
   * `newTasks`: tasks the caller knows have no record yet (just submitted here): none is read.
   */
  async indexOps (items: readonly Stored[], marks: ReadonlyMap<string, number>, newTasks?: ReadonlySet<string>): Promise<{ ops: BatchOp[], states: TaskState[] }> {
    const ops: BatchOp[] = []
    const byTask = new Map<string, Stored[]>()
    for (const item of items) {
      ops.push({ type: 'put', key: P.id + item.id, value: seqKey(item.entry.author, item.entry.seq) })
      const list = byTask.get(item.entry.task)
      if (list === undefined) byTask.set(item.entry.task, [item])
      else list.push(item)
    }
    for (const [author, seq] of marks) ops.push({ type: 'put', key: P.indexed + author, value: String(seq) })
    const taskIds = [...byTask.keys()]
    // Indexing runs inside the write queue: no batch commits meanwhile, so the cache is current.
    const unknown = taskIds.filter(id => !this.#pendingTasks.has(id) && !this.#records.has(id) && newTasks?.has(id) !== true)
    const fetched = unknown.length === 0 ? [] : await readRecords(this.db, unknown)
    // A compacted task known only by its state table row: its summary is the base of the fold, and must come first.
    const stubs = await stubsOf(this.db, unknown.filter((_, i) => fetched[i] === undefined))
    if (stubs.size > 0) throw new SummaryNeededError([...stubs.keys()])
    const stored = new Map(unknown.map((id, i) => [id, fetched[i]]))
    const states: TaskState[] = []
    for (const taskId of taskIds) {
      const before = this.#pendingTasks.get(taskId) ?? this.#records.get(taskId) ?? stored.get(taskId)
      const known = new Set(before?.entries.map(e => e.id))
      const summary = before?.summary
      // Entries a summary already covers were folded into it (a node that took a snapshot and held some of them).
      const added = (byTask.get(taskId) ?? []).filter(e => !known.has(e.id) && e.entry.seq > (summary?.upTo[e.entry.author] ?? 0))
      const entries = [...before?.entries ?? [], ...added].sort((a, b) => canonicalOrder(a.entry, b.entry))
      const state = foldTask(entries, summary === undefined ? undefined : summaryState(summary)) ?? null
      const record: TaskRecord = { entries, state, summary }
      const op = recordOp(taskId, record)
      this.#pendingTasks.set(taskId, record)
      this.#pendingOps.set(taskId, op)
      ops.push(op)
      if (before?.state != null && before.state.state !== state?.state) ops.push({ type: 'del', key: `${P.state}${before.state.state}!${taskId}` })
      if (state === null) continue
      if (before?.state?.state !== state.state) ops.push({ type: 'put', key: `${P.state}${state.state}!${taskId}`, value: '' })
      if (before?.state == null) {
        const submitted = entries.find(e => e.entry.type === 'submitted')
        if (submitted !== undefined) ops.push({ type: 'put', key: `${P.recent}${hlcKey(submitted.entry.hlc)}!${taskId}`, value: '' })
      }
      states.push(state)
    }
    return { ops, states }
  }

  /** Commit a group's ops; the overlay of uncommitted writes is dropped either way. */
  async write (ops: BatchOp[], sync: boolean): Promise<void> {
    try {
      await writeChained(this.db, ops, sync)
      this.#writes++
      // A task record indexOps built is what the database holds now, unless another op of the
      // batch touched the task's record, summary or tombstone: then the next read assembles it.
      const built = new Map<string, TaskRecord>()
      const touched = new Set<string>()
      for (const op of ops) {
        const id = taskOfKey(op.key)
        if (id === undefined) continue
        const record = this.#pendingTasks.get(id)
        if (op === this.#pendingOps.get(id) && record !== undefined) built.set(id, record)
        else if (record !== undefined || this.#records.has(id)) touched.add(id) // else nothing of it is cached or built
      }
      for (const id of touched) this.#records.delete(id)
      for (const [id, record] of built) if (!touched.has(id)) this.#records.set(id, record)
    } finally {
      this.#pendingOps.clear()
      this.#pendingLog.clear()
      this.#pendingTasks.clear()
    }
  }
}

/** The task a key of a task's record, summary or tombstone belongs to. */
function taskOfKey (key: string): string | undefined {
  // Most keys of a bulk write are index keys (L:state:, L:recent:, L:log:, L:id:): one character rules them out.
  const c = key.charCodeAt(2)
  if (c !== 0x74 && c !== 0x73 && c !== 0x65) return undefined // t(ask, able), s(ummary), e(xpired)
  for (const prefix of TASK_PREFIXES) if (key.startsWith(prefix)) return key.slice(prefix.length)
  return undefined
}
const TASK_PREFIXES = [P.task, P.summary, P.expired, P.table]

/**
 * One atomic LevelDB write of `ops`, as a chained batch: abstract-level's array batch clones
 * and re-checks every op in JS (~2 µs each). Its chained batch's public put() still builds
 * and encodes an op object per call (~0.5 µs, and garbage), so after the first op (counted by
 * the batch: write() skips a batch it counts empty) the ops go to the implementation's
 * `_put`/`_del` (classic-level's native batch): the same bytes for string keys and values on
 * the root database, which has no hooks or write listeners here. A bulk snapshot join writes
 * three keys per task, millions of them.
 */
async function writeChained (db: ClassicLevel<string, string>, ops: readonly BatchOp[], sync: boolean): Promise<void> {
  if (ops.length === 0) return
  const batch = db.batch() as ReturnType<typeof db.batch> & Partial<NativeBatch>
  const [first] = ops
  if (first.type === 'put') batch.put(first.key, first.value)
  else batch.del(first.key)
  const direct = typeof batch._put === 'function' && typeof batch._del === 'function'
  for (let i = 1; i < ops.length; i++) {
    const op = ops[i]
    if (direct) {
      if (op.type === 'put') (batch as NativeBatch)._put(op.key, op.value)
      else (batch as NativeBatch)._del(op.key)
    } else if (op.type === 'put') batch.put(op.key, op.value)
    else batch.del(op.key)
  }
  await batch.write({ sync })
}
interface NativeBatch { _put: (key: string, value: string) => void, _del: (key: string) => void }
