/** What the API shows of the ledger's retention: status figures, a task's history or summary, compact now. */
import { UsageError } from '../base/index.js'
import type { CompactionSchedule, TaskLedger } from '../ledger/index.js'
import type { CompactBodyT, HistoryT, LedgerStatusT } from './api/index.js'

const iso = (ms: number | undefined): string | null => ms === undefined || ms === 0 ? null : new Date(ms).toISOString()

export async function retentionStatus (ledger: TaskLedger, schedule: CompactionSchedule | undefined): Promise<Partial<LedgerStatusT>> {
  const { retention, store } = ledger
  const heads = ledger.versionVector()
  let compactedEntries = 0
  let oldest: LedgerStatusT['oldestLiveEntry'] = null
  for (const [author, head] of Object.entries(heads)) {
    const floor = retention.floor(author)
    compactedEntries += floor
    if (head <= floor) continue
    const [first] = await store.range(author, floor + 1, head, 1)
    if (first !== undefined && (oldest === null || first.entry.hlc.wall < Date.parse(oldest.at))) oldest = { author, seq: first.entry.seq, at: new Date(first.entry.hlc.wall).toISOString() }
  }
  const [totals, bytesOnDisk] = await Promise.all([retention.totals(), store.db.approximateSize('L:', 'L:\uffff')])
  return {
    liveEntries: ledger.entryCount() - compactedEntries,
    compactedEntries,
    compactedTasks: totals.tasks,
    expiredTasks: totals.expired ?? 0,
    bytesOnDisk,
    oldestLiveEntry: oldest,
    lastCompactionAt: iso(totals.at),
    nextCompactionAt: iso(schedule?.nextAt),
    retention: schedule === undefined ? undefined : { ...schedule.settings },
  }
}

export async function taskHistory (ledger: TaskLedger, id: string): Promise<HistoryT | undefined> {
  await ledger.task(id) // a compacted task known only by its state table row: its summary is fetched first
  const record = await ledger.store.task(id)
  if (record === undefined) return undefined
  const entries = (await ledger.history(id) ?? []).map(({ id: entryId, entry }) => ({ id: entryId, ...entry }))
  if (record.state?.expired === true) return { entries, compacted: true, expired: true }
  if (record.state?.partial === true) return { entries, compacted: true, partial: true }
  return record.summary === undefined ? { entries } : { entries, compacted: true, summary: record.summary as unknown as NonNullable<HistoryT['summary']> }
}

export async function compactNow (schedule: CompactionSchedule, options: { olderThanMs?: number, signal?: AbortSignal }): Promise<CompactBodyT> {
  const afterMs = options.olderThanMs ?? schedule.settings.afterMs
  if (afterMs === 0 && options.olderThanMs === undefined) throw new UsageError('compaction is off (ledger.retention.afterMs is 0): give olderThanMs to compact anyway')
  const result = await schedule.runNow({ afterMs, signal: options.signal })
  return { tasks: result.tasks, entries: result.entries, horizon: new Date(result.horizon).toISOString() }
}
