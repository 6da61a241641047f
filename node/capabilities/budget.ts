/**
 * Budget for prompt adverts (see interval.ts): a token bucket `capacity` (3) deep, refilled
 * at the rate the caller gives (it depends on the live mesh size). A prompt advert that finds
 * the bucket empty is not sent; its change goes out with the next regular advert, at most
 * 1.2 T later. Pure: the caller passes the clock.
 */
export class PublishBudget {
  #tokens: number
  #lastRefill: number
  constructor (now: number, readonly capacity = 3) {
    this.#tokens = capacity
    this.#lastRefill = now
  }

  /** Spend a token if one is there; `refillPerMs` applies since the last call. */
  trySpend (now: number, refillPerMs: number): boolean {
    if (now > this.#lastRefill) {
      this.#tokens = Math.min(this.capacity, this.#tokens + (now - this.#lastRefill) * refillPerMs)
      this.#lastRefill = now
    }
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }
}
