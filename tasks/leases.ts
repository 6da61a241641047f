/**
 * Leases and liveness over gossip (LEASE_TOPIC). Every heartbeat, a node that holds awarded
 * tasks (queued or running) or runs auctions publishes `{ held, auctions }`; the message's
 * signature says whose it is (StrictSign). Receivers keep, per (task, attempt), when its
 * holder last renewed it, and per node, when it was last heard from. A lease is live while
 * its holder renewed it within `leaseMs`. Malformed or unsigned messages are rejected (the
 * sender's gossip score drops). Memory is bounded: records older than 10 leases are pruned.
 * Under load (lease-timing.ts): renewals come earlier when this node's event loop runs late,
 * and `expired` allows a margin of the holder's measured renewal lateness plus this node's own
 * event-loop delay, so a busy or briefly stalled holder keeps its leases.
 */
import { TopicValidatorResult, type Message } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { LEASE_TOPIC, decodeLease, encodeLease, type LeaseMessage } from '../protocols/index.js'
import type { Logger } from '../base/index.js'
import type { TasksMesh } from './mesh.js'
import { leaseExpired, leaseMarginMs, renewalIntervalMs, WindowedMax } from './lease-timing.js'
import { LoopDelay } from './loop-delay.js'

/** Lateness and delay figures are kept for this many leases. */
const WINDOW_LEASES = 10

/** The figures the lease rules use now, for metrics and benchmarks. */
export interface LeaseTiming {
  /** This node's event-loop delay: p99 of the last heartbeat, and the largest within the window, ms. */
  loopDelayP99Ms: number
  loopDelayMaxMs: number
  /** The delay until this node's next renewal (shortened when its loop runs late), ms. */
  renewalIntervalMs: number
  /** Per holder heard from within the window: the margin this node adds to `leaseMs` before it judges that holder's leases expired. */
  margins: Array<{ node: string, holderLatenessMs: number, ownDelayMs: number, marginMs: number }>
}

export interface LeaseBoardComponents {
  pubsub: TasksMesh['services']['pubsub']
  peerId: string
  logger: Logger
  /** What this node holds right now (read at every heartbeat). */
  held: () => LeaseMessage
  now?: () => number
}

export class LeaseBoard {
  readonly stats = { published: 0, received: 0, rejected: 0 }
  readonly #c: LeaseBoardComponents
  readonly #heartbeatMs: number
  readonly #leaseMs: number
  readonly #renewed = new Map<string, { node: string, at: number }>()
  readonly #heard = new Map<string, number>()
  readonly #lateness = new Map<string, WindowedMax>()
  readonly #loop: LoopDelay
  #timer: NodeJS.Timeout | undefined
  /** When the next renewal timer is due: a judge running past it was itself stalled, and its queued messages are unread. */
  #due = Infinity
  #stopped = false

  constructor (components: LeaseBoardComponents, init: { heartbeatMs: number, leaseMs: number }) {
    this.#c = components
    this.#heartbeatMs = init.heartbeatMs
    this.#leaseMs = init.leaseMs
    this.#loop = new LoopDelay(WINDOW_LEASES * init.leaseMs)
  }

  #now (): number { return (this.#c.now ?? Date.now)() }

  start (): void {
    const { pubsub } = this.#c
    pubsub.topicValidators.set(LEASE_TOPIC, (from, msg) => this.#validate(from, msg))
    pubsub.subscribe(LEASE_TOPIC)
    this.#stopped = false
    this.#loop.start()
    this.#schedule()
  }

  /** The next renewal, early when this node's event loop runs late (a chain of timeouts, not an interval). */
  #schedule (): void {
    if (this.#stopped) return
    const interval = renewalIntervalMs(this.#heartbeatMs, this.#loop.currentMs)
    this.#due = this.#now() + interval
    this.#timer = setTimeout(() => {
      this.#loop.sample(this.#now())
      this.#beat()
      this.#schedule()
    }, interval)
    this.#timer.unref()
  }

