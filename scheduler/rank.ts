/**
 * Ranking and selection (Nomad's rank and select stages). The auctioneer ranks the feasible
 * candidates by cost (predicted completion, with scarce GPUs reserved: see predict.ts; lower
 * is better), asks the best k for bids, and awards the best bid by the cost its bidder
 * computed. A normalized score in (0, 1] (best candidate = 1) is kept for display and logs. Ties are broken by the rendezvous weight of (task id, node id): deterministic on every
 * node, yet not always the same node for every task. Pure.
 */
import { NoBidError } from './errors.js'
import { checkNode } from './feasibility.js'
import { predictCompletion, type Prediction } from './predict.js'
import { rendezvousWeight } from './rendezvous.js'
import type { RunEstimates } from './estimate.js'
import type { NodeView, PlacementTask } from './types.js'

export interface Ranked { node: NodeView, prediction: Prediction, score: number, tie: number }

interface Sortable { costMs: number, tie: number, id: string }
const byCost = (a: Sortable, b: Sortable): number =>
  (a.costMs - b.costMs) || (b.tie - a.tie) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** Feasible-now candidates, best first. Nodes unfit now are left out (see `meshVerdict`). */
export function rankCandidates (task: PlacementTask, nodes: readonly NodeView[], estimates: RunEstimates, options: { exclude?: ReadonlySet<string> } = {}): Ranked[] {
  const ranked: Array<Ranked & Sortable> = []
  for (const node of nodes) {
    if (options.exclude?.has(node.id) === true || checkNode(task, node).fit !== 'now') continue
    const prediction = predictCompletion(task, node, estimates)
    if (!Number.isFinite(prediction.costMs)) continue
    ranked.push({ node, prediction, score: 0, tie: rendezvousWeight(task.id, node.id), costMs: prediction.costMs, id: node.id })
  }
  ranked.sort(byCost)
  const best = ranked[0]?.costMs ?? 0
  return ranked.map(({ node, prediction, tie, costMs }) => ({ node, prediction, tie, score: costMs <= 0 ? 1 : best / costMs }))
}

/**
 * The nodes to leave out of an auction, from sets in order of strength (e.g. the nodes the
 * task was lost on, then those its submitter asked to avoid): the union of as many sets as
 * still leave a candidate that fits now, so an exclusion never makes a runnable task wait.
 */
export function softExclusion (fitNow: ReadonlyArray<{ id: string }>, sets: ReadonlyArray<ReadonlySet<string>>): Set<string> {
  let exclude = new Set<string>()
  for (const set of sets) {
    const wider = new Set([...exclude, ...set])
    if (fitNow.every(n => wider.has(n.id))) break
    exclude = wider
  }
  return exclude
}

/** The k best to ask for bids (all when fewer). */
export function pickBidders (ranked: readonly Ranked[], k: number): NodeView[] {
  return ranked.slice(0, Math.max(0, k)).map(r => r.node)
}

/** A bidder's answer: its own prediction for the task (`predictCompletion` on its exact load). */
export interface Bid { taskId: string, nodeId: string, completionMs: number, costMs: number }

/**
 * The winning bid: from a node that was asked, for this task, lowest cost;
 * ties by rendezvous weight. The rest, in order, are the fallbacks if the winner declines.
 */
export function rankBids (taskId: string, bids: readonly Bid[], asked: ReadonlySet<string>): Bid[] {
  const valid = bids.filter(b => b.taskId === taskId && asked.has(b.nodeId) && Number.isFinite(b.costMs) && b.costMs >= 0)
  // One bid per node: the first received counts; a node cannot outbid itself.
  const unique = new Map<string, Bid>()
  for (const b of valid) if (!unique.has(b.nodeId)) unique.set(b.nodeId, b)
  return [...unique.values()]
    .map(b => ({ b, costMs: b.costMs, tie: rendezvousWeight(taskId, b.nodeId), id: b.nodeId }))
    .sort(byCost)
    .map(x => x.b)
}

export function selectWinningBid (taskId: string, bids: readonly Bid[], asked: ReadonlySet<string>): Bid {
  const winner = rankBids(taskId, bids, asked)[0]
  if (winner === undefined) throw new NoBidError(`no valid bid for task ${taskId}`, { details: { received: bids.length, asked: asked.size } })
  return winner
}

/**
 * End game for a node pulling work after a slot freed: leave the task pending when at least
 * as many other candidates would finish it clearly sooner (cost below `margin` x the puller's)
 * as there are pending tasks of its kind; those nodes will pull them when they free. Early on
 * (many pending) a free slot always takes work; at the end the last tasks are not stranded on
 * slow nodes. Only busy nodes can rank better yet decline, and each pulls when it frees, so
 * a deferred task is never left behind.
 */
export function shouldDefer (ranked: readonly Ranked[], pullerId: string, pendingCount: number, margin = 0.9): boolean {
  const mine = ranked.find(r => r.node.id === pullerId)
  if (mine === undefined) return false
  let better = 0
  for (const r of ranked) if (r.prediction.costMs < mine.prediction.costMs * margin) better++
  return better >= pendingCount
}
