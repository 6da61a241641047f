/**
 * The auctioneer: for every task this node is the auctioneer of record for (it received it,
 * or adopted it when its auctioneer was gone), until the task ends.
 *
 * Auction: candidates = this node + live peers from the peer table, minus nodes that lost an
 * attempt of the task (unless no other node fits). No node fits now -> a `blocked` entry
 * with grouped reasons (written when the verdict changes) and the task stays pending; it is
 * auctioned again with backoff (0.5 s doubling to 8 s, reset when the mesh's capabilities
 * change), never dropped. At most MAX_AUCTIONS run at once; the rest wait their turn. Otherwise
 * the best k by predicted cost are asked for bids (`bidTimeoutMs`); bids are ranked; the best
 * bidder gets an `awarded` entry (durable) and then the award message carrying the task's
 * signed entries. It accepts, or declines (`retried`, next best bidder).
 *
 * Leases: an open attempt lives while its holder renews its lease by gossip (leases.ts)
 * within `leaseMs` of the award or the last renewal. Expired -> `retried` (attempt lost) and
 * a new auction. After `maxAttempts` started attempts (attempt-budget.ts): `abandoned` (failed).
 *
 * Restart: the tasks found in the ledger at start wait for `resume()` (the node has synced,
 * or is alone): another node may have adopted them meanwhile, and an auction from the stale
 * view would award an attempt twice. Tasks submitted since the start are not held back.
 */
import type { TaskState } from '../ledger/index.js'
import { expectAuctionMessage, type Bodies, type Entry, type EntryType, type TaskSummaryT } from '../protocols/index.js'
import { estimateTaskRunMs, meshVerdict, pickBidders, rankBids, rankCandidates, RecentAwards, softExclusion, type Bid, type NodeView, type RunEstimates, type PlacementTask } from '../scheduler/index.js'
import type { Logger } from '../base/index.js'
import type { LeaseBoard } from './leases.js'
import type { TaskRunner } from './runner.js'
import type { AuctionWire } from './wire.js'
import { avoidOf, blockedReport, schedulerView, sameReport, type PlacementTraits } from './view.js'
import { bidSummary, collectBids, requestBid } from './bidding.js'
import { attemptsSpent, gaveUpReason } from './attempt-budget.js'

export interface AuctioneerComponents {
  peerId: string
  wire: Pick<AuctionWire, 'request'>
  runner: Pick<TaskRunner, 'bid' | 'accept' | 'holds' | 'view'>
  leases: Pick<LeaseBoard, 'renewed' | 'heldBy' | 'expired'>
  append: <T extends EntryType>(type: T, task: string, body: Bodies[T]) => Promise<unknown>
  /** The task's state now, and its entries (what an award carries). */
  task: (id: string) => Promise<TaskState | undefined>
  entries: (id: string) => Promise<Entry[]>
  /** The kind's placement traits where this node's version knows it (only those are auctioned or adopted). */
  kind: (name: string) => PlacementTraits | undefined
  /** Live peers' views from their adverts (this node excluded). */
  peers: () => NodeView[]
  estimates: RunEstimates
  logger: Logger
}

/** Auctions in flight at once; more pending tasks wait their turn. */
const MAX_AUCTIONS = 64
/** Longest wait before a task no node could take is auctioned again (capability changes cut it short). */
const MAX_BACKOFF_MS = 8000
export interface AuctioneerInit { bidders: number, bidTimeoutMs: number, leaseMs: number, maxAttempts: number }

