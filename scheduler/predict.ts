/**
 * Predicted completion time of a task on a node, in ms from now:
 *
 *   wait     = 0 when a slot is free and nothing queued is ahead, else
 *              (runningRemainingMs + sum of queuedMsByPriority[p] for p >= priority) / slots
 *   run      = estimateRunMs(kind, model, node, speed) x share
 *   share    = max(1, (externalLoad x cpus + max(1, task cpus)) / cpus)   (processor sharing)
 *   predicted = wait + run
 *   cost      = predicted x (1 + reserveWeight x spare), spare = share of the node's VRAM the
 *               task does not need (1 for a CPU task on a GPU node, 0 on a CPU node)
 *
 * Priority: a task waits only behind queued work it does not overtake (same or higher
 * priority; aging makes this slightly optimistic for old low-priority work, see queue.ts).
 * Load: work outside the grid (the advert's CPU share, 0-1, less the grid's own tasks where
 * the bidder knows them) slows the run only once the node's cores are all busy: the task then
 * shares them with that work (a fully loaded 2-core node runs a 1-cpu task 1.5x slower, a
 * 1-core node 2x; a half-loaded 32-core node not at all). A node with no slot for the kind
 * waits forever.
 * Cost, which ranking and bids order by, keeps scarce hardware for the work that needs it: a
 * GPU node takes a CPU task only when it finishes it 1 + reserveWeight (default 0.5) times
 * sooner (an idle mesh would otherwise fill its big GPUs with CPU work first).
 * Pure.
 */
import { estimateRunMs, type RunEstimates } from './estimate.js'
import type { NodeView, TaskView } from './types.js'

export const RESERVE_WEIGHT = 0.5

export interface Prediction { waitMs: number, runMs: number, completionMs: number, costMs: number }

/** Share (0-1) of the node's GPU memory the task leaves unused. */
export function spareVramShare (task: TaskView, node: NodeView): number {
  let total = 0
  for (const v of node.gpuVramMb) total += v
  if (total <= 0) return 0
  const gpu = task.requirements.gpu
  const needed = gpu === null ? 0 : Math.min(total, gpu.count * gpu.minVramMb)
  return (total - needed) / total
}

export function queueWaitMs (load: NodeView['load'], priority: number): number {
  if (load.slots <= 0) return Number.POSITIVE_INFINITY
  let queuedAhead = 0
  const buckets = load.queuedMsByPriority
  for (let p = Math.max(0, priority); p < buckets.length; p++) queuedAhead += buckets[p]
  if (load.running < load.slots && queuedAhead <= 0) return 0
  return (load.runningRemainingMs + queuedAhead) / load.slots
}

export function predictCompletion (task: TaskView, node: NodeView, estimates: RunEstimates, reserveWeight = RESERVE_WEIGHT): Prediction {
  const base = estimateRunMs(estimates, task.kind, task.requirements.model, node.id, node.speed)
  const cpus = Math.max(1, node.cpus)
  const busy = Math.min(1, Math.max(0, node.load.externalLoad)) * cpus
  const runMs = base * Math.max(1, (busy + Math.max(1, task.requirements.cpus)) / cpus)
  const waitMs = queueWaitMs(node.load, task.priority)
  const completionMs = waitMs + runMs
  return { waitMs, runMs, completionMs, costMs: completionMs * (1 + reserveWeight * spareVramShare(task, node)) }
}
