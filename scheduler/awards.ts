/**
 * Awards an auctioneer has made, per node, for pricing bids in concurrent auctions: a bid was
 * computed by its node when asked, so it cannot include awards to that node made since, nor
 * those still on their way to it. Pure bookkeeping: times are the caller's (monotonic ms).
 */

/** One award: when it was chosen, whether its answer is still awaited, whether it fell through. */
export interface AwardMark { at: number, open: boolean, declined: boolean }

/** How long closed awards are remembered (longer than any bid round). */
export const AWARD_MEMORY_MS = 30_000

export class RecentAwards {
  readonly #byNode = new Map<string, AwardMark[]>()
  readonly #memoryMs: number

  constructor (memoryMs = AWARD_MEMORY_MS) {
    this.#memoryMs = memoryMs
  }

  /** An award to `node` chosen at `now`; close the mark when its answer comes (`declined` when it fell through). */
  started (node: string, now: number): AwardMark {
    const mark: AwardMark = { at: now, open: true, declined: false }
    const marks = (this.#byNode.get(node) ?? []).filter(m => m.open || m.at > now - this.#memoryMs)
    marks.push(mark)
    this.#byNode.set(node, marks)
    return mark
  }

  /** Awards to `node` that its bid, asked at `askedAt`, cannot include: still open, or chosen since (and not declined). */
  unseen (node: string, askedAt: number): number {
    let n = 0
    for (const m of this.#byNode.get(node) ?? []) if (m.open || (m.at >= askedAt && !m.declined)) n++
    return n
  }
}
