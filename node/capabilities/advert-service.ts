/**
 * Publishes this node's advert on the gossipsub topic, paced by interval.ts and the publish
 * budget, promptly on a significant change or when a new peer subscribes; validates every
 * received advert (invalid: Reject, so gossipsub neither delivers nor forwards it and lowers
 * the sender's score) and keeps the peer table, sweeping expired peers.
 */
import { EventEmitter } from 'node:events'
import { TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub'
import { ADVERT_TOPIC, ADVERT_VERSION, decodeAdvert, encodeAdvert, type Advert, type Capabilities } from '../../protocols/index.js'
import type { Logger } from '../../base/index.js'
import { PublishBudget } from './budget.js'
import { isSignificantChange } from './capabilities.js'
import { EXPIRY_INTERVALS, meanIntervalMs, nextDelayMs, promisedIntervalMs, promptRefillPerMs, type PacingInit } from './interval.js'
import { PeerTable, type PeerEntry } from './peer-table.js'

export interface AdvertServiceComponents {
  pubsub: GossipSub
  peerId: string
  addresses: () => string[]
  capabilities: { refresh: () => Promise<Capabilities>, current: () => Promise<Capabilities> }
  logger: Logger
  now?: () => number
}

export interface AdvertServiceInit extends PacingInit {
  /** How often dynamic facts are re-measured to catch a significant change. */
  changeCheckMs?: number
}

/** Neighbours joining within this window are welcomed by one advert. */
const WELCOME_DELAY_MS = 200

export interface AdvertStats { published: number, accepted: number, rejected: number, stale: number }

export class AdvertService {
  readonly peers = new PeerTable()
  readonly stats: AdvertStats = { published: 0, accepted: 0, rejected: 0, stale: 0 }
  readonly #c: AdvertServiceComponents
  readonly #init: Required<AdvertServiceInit>
  readonly #now: () => number
  readonly #budget: PublishBudget
  #seq = 0
  #lastPublished: Capabilities | undefined
  #tick: NodeJS.Timeout | undefined
  #welcome: NodeJS.Timeout | undefined
  #check: NodeJS.Timeout | undefined
  #sweep: NodeJS.Timeout | undefined
  #publishing: Promise<void> | undefined
  #running = false
  /** Called with a peer's addresses whenever a new or updated advert is accepted. */
  /** `peer-seen`: an advert was accepted (the peer book remembers its addresses). */
  readonly events = new EventEmitter<{ 'peer-seen': [peerId: string, addresses: string[]] }>()

  constructor (components: AdvertServiceComponents, init: AdvertServiceInit) {
    this.#c = components
    this.#init = { changeCheckMs: 1000, ...init }
    this.#now = components.now ?? Date.now
    this.#budget = new PublishBudget(this.#now())
  }

  start (): void {
    this.#running = true
    const { pubsub } = this.#c
    pubsub.topicValidators.set(ADVERT_TOPIC, (from, msg) => this.#validate(from.toString(), msg))
    pubsub.subscribe(ADVERT_TOPIC)
    pubsub.addEventListener('subscription-change', this.#onSubscriptionChange)
    this.#schedule(0)
    this.#check = setInterval(() => { void this.#checkForChange() }, this.#init.changeCheckMs)
    this.#sweep = setInterval(() => { this.#sweepNow() }, Math.min(1000, this.#init.baseIntervalMs))
    this.#check.unref(); this.#sweep.unref()
  }

  async stop (): Promise<void> {
    this.#running = false
    clearTimeout(this.#tick); clearTimeout(this.#welcome); clearInterval(this.#check); clearInterval(this.#sweep)
    this.#c.pubsub.removeEventListener('subscription-change', this.#onSubscriptionChange)
    this.#c.pubsub.topicValidators.delete(ADVERT_TOPIC)
    await this.#publishing
  }

  /** A prompt advert: now if the budget allows, else with the next regular one. */
  async publishNow (): Promise<boolean> {
    if (!this.#spendPrompt()) return false
    await this.#publish(await this.#c.capabilities.refresh())
    return true
  }

  #spendPrompt (): boolean {
    return this.#budget.trySpend(this.#now(), promptRefillPerMs(this.peers.size + 1, this.#init))
  }

  /** How long a live peer may go unheard before it expires (3 of the mesh's mean advert intervals). */
  expiryMs (): number { return EXPIRY_INTERVALS * this.#meanInterval() }

  livePeers (): PeerEntry[] {
    this.#sweepNow()
    return this.peers.list()
  }

  #meanInterval (): number {
    return meanIntervalMs(this.peers.size + 1, this.#init)
  }

  #schedule (delayMs: number): void {
    clearTimeout(this.#tick)
    if (!this.#running) return
    this.#tick = setTimeout(() => { void this.#regular() }, delayMs)
    this.#tick.unref()
  }

  async #regular (): Promise<void> {
    try {
      await this.#publish(await this.#c.capabilities.refresh())
    } catch (err) {
      this.#c.logger.warn({ err: (err as Error).message }, 'advert failed; retrying at the next interval')
      this.#schedule(this.#meanInterval())
    }
  }

  async #publish (caps: Capabilities): Promise<void> {
    if (!this.#running) return
    const live = this.peers.size + 1
    this.#seq = Math.max(this.#seq + 1, this.#now())
    const advert: Advert = {
      v: ADVERT_VERSION,
      peerId: this.#c.peerId,
      seq: this.#seq,
      sentAt: this.#now(),
      intervalMs: promisedIntervalMs(live, this.#init),
      addresses: this.#c.addresses().slice(0, 16),
      capabilities: caps,
    }
    const task = this.#c.pubsub.publish(ADVERT_TOPIC, encodeAdvert(advert)).then(
      () => { this.stats.published++ },
      (err: Error) => { this.#c.logger.debug({ err: err.message }, 'advert publish failed') },
    )
    this.#publishing = task
    this.#lastPublished = caps
    // Every advert, prompted or not, restarts the regular schedule: a prompt advert never
    // adds to the regular rate.
    this.#schedule(nextDelayMs(live, this.#init, Math.random()))
    await task
  }

  async #checkForChange (): Promise<void> {
    if (!this.#running || this.#lastPublished === undefined) return
    try {
      const caps = await this.#c.capabilities.refresh()
      if (isSignificantChange(this.#lastPublished, caps) && this.#spendPrompt()) {
        await this.#publish(caps)
      }
    } catch (err) {
      this.#c.logger.warn({ err: (err as Error).message }, 'capability probe failed')
    }
  }

  readonly #onSubscriptionChange = (evt: CustomEvent<{ peerId: { toString: () => string }, subscriptions: Array<{ topic: string, subscribe: boolean }> }>): void => {
    // A neighbour that just subscribed has not heard us yet: advertise soon, coalescing a
    // burst of joins into one advert (and only while the budget allows).
    const joined = evt.detail.subscriptions.some(s => s.topic === ADVERT_TOPIC && s.subscribe)
    if (!joined || !this.#running || this.#welcome !== undefined) return
    this.#welcome = setTimeout(() => {
      this.#welcome = undefined
      void this.publishNow().catch(() => {})
    }, WELCOME_DELAY_MS)
    this.#welcome.unref()
  }

  #validate (from: string, msg: Message): TopicValidatorResult {
    let advert: Advert
    try {
      advert = decodeAdvert(msg.data, msg.type === 'signed' ? msg.from.toString() : '')
    } catch (err) {
      this.stats.rejected++
      this.#c.logger.warn({ from, err: (err as Error).message }, 'rejected advert')
      return TopicValidatorResult.Reject
    }
    if (advert.peerId === this.#c.peerId) return TopicValidatorResult.Ignore
    const result = this.peers.upsert(advert, this.#now())
    if (result === 'stale') { this.stats.stale++; return TopicValidatorResult.Ignore }
    if (result === 'full') { this.stats.rejected++; this.#c.logger.debug({ peer: advert.peerId }, 'peer table full: advert of a new peer ignored'); return TopicValidatorResult.Ignore }
    this.stats.accepted++
    this.events.emit('peer-seen', advert.peerId, advert.addresses)
    if (result === 'new') this.#c.logger.info({ peer: advert.peerId, name: advert.capabilities.name }, 'peer joined')
    return TopicValidatorResult.Accept
  }

  #sweepNow (): void {
    for (const id of this.peers.sweep(this.#now())) this.#c.logger.info({ peer: id }, 'peer expired')
  }
}
