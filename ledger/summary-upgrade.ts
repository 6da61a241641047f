/**
 * Data dir format 3 → 4 of one database: every stored format-1 summary (its deciding result
 * held twice, every attempt's result inline) is rewritten as format 2 (summary.ts
 * upgradeSummary), with its state table row, whose digest names the new bytes. Idempotent
 * (a format-2 summary is left as it is); batches of `batchSize`; LevelDB then reclaims the
 * old bytes. Every node rewrites the same v1 bytes to the same v2 bytes, so replicas that
 * agreed before still agree.
 */
import type { ClassicLevel } from 'classic-level'
import { encodeSummary, SUMMARY_VERSION } from '../protocols/index.js'
import { P, END, type BatchOp } from './keys.js'
import { upgradeSummary, type Summary } from './summary.js'
import { tableValue } from './table.js'

/** Returns how many summaries were rewritten. */
export async function upgradeSummaries (db: ClassicLevel<string, string>, batchSize = 1000): Promise<number> {
  let ops: BatchOp[] = []
  let changed = 0
  for await (const [key, value] of db.iterator({ gt: P.summary, lt: P.summary + END })) {
    const stored = JSON.parse(value) as Summary
    if (stored.v === SUMMARY_VERSION) continue
    const summary = upgradeSummary(stored)
    const json = encodeSummary(summary)
    const task = key.slice(P.summary.length)
    const hasRow = await db.get(P.table + task) !== undefined
    ops.push({ type: 'put', key, value: json })
    // An expired summary has no row (expire.ts deletes both); a held one always has one after format 3.
    if (hasRow) ops.push({ type: 'put', key: P.table + task, value: tableValue(summary, json) })
    changed++
    if (ops.length >= batchSize) { await db.batch(ops, { sync: true }); ops = [] }
  }
  if (ops.length > 0) await db.batch(ops, { sync: true })
  if (changed > 0) await db.compactRange(P.summary, P.summary + END)
  return changed
}
