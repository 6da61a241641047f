/**
 * When a node may act on what its ledger says about other nodes' work (issue 15). A node
 * that starts (or restarts) holds a stale ledger: tasks that ended meanwhile look open, and
 * tasks another node adopted still look like its own. So:
 * - `resume` (auction the tasks found at start, judge their leases): once the node is
 *   connected, has completed a ledger sync with a peer, and has indexed what that sync
 *   brought; or, when it never gets a connection, after `aloneMs` (a node alone must still
 *   finish its own tasks; if it is merely cut off and another node adopted them, the epochs
 *   in the fold still keep one award per attempt).
 * - `takeOver` (adopt other auctioneers' tasks): only while connected, and a full lease after
 *   it became ready, so that live auctioneers have been heard (lease gossip) before any is
 *   judged dead. Never while alone.
 * Pure: time and facts are passed in.
 */
export interface GateFacts {
  /** At least one peer is connected now. */
  connected: boolean
  /** A ledger sync with a peer completed since the start. */
  synced: boolean
  /** Entries logged so far, and those reflected in task states. */
  entries: number
  indexed: number
}

export interface GateInit { startedAt: number, leaseMs: number, aloneMs: number }

export class SyncGate {
  readonly #init: GateInit
  #everConnected = false
  /** The entry count when the first sync completed: indexing must reach it. */
  #target: number | undefined
  #readyAt: number | undefined

  constructor (init: GateInit) {
    this.#init = init
  }

  get readyAt (): number | undefined { return this.#readyAt }

  /** Record this heartbeat's facts; what the node may do now. */
  observe (now: number, facts: GateFacts): { resume: boolean, takeOver: boolean } {
    if (facts.connected) this.#everConnected = true
    if (this.#readyAt === undefined && facts.connected && facts.synced) {
      this.#target ??= facts.entries
      if (facts.indexed >= this.#target) this.#readyAt = now
    }
    const alone = !this.#everConnected && now - this.#init.startedAt >= this.#init.aloneMs
    return {
      resume: this.#readyAt !== undefined || alone,
      takeOver: this.#readyAt !== undefined && facts.connected && now - this.#readyAt >= this.#init.leaseMs,
    }
  }
}
