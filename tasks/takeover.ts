/**
 * Taking over a dead auctioneer's tasks. A task whose auctioneer is neither connected nor heard
 * from within a lease is adopted by exactly one live node: the rendezvous owner of the task id
 * among the live nodes (the dead one left out), which writes `adopted`. Nothing is judged dead
 * during the first lease after this node starts: it has not heard from its peers yet.
 */
import type { TaskState } from '../ledger/index.js'
import { rendezvousOwner } from '../scheduler/index.js'
import type { Logger } from '../base/index.js'
import type { Candidates } from './candidates.js'

export interface TakeoverComponents {
  peerId: string
  candidates: Pick<Candidates, 'alive' | 'connected' | 'liveNodes'>
  knows: (kind: string) => boolean
  adopt: (task: string, reason: string) => Promise<unknown>
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
      this.#c.logger.warn({ task: s.id, auctioneer: s.auctioneer }, 'auctioneer gone: taking the task over')
      void this.#c.adopt(s.id, `auctioneer ${s.auctioneer} gone`).catch(() => { this.#adopting.delete(s.id) })
    }
  }
}
