/**
 * Learning run times: a task that succeeded teaches the estimates how long its kind (and its
 * class of work, and its model) takes on the node that ran it, scaled by that node's speed.
 * A model's load time is priced apart (predictCompletion's loadMs), so it is left out here.
 */
import type { TaskState } from '../ledger/index.js'
import { observeRun, type RunEstimates } from '../scheduler/index.js'
import type { PlacementTraits } from './view.js'

export function learnFromTask (estimates: RunEstimates, s: TaskState, kind: PlacementTraits | undefined, speedOf: (node: string) => number): void {
  const a = s.decidedBy === undefined ? undefined : s.attempts[s.decidedBy - 1]
  if (s.state !== 'succeeded' || a?.startedAt === undefined || a.endedAt === undefined) return
  const model = (s.spec.requirements as { model?: string } | undefined)?.model
  const loadMs = (a.result?.timings as { loadMs?: unknown } | undefined)?.loadMs
  const durationMs = Math.max(0, a.endedAt - a.startedAt - (typeof loadMs === 'number' && Number.isFinite(loadMs) ? loadMs : 0))
  const program = kind?.workClass?.(s.spec)
  observeRun(estimates, { kind: s.kind, model, ...(program === undefined ? {} : { program }), node: a.node, speed: speedOf(a.node), durationMs })
}
