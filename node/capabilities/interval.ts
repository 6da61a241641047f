/**
 * Advert pacing. Gossipsub delivers every advert to every node, so with N live nodes each
 * publishing once per mean interval T, every node receives N / T adverts per second. To keep
 * that at or under R (default 20/s) whatever the mesh size:
 *
 *   T = max(base, N / R)      e.g. N = 10,000, R = 20  ->  T = 500 s;  N = 5  ->  T = base (5 s)
 *
 * Each delay is drawn uniformly in [0.8 T, 1.2 T] (jitter desynchronises nodes; the mean
 * stays T, so the rate bound holds on average). The advert carries the longest possible gap,
 * 1.2 T, and receivers expire a peer after 3 of those. Pure.
 */
export interface PacingInit {
  baseIntervalMs: number
  maxReceiveRate: number
}

export const JITTER = 0.2
export const EXPIRY_INTERVALS = 3

/** Mean interval for a mesh of `liveNodes` nodes (this one included). */
export function meanIntervalMs (liveNodes: number, init: PacingInit): number {
  const byRate = Math.ceil((Math.max(1, liveNodes) / init.maxReceiveRate) * 1000)
  return Math.max(init.baseIntervalMs, byRate)
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
