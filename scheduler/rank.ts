/**
 * Ranking and selection (Nomad's rank and select stages). The auctioneer ranks the feasible
 * candidates by predicted completion (lower is better), asks the best k for bids, and awards
 * the best bid. A normalized score in (0, 1] (best candidate = 1) is kept for display and
 * logs. Ties are broken by the rendezvous weight of (task id, node id): deterministic on every
 * node, yet not always the same node for every task. Pure.
 */
import { NoBidError } from './errors.js'
import { checkNode } from './feasibility.js'
import { predictCompletion, type Prediction } from './predict.js'
import { rendezvousWeight } from './rendezvous.js'
import type { RunEstimates } from './estimate.js'
import type { NodeView, TaskView } from './types.js'

export interface Ranked { node: NodeView, prediction: Prediction, score: number, tie: number }

const byCompletion = (a: { completionMs: number, tie: number, id: string }, b: { completionMs: number, tie: number, id: string }): number =>
  (a.completionMs - b.completionMs) || (b.tie - a.tie) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** Feasible-now candidates, best first. Nodes unfit now are left out (see `meshVerdict`). */
export function rankCandidates (task: TaskView, nodes: readonly NodeView[], estimates: RunEstimates, options: { exclude?: ReadonlySet<string> } = {}): Ranked[] {
  const ranked: Array<Ranked & { completionMs: number, id: string }> = []
  for (const node of nodes) {
    if (options.exclude?.has(node.id) === true || checkNode(task, node).fit !== 'now') continue
    const prediction = predictCompletion(task, node, estimates)
    if (!Number.isFinite(prediction.completionMs)) continue
    ranked.push({ node, prediction, score: 0, tie: rendezvousWeight(task.id, node.id), completionMs: prediction.completionMs, id: node.id })
  }
  ranked.sort(byCompletion)
  const best = ranked[0]?.completionMs ?? 0
  return ranked.map(({ node, prediction, tie, completionMs }) => ({ node, prediction, tie, score: completionMs <= 0 ? 1 : best / completionMs }))
}

/** The k best to ask for bids (all when fewer). */
export function pickBidders (ranked: readonly Ranked[], k: number): NodeView[] {
  return ranked.slice(0, Math.max(0, k)).map(r => r.node)
}

export interface Bid { taskId: string, nodeId: string, completionMs: number }

/**
 * The winning bid: from a node that was asked, for this task, lowest predicted completion;
 * ties by rendezvous weight. The rest, in order, are the fallbacks if the winner declines.
 */
export function rankBids (taskId: string, bids: readonly Bid[], asked: ReadonlySet<string>): Bid[] {
  const valid = bids.filter(b => b.taskId === taskId && asked.has(b.nodeId) && Number.isFinite(b.completionMs) && b.completionMs >= 0)
  // One bid per node: the first received counts; a node cannot outbid itself.
  const unique = new Map<string, Bid>()
  for (const b of valid) if (!unique.has(b.nodeId)) unique.set(b.nodeId, b)
  return [...unique.values()]
    .map(b => ({ b, completionMs: b.completionMs, tie: rendezvousWeight(taskId, b.nodeId), id: b.nodeId }))
    .sort(byCompletion)
    .map(x => x.b)
}

export function selectWinningBid (taskId: string, bids: readonly Bid[], asked: ReadonlySet<string>): Bid {
  const winner = rankBids(taskId, bids, asked)[0]
  if (winner === undefined) throw new NoBidError(`no valid bid for task ${taskId}`, { details: { received: bids.length, asked: asked.size } })
  return winner
}
