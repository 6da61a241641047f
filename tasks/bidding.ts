/**
 * Bids for one auction: what a bidder is told of the task, asking a peer over the auction
 * protocol, and collecting the answers of every bidder asked at once. A bid that does not come
 * (unreachable, declined, malformed, late) is no bid; it never fails the auction.
 */
import type { TaskState } from '../ledger/index.js'
import { expectAuctionMessage, type TaskSummaryT } from '../protocols/index.js'
import type { Bid } from '../scheduler/index.js'
import type { Logger } from '../base/index.js'
import { schedulerView, type PlacementTraits } from './view.js'
import type { AuctionWire } from './wire.js'

/** The shortest grace window after the first peer's bid (ms). */
const BID_GRACE_MS = 2

/** The task as a bidder is asked about it (`kind`: the traits this node knows of its kind). */
export function bidSummary (state: TaskState, kind: PlacementTraits | undefined): TaskSummaryT {
  const { requirements, work, program } = schedulerView(state, kind)
  return { id: state.id, kind: state.kind, priority: state.priority, requirements, submittedAt: state.submittedAt, ...(work === undefined ? {} : { work }), ...(program === undefined ? {} : { program }) }
}

/** Ask one peer for its bid; undefined when it has none to give in time. */
export async function requestBid (wire: Pick<AuctionWire, 'request'>, node: string, summary: TaskSummaryT, options: { timeoutMs: number, logger: Logger }): Promise<Bid | undefined> {
  try {
    const reply = expectAuctionMessage(await wire.request(node, { t: 'bid?', task: summary }, { timeoutMs: options.timeoutMs }), 'bid', 'no-bid')
    if (reply.t === 'no-bid' || reply.task !== summary.id) return undefined
    return { taskId: reply.task, nodeId: node, costMs: reply.costMs, completionMs: reply.completionMs }
  } catch (err) {
    options.logger.debug({ task: summary.id, node, err: (err as Error).message }, 'no bid')
    return undefined
  }
}

/**
 * Ask every bidder at once; done when all have answered, at the bid deadline (each `ask`
 * bounds itself), or a grace window after the first bid from a peer (a straggler is most often
 * a busy node: its bid would rarely win, and waiting for it would delay every placement).
 */
export async function collectBids (nodes: readonly string[], self: string, ask: (node: string) => Promise<Bid | undefined>): Promise<Bid[]> {
  const bids: Bid[] = []
  if (nodes.length === 0) return bids
  const { promise, resolve } = Promise.withResolvers<void>()
  let pending = nodes.length
  let grace: NodeJS.Timeout | undefined
  const asked = performance.now()
  for (const node of nodes) {
    void ask(node).then(bid => {
      if (bid !== undefined) {
        bids.push(bid)
        // This node's own bid is instant: the window opens with the first peer's. It stays open
        // as long again as the first took (at least BID_GRACE_MS): under load every answer is
        // slower, and the window widens with them.
        if (node !== self) grace ??= setTimeout(resolve, Math.max(BID_GRACE_MS, performance.now() - asked))
      }
      if (--pending === 0) resolve()
    })
  }
  await promise
  clearTimeout(grace)
  return [...bids]
}
