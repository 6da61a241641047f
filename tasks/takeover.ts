/**
 * Taking over a dead auctioneer's tasks. A task whose auctioneer is neither connected nor heard
 * from within a lease is adopted by exactly one live node: the rendezvous owner of the task id
 * among the live nodes (the dead one left out), which writes `adopted` with the task's epoch
 * raised by one (the fencing token: the fold then drops any award the old auctioneer makes).
 * The service calls `check` only once this node is connected and has synced its ledger with a
 * peer, a lease after that (sync-gate.ts): a node that just restarted knows neither who is
 * alive nor which tasks already ended. Before writing, the task is read again from the ledger:
 * a task that ended or moved to another auctioneer meanwhile is left alone.
 */
import { isTerminal, type TaskState } from '../ledger/index.js'
import { rendezvousOwner } from '../scheduler/index.js'
import type { Logger } from '../base/index.js'
import type { Candidates } from './candidates.js'

export interface TakeoverComponents {
  peerId: string
  candidates: Pick<Candidates, 'alive' | 'connected' | 'liveNodes'>
  knows: (kind: string) => boolean
  /** The task's state in this node's ledger now. */
  state: (task: string) => Promise<TaskState | undefined>
  adopt: (task: string, epoch: number, reason: string) => Promise<unknown>
  logger: Logger
}

export class Takeover {
  readonly #c: TakeoverComponents
  readonly #adopting = new Set<string>()

  constructor (components: TakeoverComponents) {
    this.#c = components
  }

  /** A task ended (or moved on): no adoption of it is pending any more. */
  forget (task: string): void { this.#adopting.delete(task) }

  /** Adopt, among `active`, the tasks whose auctioneer is gone and whose owner this node is. */
  check (active: Iterable<TaskState>, now: number): void {
    let live: string[] | undefined
    const connected = this.#c.candidates.connected()
    for (const s of active) {
      if (s.auctioneer === this.#c.peerId || this.#adopting.has(s.id) || !this.#c.knows(s.kind) || this.#c.candidates.alive(s.auctioneer, now, connected)) continue
      live ??= this.#c.candidates.liveNodes(now, connected)
      if (rendezvousOwner(s.id, live.filter(id => id !== s.auctioneer)) !== this.#c.peerId) continue
      this.#adopting.add(s.id)
      void this.#adopt(s).catch(() => { this.#adopting.delete(s.id) })
    }
  }

  async #adopt (seen: TaskState): Promise<void> {
    const s = await this.#c.state(seen.id)
    if (s === undefined || isTerminal(s.state) || s.auctioneer !== seen.auctioneer || s.epoch !== seen.epoch) {
      this.#adopting.delete(seen.id)
      return
    }
    this.#c.logger.warn({ task: s.id, auctioneer: s.auctioneer, epoch: s.epoch + 1 }, 'auctioneer gone: taking the task over')
    await this.#c.adopt(s.id, s.epoch + 1, `auctioneer ${s.auctioneer} gone`)
  }
}
