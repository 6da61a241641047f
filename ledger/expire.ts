/**
 * Expiry of old summaries (`ledger.retention.summariesMs`): a compacted task whose state last
 * changed before the horizon loses its summary, its state and recency index keys, and keeps
 * only a tombstone, `L:expired:<task>` -> "<state> <kind> <submittedAt> <updatedAt>" (a few
 * dozen bytes instead of ~2-4 KB), so a node that runs for months holds summaries for one
 * window only. The task still answers by id: its final state, kind and times, marked
 * `compacted` and `expired` (attempts, spec and result are gone; outputs were blob GC's long
 * before). Lists no longer show it. A compacted task with entries after its summary (an
 * L:task record) is left until a compaction folds them in.
 *
 * Deterministic per node (the horizon is the node's clock minus the window), not across nodes
 * to the millisecond: replicas converge once each has run past the same horizon. Expired
 * summaries are not served to joiners (they are gone); a joiner answers 404 for them.
 * Tombstones still grow, by ~50 bytes per task: ~1/50 of what summaries took.
 */
import type { TaskStateName } from '../protocols/index.js'
import type { TaskState } from './fold.js'
import { hlcKey } from './hlc.js'
import { END, P, type BatchOp } from './keys.js'
import { readRecords } from './records.js'
import type { ClassicLevel } from 'classic-level'

/** Ops that expire at most `limit` compacted tasks submitted and last changed before `horizon`. */
export async function expiryOps (db: ClassicLevel<string, string>, horizon: number, limit: number): Promise<{ ops: BatchOp[], expired: number, more: boolean }> {
  // The recency index is ordered by submission: a task last changed before the horizon was submitted before it.
  const keys = await db.keys({ gt: P.recent, lt: P.recent + hlcKey({ wall: horizon, logical: 0 }), limit: limit * 4 }).all()
  const ids = keys.map(k => k.slice(k.indexOf('!') + 1))
  const records = await readRecords(db, ids)
  const ops: BatchOp[] = []
  let expired = 0
  records.forEach((record, i) => {
    if (expired >= limit) return
    const summary = record?.summary
    if (record === undefined || summary === undefined || record.entries.length > 0 || summary.state.updatedAt >= horizon) return
    const { state } = summary
    ops.push(
      { type: 'del', key: P.summary + ids[i] },
      { type: 'del', key: P.table + ids[i] },
      { type: 'del', key: keys[i] },
      { type: 'del', key: `${P.state}${state.state}!${ids[i]}` },
      { type: 'put', key: P.expired + ids[i], value: `${state.state} ${state.kind} ${state.submittedAt} ${state.updatedAt}` },
    )
    expired++
  })
  return { ops, expired, more: keys.length === limit * 4 || expired >= limit }
}

/** An expired task's state from its tombstone (undefined: no tombstone). */
export async function expiredState (db: ClassicLevel<string, string>, id: string): Promise<TaskState | undefined> {
  const value = await db.get(P.expired + id)
  if (value === undefined) return undefined
  const [state, kind, submittedAt, updatedAt] = value.split(' ')
  return { id, kind, priority: 0, spec: {}, auctioneer: '', epoch: 1, state: state as TaskStateName, submittedAt: Number(submittedAt), updatedAt: Number(updatedAt), attempts: [], conflicts: [], compacted: true, expired: true }
}

export const EXPIRY_RANGES = [P.summary, P.table, P.recent, P.state].map(prefix => [prefix, prefix + END] as const)
