/**
 * When a lease is judged expired, and how often leases are renewed, under load. Pure: times
 * are passed in, nothing is read or scheduled here.
 *
 * A busy holder renews late (its event loop runs its timers late; gossip waits behind task
 * output), and a busy judge reads renewals late (after a stall, Node runs timers before the
 * I/O that queued meanwhile). So a lease is judged expired only after the holder missed
 * renewals by more than `leaseMs` plus a margin: the lateness of this holder's renewals seen
 * here recently (renewal gap minus the heartbeat: holder delay and mesh delay together,
 * measured end to end, no wire change) plus this node's own recent event-loop delay. The
 * margin is capped at `MAX_MARGIN_LEASES` leases so that a dead holder still loses its
 * leases in bounded time. The holder renews early when its own loop delay grows.
 */

/** The margin never exceeds this many leases (a dead holder's lease expires within 1 + this). */
export const MAX_MARGIN_LEASES = 2

export interface LeaseJudgement {
  now: number
  /** The last renewal heard (or the award, if none was heard yet). */
  lastRenewal: number
  leaseMs: number
  /** How late this holder's renewals arrived recently (largest gap minus heartbeat), ms. */
  holderLatenessMs: number
  /** This node's own largest recent event-loop delay, ms. */
  ownDelayMs: number
}

export function leaseMarginMs (j: Pick<LeaseJudgement, 'leaseMs' | 'holderLatenessMs' | 'ownDelayMs'>): number {
  const measured = Math.max(0, j.holderLatenessMs) + Math.max(0, j.ownDelayMs)
  return Math.min(measured, MAX_MARGIN_LEASES * j.leaseMs)
}

export function leaseExpired (j: LeaseJudgement): boolean {
  return j.now - j.lastRenewal > j.leaseMs + leaseMarginMs(j)
}

/**
 * The next renewal's delay: the heartbeat, shortened by twice the loop delay measured now
 * (a renewal timer that fires that late still lands within the heartbeat), never below a
 * quarter of the heartbeat (renewals are gossip: each costs every peer a message).
 */
export function renewalIntervalMs (heartbeatMs: number, loopDelayMs: number): number {
  const early = heartbeatMs - 2 * Math.max(0, loopDelayMs)
  return Math.round(Math.max(heartbeatMs / 4, Math.min(heartbeatMs, early)))
}

/** The largest value added within the last `windowMs` (bounded: at most `capacity` samples kept). */
export class WindowedMax {
  readonly #samples: Array<{ at: number, value: number }> = []
  constructor (readonly windowMs: number, readonly capacity = 64) {}

  add (at: number, value: number): void {
    // A sample no larger than a newer one can never be the max again.
    while (this.#samples.length > 0 && this.#samples[this.#samples.length - 1].value <= value) this.#samples.pop()
    this.#samples.push({ at, value })
    if (this.#samples.length > this.capacity) this.#samples.shift()
  }

  max (now: number): number {
    while (this.#samples.length > 0 && now - this.#samples[0].at > this.windowMs) this.#samples.shift()
    return this.#samples[0]?.value ?? 0
  }
}
