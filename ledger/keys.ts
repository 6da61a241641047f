/**
 * LevelDB layout of the ledger (data dir format 3). Plain prefixed keys in the node's database (cheaper in
 * batches than sublevels), every change one atomic batch:
 *   L:log:<author>!<seq:12>          -> "<id> <entry JSON>"  each author's chain (served as is)
 *   L:head:<author>                  -> { seq, id }          version vector (contiguous heads)
 *   L:indexed:<author>               -> seq                  how far the task index has read the log
 *   L:id:<id>                        -> <author>!<seq:12>     entry lookup by id (indexed with the tasks)
 *   L:task:<task>                    -> { entries, state }   a live task's entries and folded state
 *   L:state:<state>!<task>           -> ''                   query by state
 *   L:recent:<hlc>!<task>            -> ''                   query most recent (by submission)
 *   L:evidence:<author>!<seq:12>!<id> -> entry JSON          equivocation evidence, kept
 *   L:summary:<task>                 -> summary JSON          a compacted task (canonical bytes, served as is)
 *   L:table:<task>                   -> "<digest> <state> <updatedAt> <hlcKey> <kind>"  its state table row (table.ts;
 *                                                            without L:summary on a joiner until the summary came)
 *   L:expired:<task>                 -> "<state> <kind> <submittedAt> <updatedAt>"  a summary that expired (expire.ts)
 *   L:ckpt:<author>                  -> "<id> <entry JSON>"  the author's entry at its checkpoint (entries at or below it are compacted)
 *   L:compaction                     -> { at, horizon, tasks, entries }  totals of the compactions so far
 * A compacted task's summary is stored once, under L:summary; its L:task record exists only
 * if entries came after the summary, and then holds those entries, the state folded on top
 * and `summarized: true` (records.ts).
 */
import type { Entry } from '../protocols/index.js'
import type { TaskState } from './fold.js'
import type { Summary } from './summary.js'

export interface Head { seq: number, id: string }
export interface Stored { id: string, entry: Entry }
/** A task's record as readers see it (records.ts assembles it from L:task and L:summary). */
export interface TaskRecord { entries: Stored[], state: TaskState | null, summary?: Summary }
export type BatchOp = { type: 'put', key: string, value: string } | { type: 'del', key: string }

export const P = { log: 'L:log:', head: 'L:head:', indexed: 'L:indexed:', id: 'L:id:', task: 'L:task:', state: 'L:state:', recent: 'L:recent:', evidence: 'L:evidence:', summary: 'L:summary:', table: 'L:table:', expired: 'L:expired:', ckpt: 'L:ckpt:', compaction: 'L:compaction' } as const
export const END = '\uffff'
export const seqKey = (author: string, seq: number): string => `${author}!${String(seq).padStart(12, '0')}`

/** A stored log value: "<id> <entry JSON>"; the JSON part is sent to peers unparsed. */
export const logValue = (item: Stored): string => `${item.id} ${JSON.stringify(item.entry)}`
export const parseLogValue = (value: string): Stored => ({ id: value.slice(0, 64), entry: JSON.parse(value.slice(65)) as Entry })