export class Auctioneer {
  readonly stats = { auctions: 0, awards: 0, declines: 0, expired: 0, noBids: 0, bids: 0 }
  readonly #c: AuctioneerComponents
  readonly #init: AuctioneerInit
  readonly #mine = new Map<string, TaskState>()
  readonly #running = new Set<string>()
  readonly #again = new Set<string>()
  /** Tasks waiting for an auction slot (at most MAX_AUCTIONS run at once), in order. */
  readonly #waiting = new Set<string>()
  /** Tasks no node could take at their last auction: not tried again before `next`. */
  readonly #backoff = new Map<string, { tries: number, next: number }>()
  /** Submissions whose `submitted` entry is not on disk yet: no award before it is. */
  readonly #durable = new Map<string, Promise<unknown>>()
  /** Local time the lease clock of `task/attempt` started (award, adoption or restart). */
  readonly #leaseStart = new Map<string, number>()
  /** Awards made per node, recent or still in flight: what a bid may not know of yet. */
  readonly #awards = new RecentAwards()
  readonly #fresh = new Set<string>() // submitted since this node started: auctioned even before resume()
  #resumed = false
  #stopped = false

  constructor (components: AuctioneerComponents, init: AuctioneerInit) {
    this.#c = components
    this.#init = init
  }

