/**
 * How a task's record is kept on disk (data dir format 2): a compacted task's summary is
 * stored once, under L:summary:<task> (canonical bytes, served to joiners as is). L:task:<task>
 * holds only what the summary does not: a live task's entries and folded state, or, for a
 * compacted task that got entries after its summary, those entries, the state folded on top
 * and `summarized: true`. A compacted task with no later entry has no L:task record at all;
 * its state is its summary's. Readers assemble the in-memory TaskRecord from both keys.
 *
 * Format 1 kept the summary inside L:task as well (twice on disk); `readRecords` still reads
 * such a record, and the data dir migration (node/datadir/format.ts) rewrites them all.
 */
import type { ClassicLevel } from 'classic-level'
import { summaryState, type Summary } from './summary.js'
import { P, END, type BatchOp, type TaskRecord } from './keys.js'

interface DiskRecord { entries: TaskRecord['entries'], state: TaskRecord['state'], summarized?: true, summary?: Summary }

/** The op that stores `record` of task `id`: a delete when its summary says it all. */
export function recordOp (id: string, record: TaskRecord): BatchOp {
  if (record.summary !== undefined && record.entries.length === 0) return { type: 'del', key: P.task + id }
  const disk: DiskRecord = record.summary === undefined ? { entries: record.entries, state: record.state } : { entries: record.entries, state: record.state, summarized: true }
  return { type: 'put', key: P.task + id, value: JSON.stringify(disk) }
}

/** Records of tasks `ids` (undefined: unknown), their summaries read from L:summary where the record needs one. */
export async function readRecords (db: ClassicLevel<string, string>, ids: readonly string[]): Promise<Array<TaskRecord | undefined>> {
  const raw = await db.getMany(ids.map(id => P.task + id))
  const disk = raw.map(value => value === undefined ? undefined : JSON.parse(value) as DiskRecord)
  const wanted = ids.filter((_, i) => disk[i] === undefined || (disk[i]?.summarized === true && disk[i]?.summary === undefined))
  const summaries = new Map<string, string | undefined>()
  if (wanted.length > 0) {
    const found = await db.getMany(wanted.map(id => P.summary + id))
    wanted.forEach((id, i) => summaries.set(id, found[i]))
  }
  return ids.map((id, i) => {
    const record = disk[i]
    const json = summaries.get(id)
    const summary = json === undefined ? record?.summary : JSON.parse(json) as Summary
    if (record === undefined) return summary === undefined ? undefined : { entries: [], state: summaryState(summary), summary }
    return summary === undefined ? { entries: record.entries, state: record.state } : { entries: record.entries, state: record.state, summary }
  })
}

/**
 * Every task's record in task id order of each key space: live and summarized records first
 * (L:task), then compacted tasks that have only their summary. Read in batches.
 */
export async function * allRecords (db: ClassicLevel<string, string>, signal?: AbortSignal): AsyncGenerator<TaskRecord> {
  const withRecord = new Set<string>()
  for await (const [key, value] of batched(db, P.task, signal)) {
    const disk = JSON.parse(value) as DiskRecord
    const id = key.slice(P.task.length)
    if (disk.summarized === true || disk.summary !== undefined) withRecord.add(id)
    if (disk.summarized === true && disk.summary === undefined) {
      const [record] = await readRecords(db, [id])
      if (record !== undefined) yield record
    } else {
      yield { entries: disk.entries, state: disk.state, ...disk.summary === undefined ? {} : { summary: disk.summary } }
    }
  }
  for await (const [key, value] of batched(db, P.summary, signal)) {
    if (withRecord.has(key.slice(P.summary.length))) continue
    const summary = JSON.parse(value) as Summary
    yield { entries: [], state: summaryState(summary), summary }
  }
}

async function * batched (db: ClassicLevel<string, string>, prefix: string, signal?: AbortSignal): AsyncGenerator<[string, string]> {
  const iterator = db.iterator({ gt: prefix, lt: prefix + END })
  try {
    for (let batch = await iterator.nextv(256); batch.length > 0; batch = await iterator.nextv(256)) {
      signal?.throwIfAborted()
      yield * batch
    }
  } finally {
    await iterator.close()
  }
}

/**
 * Format 1 → 2 of one database: every L:task record that embeds its summary is deleted (no
 * entries after it) or rewritten without it. Idempotent; batches of `batchSize` records.
 * Returns how many records changed.
 */
export async function migrateRecords (db: ClassicLevel<string, string>, batchSize = 1000): Promise<number> {
  let changed = 0
  let ops: BatchOp[] = []
  for await (const [key, value] of batched(db, P.task)) {
    const disk = JSON.parse(value) as DiskRecord
    if (disk.summary === undefined) continue
    ops.push(recordOp(key.slice(P.task.length), { entries: disk.entries, state: disk.state, summary: disk.summary }))
    changed++
    if (ops.length >= batchSize) { await db.batch(ops, { sync: true }); ops = [] }
  }
  if (ops.length > 0) await db.batch(ops, { sync: true })
  if (changed > 0) await db.compactRange(P.task, P.task + END)
  return changed
}
