/**
 * Advert pacing. Gossipsub delivers every advert to every node, so the adverts a node
 * receives per second are the sum of every node's send rate. Each node takes a fair share
 * of a mesh-wide ceiling R (default 20/s): with N live nodes (from its own peer table),
 * it sends at most R / N adverts per second, split in two:
 *
 *   regular adverts, mean interval  T = max(base, 1.25 N / R)
 *   prompt adverts (a significant change, a newly subscribed neighbour) from a token bucket
 *   refilled at R / N - 1 / T per second (>= 0.2 R / N by the 1.25 factor), 3 tokens deep.
 *
 * So N nodes together send at most N x R / N = R adverts per second (plus a bounded burst):
 *   N = 5:      T = 5 s,    prompts up to 3.8/s  (a change shows at once)
 *   N = 1,000:  T = 62.5 s, prompts one per 250 s
 *   N = 10,000: T = 625 s,  prompts one per 2,500 s; a node receives 20 adverts/s, not 2,000.
 *
 * Each delay is drawn uniformly in [0.8 T, 1.2 T] (jitter desynchronises nodes; the mean stays
 * T). The advert carries the longest possible gap, 1.2 T, and receivers expire a peer after
 * 3 of those. Pure.
 */
export interface PacingInit {
  baseIntervalMs: number
  maxReceiveRate: number
}

export const JITTER = 0.2
export const EXPIRY_INTERVALS = 3
/** Regular adverts use 1 / HEADROOM of a node's share; the rest is for prompt adverts. */
export const HEADROOM = 1.25

/** Mean interval between regular adverts in a mesh of `liveNodes` nodes (this one included). */
export function meanIntervalMs (liveNodes: number, init: PacingInit): number {
  const byRate = Math.ceil((HEADROOM * Math.max(1, liveNodes) / init.maxReceiveRate) * 1000)
  return Math.max(init.baseIntervalMs, byRate)
}

/** Tokens per millisecond for prompt adverts: this node's share left over by regular ones. */
export function promptRefillPerMs (liveNodes: number, init: PacingInit): number {
  const share = init.maxReceiveRate / Math.max(1, liveNodes)
  return Math.max(0, share - 1000 / meanIntervalMs(liveNodes, init)) / 1000
}

/** The next delay, with `random` in [0, 1). */
export function nextDelayMs (liveNodes: number, init: PacingInit, random: number): number {
  const mean = meanIntervalMs(liveNodes, init)
  return Math.round(mean * (1 - JITTER + 2 * JITTER * random))
}

/** The promise an advert makes: no gap longer than this before the next one. */
export function promisedIntervalMs (liveNodes: number, init: PacingInit): number {
  return Math.min(3_600_000, Math.ceil(meanIntervalMs(liveNodes, init) * (1 + JITTER)))
}
