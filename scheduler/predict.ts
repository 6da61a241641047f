/**
 * Predicted completion time of a task on a node, in ms from now:
 *
 *   wait     = 0 when a slot is free and nothing queued is ahead, else
 *              (runningRemainingMs + sum of queuedMsByPriority[p] for p >= priority) / slots
 *   run      = estimateRunMs(kind, model, node, speed) / (1 - externalLoad x loadPenalty)
 *   predicted = wait + run
 *
 * Priority: a task waits only behind queued work it does not overtake (same or higher
 * priority; aging makes this slightly optimistic for old low-priority work, see queue.ts).
 * Load: work outside the grid (the advert's CPU share) slows the run; `loadPenalty` (default
 * 0.9) keeps a fully loaded node finite. A node with no slot for the kind waits forever.
 * Pure.
 */
import { estimateRunMs, type RunEstimates } from './estimate.js'
import type { NodeView, TaskView } from './types.js'

export const LOAD_PENALTY = 0.9

export interface Prediction { waitMs: number, runMs: number, completionMs: number }

export function queueWaitMs (load: NodeView['load'], priority: number): number {
  if (load.slots <= 0) return Number.POSITIVE_INFINITY
  let queuedAhead = 0
  const buckets = load.queuedMsByPriority
  for (let p = Math.max(0, priority); p < buckets.length; p++) queuedAhead += buckets[p]
  if (load.running < load.slots && queuedAhead <= 0) return 0
  return (load.runningRemainingMs + queuedAhead) / load.slots
}

export function predictCompletion (task: TaskView, node: NodeView, estimates: RunEstimates): Prediction {
  const base = estimateRunMs(estimates, task.kind, task.requirements.model, node.id, node.speed)
  const slowdown = 1 - Math.min(1, Math.max(0, node.load.externalLoad)) * LOAD_PENALTY
  const runMs = base / slowdown
  const waitMs = queueWaitMs(node.load, task.priority)
  return { waitMs, runMs, completionMs: waitMs + runMs }
}
