/**
 * A node's queue order: priority with aging, so nothing starves.
 *
 *   effectivePriority = priority + waitedMs / agingMs
 *
 * A waiting task gains one priority level per `agingMs` (default 60 s), without limit, so a
 * priority-0 task overtakes fresh priority-9 work after at most 9 x agingMs of waiting.
 * Because every queued task ages at the same rate, the order of two tasks never changes with
 * time: it equals the order of the static key `submittedAt - priority x agingMs` (lower runs
 * first). Queues can therefore keep a heap on `queueKey`; `compareQueued` is that order with
 * deterministic ties (earlier submission, then id). Pure.
 */
import type { PlacementTask } from './types.js'

export const DEFAULT_AGING_MS = 60_000

export type Queued = Pick<PlacementTask, 'id' | 'priority' | 'submittedAt'>

export function effectivePriority (task: Queued, now: number, agingMs = DEFAULT_AGING_MS): number {
  return task.priority + Math.max(0, now - task.submittedAt) / agingMs
}

export function queueKey (task: Queued, agingMs = DEFAULT_AGING_MS): number {
  return task.submittedAt - task.priority * agingMs
}

/** Sort comparator: the task to run first sorts first. */
export function compareQueued (agingMs = DEFAULT_AGING_MS): (a: Queued, b: Queued) => number {
  return (a, b) => (queueKey(a, agingMs) - queueKey(b, agingMs)) ||
    (a.submittedAt - b.submittedAt) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}