  get count (): number { return this.#mine.size }

  /**
   * Peers' views with the open attempts this node awarded them priced in: queued ahead of
   * anything, at `task`'s run estimate there (an advert knows neither a node's slots per kind
   * nor its queue; the bids will say exactly, and are priced for awards they cannot know of).
   */
  #withAwards (task: PlacementTask, views: NodeView[]): NodeView[] {
    const open = new Map<string, number>()
    for (const s of this.#mine.values()) {
      const a = s.attempts[s.attempts.length - 1]
      if (a !== undefined && a.outcome === undefined) open.set(a.node, (open.get(a.node) ?? 0) + 1)
    }
    return views.map(view => {
      const extra = open.get(view.id) ?? 0
      if (extra === 0) return view
      const buckets = [...view.load.queuedMsByPriority]
      buckets[buckets.length - 1] += extra * estimateTaskRunMs(task, view, this.#c.estimates)
      return { ...view, load: { ...view.load, queued: view.load.queued + extra, queuedMsByPriority: buckets } }
    })
  }

  /**
   * Keep `state` if this node is its auctioneer, knows its kind, and it is not over; forget it
   * otherwise (a kind this node's version does not know is left to nodes that do).
   */
  track (state: TaskState): void {
    const over = state.state === 'succeeded' || state.state === 'failed' || state.state === 'cancelled'
    if (over || state.auctioneer !== this.#c.peerId || this.#c.kind(state.kind) === undefined) {
      this.#mine.delete(state.id)
      this.#fresh.delete(state.id)
      return
    }
    this.#mine.set(state.id, state)
  }

  /**
   * A task just submitted here, auctioned while its `submitted` entry is still being written:
   * bids are asked at once, and the award waits until `durable` resolves (if it fails, the
   * auction is dropped and nothing is awarded).
   */
  submitted (state: TaskState, durable: Promise<unknown>): void {
    this.#fresh.add(state.id)
    this.#durable.set(state.id, durable)
    durable.then(() => { this.#durable.delete(state.id) }, () => {
      this.#durable.delete(state.id)
      if (this.#mine.get(state.id) === state) this.#mine.delete(state.id)
    })
    if (!this.#mine.has(state.id)) this.#mine.set(state.id, state)
    this.kick(state.id)
  }

  /** Auction `id` as soon as a slot is free (or once more after the auction in flight). */
  kick (id: string): void {
    if (this.#stopped) return
    if (this.#running.has(id)) { this.#again.add(id); return }
    this.#waiting.add(id)
    this.#pump()
  }

  /** The node has synced with the mesh: the tasks it found at start may be auctioned (and their leases judged). */
  resume (): void {
    if (this.#resumed) return
    this.#resumed = true
    for (const s of this.#mine.values()) if (s.state === 'pending') this.kick(s.id)
  }

  /** Held back until `resume()`: found in the ledger at start, not submitted since. */
  #held (id: string): boolean { return !this.#resumed && !this.#fresh.has(id) }
  /** Capabilities in the mesh changed: every waiting task gets its next auction at once. */
  retryBlocked (): void { this.#backoff.clear() }

  #pump (): void {
    for (const id of this.#waiting) {
      if (this.#running.size >= MAX_AUCTIONS) return
      this.#waiting.delete(id)
      if (this.#running.has(id)) { this.#again.add(id); continue }
      this.#running.add(id)
      void this.#auction(id).then(placed => {
        if (placed) { this.#backoff.delete(id); return }
        const tries = (this.#backoff.get(id)?.tries ?? 0) + 1
        this.#backoff.set(id, { tries, next: Date.now() + Math.min(MAX_BACKOFF_MS, 250 * 2 ** tries) })
      }, err => {
        this.#c.logger.warn({ task: id, err: (err as Error).message }, 'auction failed')
      }).finally(() => {
        this.#running.delete(id)
        if (this.#again.delete(id)) this.kick(id)
        this.#pump()
      })
    }
  }

  /** Every heartbeat: expire lapsed leases, re-auction pending tasks. */
  tick (now = Date.now()): void {
    for (const state of this.#mine.values()) {
      if (this.#held(state.id)) continue
      if (state.state === 'pending') {
        if (!this.#running.has(state.id) && !this.#waiting.has(state.id) && (this.#backoff.get(state.id)?.next ?? 0) <= now) this.kick(state.id)
        continue
      }
      const a = state.attempts[state.attempts.length - 1]
      if (a === undefined || a.outcome !== undefined) continue
      const key = `${state.id}/${a.attempt}`
      let start = this.#leaseStart.get(key)
      if (start === undefined) { start = now; this.#leaseStart.set(key, now) }
      const renewed = a.node === this.#c.peerId ? (this.#c.runner.holds(state.id) ? now : undefined) : this.#c.leases.renewed(state.id, a.attempt, a.node)
      const last = Math.max(start, renewed ?? 0)
      if (!this.#c.leases.expired(a.node, last, now) || this.#running.has(state.id)) continue
      this.stats.expired++
      this.#running.add(state.id)
      this.#c.logger.warn({ task: state.id, attempt: a.attempt, node: a.node }, 'lease expired: re-auctioning')
      void this.#c.append('retried', state.id, { attempt: a.attempt, reason: `lease expired: no heartbeat from ${a.node} for ${now - last} ms` })
        .catch(err => { this.#c.logger.warn({ task: state.id, err: (err as Error).message }, 'cannot record lease expiry') })
        .finally(() => { this.#running.delete(state.id); this.#leaseStart.delete(key); this.kick(state.id) })
    }
  }
  stop (): void { this.#stopped = true }
  /** Runs one auction; true when the task needs no further auction now (placed, gone, given up). */
  async #auction (id: string): Promise<boolean> {
    let state = this.#mine.get(id)
    if (state === undefined || state.state !== 'pending' || this.#held(id)) return true
    if (attemptsSpent(state.attempts, this.#init.maxAttempts)) {
      await this.#c.append('abandoned', id, { reason: gaveUpReason(state.attempts) })
      return true
    }
    this.stats.auctions++
    const task = schedulerView(state, this.#c.kind(state.kind))
    const self = this.#c.runner.view(task)
    const views = [...(self === undefined ? [] : [self]), ...this.#withAwards(task, this.#c.peers())]
    const verdict = meshVerdict(task, views)
    if (verdict.verdict !== 'feasible') {
      const report = blockedReport(verdict)
      const { at: _at, ...last } = state.blocked ?? { at: 0 }
      if (!sameReport(state.blocked === undefined ? undefined : last as Bodies['blocked'], report) && report !== undefined) await this.#c.append('blocked', id, report)
      return false
    }
    const lost = new Set(state.attempts.filter(a => a.outcome === 'lost').map(a => a.node))
    const exclude = softExclusion(verdict.fitNow, [lost, avoidOf(state.spec)])
    const ranked = rankCandidates(task, views, this.#c.estimates, { exclude })
    const asked = pickBidders(ranked, this.#init.bidders)
    const askedAt = performance.now()
    const summary = bidSummary(state, this.#c.kind(state.kind)) // once per auction, for every bidder
    const bids = await collectBids(asked.map(n => n.id), this.#c.peerId, async node => this.#askBid(summary, node))
    this.stats.bids += bids.length
    // Concurrent auctions: a bid does not know of awards to its node made after it was asked,
    // nor of those still in flight to it; price them in.
    const priced = bids.map(b => {
      const unseen = this.#awards.unseen(b.nodeId, askedAt)
      const node = asked.find(n => n.id === b.nodeId)
      return unseen === 0 || node === undefined ? b : { ...b, costMs: b.costMs + unseen * estimateTaskRunMs(task, node, this.#c.estimates) }
    })
    const ordered = rankBids(id, priced, new Set(asked.map(n => n.id)))
    if (ordered.length === 0) { this.stats.noBids++; return false }
    for (const bid of ordered) {
      // Chosen: from now on every other auction here prices this award into the node's bids
      // (no await between pricing and this mark, so concurrent auctions never all pick one node).
      const mark = this.#awards.started(bid.nodeId, performance.now())
      const drop = (): true => { mark.open = false; mark.declined = true; return true }
      // An award to a peer leaves this node: only once `submitted` is on disk. An award to
      // itself is appended behind `submitted` in its own log and shares its fate (and,
      // under load, its group commit).
      const durable = this.#durable.get(id)
      if (durable !== undefined && bid.nodeId !== this.#c.peerId) {
        try { await durable } catch { return drop() }
      }
      state = this.#mine.get(id)
      if (state === undefined || state.state !== 'pending' || attemptsSpent(state.attempts, this.#init.maxAttempts)) return drop()
      const attempt = state.attempts.length + 1
      // A live node holds this attempt already: an award (of a dead auctioneer) not here yet. Wait for it.
      if (this.#c.leases.heldBy(id, attempt) !== undefined) { drop(); return false }
      let answer: string | undefined
      let sent = false
      try {
        // The fencing token: the fold drops an award made at an epoch an adoption has raised.
        const awarded = this.#c.append('awarded', id, { attempt, node: bid.nodeId, leaseMs: this.#init.leaseMs, epoch: state.epoch })
        if (bid.nodeId === this.#c.peerId) {
          // To itself: the runner's entries queue behind the award in this node's own log, so
          // it may start at once (one group commit for award, start and a quick finish).
          const state = this.#mine.get(id) ?? await this.#c.task(id)
          const r = state === undefined ? { ok: false as const, reason: 'task state not found' } : this.#c.runner.accept(state, attempt)
          await awarded
          answer = r.ok ? undefined : r.reason
        } else {
          await awarded
          answer = await this.#award(id, attempt, bid.nodeId)
        }
        this.#leaseStart.set(`${id}/${attempt}`, Date.now())
        this.stats.awards++
        sent = true
      } finally {
        mark.open = false
        mark.declined = !sent || answer !== undefined // a failed append or a decline: no work went to the node
      }
      if (answer === undefined) return true
      this.stats.declines++
      this.#c.logger.info({ task: id, node: bid.nodeId, reason: answer }, 'award declined; next bidder')
      await this.#c.append('retried', id, { attempt, reason: `award declined: ${answer}`.slice(0, 2048) })
    }
    return false
  }

  async #askBid (summary: TaskSummaryT, node: string): Promise<Bid | undefined> {
    if (node !== this.#c.peerId) return await requestBid(this.#c.wire, node, summary, { timeoutMs: this.#init.bidTimeoutMs, logger: this.#c.logger })
    const bid = this.#c.runner.bid(summary)
    return 'reason' in bid ? undefined : { taskId: summary.id, nodeId: node, ...bid }
  }

  /** Send the award to a peer; undefined when accepted, else the reason it was not. */
  async #award (id: string, attempt: number, node: string): Promise<string | undefined> {
    try {
      const entries = await this.#c.entries(id)
      const reply = expectAuctionMessage(await this.#c.wire.request(node, { t: 'award', task: id, attempt, entries }), 'accepted', 'declined')
      return reply.t === 'accepted' ? undefined : reply.reason
    } catch (err) {
      return `unreachable: ${(err as Error).message}`
    }
  }
}
