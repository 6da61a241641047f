/**
 * Peers known from their adverts, with expiry. A peer is live until 3 of its promised
 * intervals pass without a newer advert. Pure: the caller passes the clock.
 * Bounded: at most `maxPeers` (default MAX_PEERS); when full, expired peers are swept and a
 * new peer beyond that is refused ('full'; known peers still update), so a flood of adverts
 * from made-up identities cannot grow the table.
 */
import type { Advert } from '../../protocols/index.js'
import { EXPIRY_INTERVALS } from './interval.js'

export interface PeerEntry {
  advert: Advert
  /** Local clock (ms) when the latest advert arrived. */
  lastSeen: number
  expiresAt: number
  /** Sender clock minus local clock at arrival (ms); includes network delay. */
  clockSkewMs: number
}

export type UpsertResult = 'new' | 'updated' | 'stale' | 'full'

export const MAX_PEERS = 10_000

export class PeerTable {
  readonly #peers = new Map<string, PeerEntry>()
  readonly #maxPeers: number

  constructor (maxPeers = MAX_PEERS) {
    this.#maxPeers = maxPeers
  }

  /** Record an advert; a replay (seq not above the known one) is 'stale' and changes nothing. */
  upsert (advert: Advert, now: number): UpsertResult {
    const known = this.#peers.get(advert.peerId)
    if (known !== undefined && advert.seq <= known.advert.seq) return 'stale'
    if (known === undefined && this.#peers.size >= this.#maxPeers && (this.sweep(now), this.#peers.size >= this.#maxPeers)) return 'full'
    this.#peers.set(advert.peerId, {
      advert,
      lastSeen: now,
      expiresAt: now + EXPIRY_INTERVALS * advert.intervalMs,
      clockSkewMs: advert.sentAt - now,
    })
    return known === undefined ? 'new' : 'updated'
  }

  /** Drop expired peers; returns their ids. */
  sweep (now: number): string[] {
    const gone: string[] = []
    for (const [id, entry] of this.#peers) {
      if (entry.expiresAt <= now) {
        this.#peers.delete(id)
        gone.push(id)
      }
    }
    return gone
  }

  get (peerId: string): PeerEntry | undefined {
    return this.#peers.get(peerId)
  }

  list (): PeerEntry[] {
    return [...this.#peers.values()]
  }

  get size (): number {
    return this.#peers.size
  }

  /** The soonest expiry, to schedule the next sweep. */
  nextExpiry (): number | undefined {
    let soonest: number | undefined
    for (const e of this.#peers.values()) if (soonest === undefined || e.expiresAt < soonest) soonest = e.expiresAt
    return soonest
  }
}
