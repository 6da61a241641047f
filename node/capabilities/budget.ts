/**
 * Publish budget: a token bucket refilled at one token per mean interval T, holding at most
 * `capacity` (3). Every advert, regular, prompted by a change or by a new neighbour, spends
 * one, so over any window W a node sends at most W / T + 3 adverts: the receive-rate bound of
 * interval.ts holds even when a node's load swings constantly. A change that finds the bucket
 * empty goes out with the next regular advert, at most T later. Pure: the caller passes the clock.
 */
export class PublishBudget {
  #tokens: number
  #lastRefill: number
  constructor (now: number, readonly capacity = 3) {
    this.#tokens = capacity
    this.#lastRefill = now
  }

  #refill (now: number, intervalMs: number): void {
    if (now > this.#lastRefill) {
      this.#tokens = Math.min(this.capacity, this.#tokens + (now - this.#lastRefill) / intervalMs)
      this.#lastRefill = now
    }
  }

  /** Spend a token if one is there. */
  trySpend (now: number, intervalMs: number): boolean {
    this.#refill(now, intervalMs)
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }

  /** Milliseconds until a token will be there. */
  waitMs (now: number, intervalMs: number): number {
    this.#refill(now, intervalMs)
    return this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) * intervalMs)
  }
}