  stop (): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    this.#loop.stop()
    this.#c.pubsub.topicValidators.delete(LEASE_TOPIC)
    this.#c.pubsub.unsubscribe(LEASE_TOPIC)
  }

  /** Publish now (after an award was accepted, so the auctioneer hears at once). */
  beat (): void { this.#beat() }

  #beat (): void {
    const message = this.#c.held()
    this.#prune()
    if (message.held.length === 0 && message.auctions === 0) return
    this.stats.published++
    void this.#c.pubsub.publish(LEASE_TOPIC, encodeLease(message)).catch(() => {})
  }

  /** Note that `node` is alive (a connection, an advert). */
  touch (node: string): void { this.#heard.set(node, this.#now()) }

  /** When `node` was last heard from, if ever. */
  heard (node: string): number | undefined { return this.#heard.get(node) }

  /** When `node` last renewed its lease on (task, attempt), if it ever did. */
  renewed (task: string, attempt: number, node: string): number | undefined {
    const r = this.#renewed.get(`${task}/${attempt}`)
    return r !== undefined && r.node === node ? r.at : undefined
  }

  /**
   * Whether the lease `node` holds, last renewed (or awarded) at `lastRenewal`, has expired at
   * `now`: missed by more than a lease plus the measured margin (lease-timing.ts).
   */
  expired (node: string, lastRenewal: number, now: number): boolean {
    return leaseExpired({
      now,
      lastRenewal,
      leaseMs: this.#leaseMs,
      holderLatenessMs: this.#lateness.get(node)?.max(now) ?? 0,
      ownDelayMs: this.#ownDelayMs(now),
    })
  }

  /** The margin figures, for logs and benchmarks. */
  delays (node: string, now = this.#now()): { holderLatenessMs: number, ownDelayMs: number } {
    return { holderLatenessMs: this.#lateness.get(node)?.max(now) ?? 0, ownDelayMs: this.#ownDelayMs(now) }
  }

  timing (now = this.#now()): LeaseTiming {
    const margins = [...this.#lateness.keys()].map(node => {
      const d = this.delays(node, now)
      return { node, ...d, marginMs: leaseMarginMs({ leaseMs: this.#leaseMs, ...d }) }
    })
    return {
      loopDelayP99Ms: this.#loop.currentMs,
      loopDelayMaxMs: this.#loop.recentMaxMs(now),
      renewalIntervalMs: renewalIntervalMs(this.#heartbeatMs, this.#loop.currentMs),
      margins,
    }
  }

  #ownDelayMs (now: number): number {
    return Math.max(this.#loop.recentMaxMs(now), now - this.#due)
  }

  /** The node that renewed a lease on (task, attempt) within a lease, if any (an award this node's ledger may not hold yet). */
  heldBy (task: string, attempt: number): string | undefined {
    const r = this.#renewed.get(`${task}/${attempt}`)
    return r !== undefined && this.#now() - r.at <= this.#leaseMs ? r.node : undefined
  }

  #validate (_from: PeerId, msg: Message): TopicValidatorResult {
    let lease: LeaseMessage
    try {
      if (msg.type !== 'signed') throw new Error('unsigned lease message')
      lease = decodeLease(msg.data)
    } catch (err) {
      this.stats.rejected++
      this.#c.logger.warn({ err: (err as Error).message }, 'rejected lease message')
      return TopicValidatorResult.Reject
    }
    const node = msg.from.toString()
    if (node === this.#c.peerId) return TopicValidatorResult.Ignore
    const now = this.#now()
    this.stats.received++
    this.#heard.set(node, now)
    let gap = -1
    for (const { task, attempt } of lease.held) {
      const key = `${task}/${attempt}`
      const previous = this.#renewed.get(key)
      // Only a lease renewed again by the same holder measures how late its renewals come.
      if (previous !== undefined && previous.node === node) gap = Math.max(gap, now - previous.at)
      this.#renewed.set(key, { node, at: now })
    }
    if (gap >= 0) this.#latenessOf(node).add(now, gap - this.#heartbeatMs)
    return TopicValidatorResult.Accept
  }

  #latenessOf (node: string): WindowedMax {
    let lateness = this.#lateness.get(node)
    if (lateness === undefined) {
      lateness = new WindowedMax(WINDOW_LEASES * this.#leaseMs)
      this.#lateness.set(node, lateness)
    }
    return lateness
  }

  #prune (): void {
    const horizon = this.#now() - 10 * this.#leaseMs
    for (const [key, r] of this.#renewed) if (r.at < horizon) this.#renewed.delete(key)
    for (const [node, at] of this.#heard) {
      if (at < horizon) { this.#heard.delete(node); this.#lateness.delete(node) }
    }
  }
}
