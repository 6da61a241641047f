import type { Stored } from './store.js'
import type { TaskState } from './fold.js'

/** What the ledger tells its listeners (any number of them: sync, the task service, the dashboard). */
export interface LedgerEvents {
  /** Entries are on disk (in the log); `local`: appended by this node. */
  applied: [entries: readonly Stored[], local: boolean]
  /** Task states that changed (local appends at once; peers' after indexing). */
  states: [states: readonly TaskState[]]
  /** An entry arrived whose predecessors are missing (sync from that peer). */
  gap: [author: string, from: string | undefined]
}
