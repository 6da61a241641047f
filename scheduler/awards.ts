/**
 * Awards an auctioneer has made, per node, for pricing bids in concurrent auctions: a bid was
 * computed by its node when asked, so it cannot include awards to that node made since, nor
 * those still on their way to it. Pure bookkeeping: times are the caller's (monotonic ms, never
 * going back). Each call costs the node's open awards plus those chosen since the ask, not
 * every award of the last AWARD_MEMORY_MS.
 */

/** One award: when it was chosen, whether its answer is still awaited, whether it fell through. */
export interface AwardMark { at: number, open: boolean, declined: boolean }

/** How long closed awards are remembered (longer than any bid round). */
export const AWARD_MEMORY_MS = 30_000

export class RecentAwards {
  /** Each node's marks in the order they were chosen (so by `at`: the caller's clock is monotonic). */
  readonly #byNode = new Map<string, AwardMark[]>()
  /** Each node's marks that were open when last looked at (closing one is the caller's `open = false`). */
  readonly #open = new Map<string, Set<AwardMark>>()
  readonly #memoryMs: number

  constructor (memoryMs = AWARD_MEMORY_MS) {
    this.#memoryMs = memoryMs
  }

  /** An award to `node` chosen at `now`; close the mark when its answer comes (`declined` when it fell through). */
  started (node: string, now: number): AwardMark {
    const mark: AwardMark = { at: now, open: true, declined: false }
    let marks = this.#byNode.get(node) ?? []
    const cutoff = now - this.#memoryMs
    // Forgotten from the oldest end: a busy auctioneer holds thousands of marks per node, and a
    // sweep of them all on every award cost as much as the rest of the award.
    // (shift: V8 trims an array's front in place; a splice there copied the rest on every call.)
    while (marks.length > 0 && !marks[0].open && marks[0].at <= cutoff) marks.shift()
    if (marks.length > 0 && marks[0].at <= cutoff) marks = marks.filter(m => m.open || m.at > cutoff) // an old award still open holds the oldest end (rare)
    marks.push(mark)
    this.#byNode.set(node, marks)
    const open = this.#open.get(node) ?? new Set<AwardMark>()
    if (open.size >= 256) for (const m of open) if (!m.open) open.delete(m)
    open.add(mark)
    this.#open.set(node, open)
    return mark
  }

  /** Awards to `node` that its bid, asked at `askedAt`, cannot include: still open, or chosen since (and not declined). */
  unseen (node: string, askedAt: number): number {
    let n = 0
    const open = this.#open.get(node)
    if (open !== undefined) for (const m of open) if (m.open) n++; else open.delete(m)
    // Closed ones count only when chosen since the ask: the newest end of the list.
    const marks = this.#byNode.get(node) ?? []
    for (let i = marks.length - 1; i >= 0 && marks[i].at >= askedAt; i--) if (!marks[i].open && !marks[i].declined) n++
    return n
  }
}
