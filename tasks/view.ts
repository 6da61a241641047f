/**
 * Pure conversions: a folded task state to what the API shows and to what the scheduler
 * decides over, and a mesh verdict to the grouped reasons a `blocked` entry records.
 */
import type { TaskState } from '../ledger/index.js'
import type { Bodies, TaskViewT } from '../protocols/index.js'
import type { MeshVerdict, TaskRequirements, PlacementTask, TaskWork } from '../scheduler/index.js'

const iso = (ms: number): string => new Date(ms).toISOString()

/** Requirements with every field present (absent counts and GPU: none), optional ones only when given. */
export function normalizeRequirements (r: Partial<TaskRequirements>, defaults: { cpus: number, memoryMb: number } = { cpus: 0, memoryMb: 0 }): TaskRequirements {
  return {
    cpus: r.cpus ?? defaults.cpus,
    memoryMb: r.memoryMb ?? defaults.memoryMb,
    gpu: r.gpu ?? null,
    ...(r.model === undefined ? {} : { model: r.model }),
    ...(r.labels === undefined ? {} : { labels: r.labels }),
    ...(r.arch === undefined ? {} : { arch: r.arch }),
    ...(r.runtimes === undefined ? {} : { runtimes: r.runtimes }),
  }
}

export function requirementsOf (state: Pick<TaskState, 'spec'>): TaskRequirements {
  return normalizeRequirements((state.spec.requirements ?? {}) as Partial<TaskRequirements>)
}

const MAX_TOKENS = 1_000_000_000
const tokenCount = (v: unknown): number | undefined => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_TOKENS ? v : undefined

/** A model task's size (`spec.work`, set by its kind at submission); undefined when absent or not sane. */
export function workOf (spec: Record<string, unknown>): TaskWork | undefined {
  const work = spec.work as { promptTokens?: unknown, outputTokens?: unknown } | undefined
  const promptTokens = tokenCount(work?.promptTokens)
  const outputTokens = tokenCount(work?.outputTokens)
  return promptTokens === undefined || outputTokens === undefined ? undefined : { promptTokens, outputTokens }
}

/** What placement needs to know of a task's kind (TaskKind has these). */
export interface PlacementTraits {
  /** Runs in the sandbox: only nodes whose sandbox works can take it. */
  readonly needsSandbox: boolean
  /** The task's class of work for run estimates, finer than its kind (exec: the program it runs). */
  workClass?: (spec: Record<string, unknown>) => string | undefined
}

/** A folded task as the scheduler decides over it; `traits` from this node's registry (none: a kind it does not know). */
export function schedulerView (state: TaskState, traits: PlacementTraits | undefined): PlacementTask {
  const work = workOf(state.spec)
  const program = traits?.workClass?.(state.spec)
  return { id: state.id, kind: state.kind, priority: state.priority, requirements: requirementsOf(state), submittedAt: state.submittedAt, needsSandbox: traits?.needsSandbox ?? false, ...(work === undefined ? {} : { work }), ...(program === undefined ? {} : { program }) }
}

export function toTaskView (state: TaskState): TaskViewT {
  // A cancelled task shows what its stopped run printed, if that run recorded it.
  const decided = state.decidedBy === undefined
    ? (state.state === 'cancelled' ? state.attempts.findLast(a => a.outcome === 'cancelled' && a.result !== undefined) : undefined)
    : state.attempts[state.decidedBy - 1]
  const error = state.abandonedReason ?? (state.state === 'cancelled' ? `cancelled${state.cancelReason === undefined ? '' : `: ${state.cancelReason}`}` : decided?.error)
  return {
    id: state.id,
    kind: state.kind,
    state: state.state,
    priority: state.priority,
    submittedAt: iso(state.submittedAt),
    updatedAt: iso(state.updatedAt),
    auctioneer: state.auctioneer,
    requirements: { ...requirementsOf(state) },
    attempts: state.attempts.map(a => ({
      attempt: a.attempt,
      node: a.node,
      awardedAt: iso(a.awardedAt),
      ...(a.startedAt === undefined ? {} : { startedAt: iso(a.startedAt) }),
      ...(a.endedAt === undefined ? {} : { endedAt: iso(a.endedAt) }),
      ...(a.outcome === undefined ? {} : { outcome: a.outcome }),
      ...(a.error === undefined ? {} : { error: a.error }),
    })),
    ...(decided?.result === undefined ? {} : { result: decided.result }),
    ...(error === undefined ? {} : { error }),
    ...(state.blocked === undefined ? {} : { blocked: { ...state.blocked, at: iso(state.blocked.at) } }),
    ...(state.checkpoints === undefined ? {} : { checkpoints: state.checkpoints.map(({ inline: _inline, ...c }) => ({ ...c, at: iso(c.at) })) }),
    ...(state.feedback === undefined ? {} : { feedback: state.feedback.map(f => ({ ...f, at: iso(f.at) })) }),
    ...(state.compacted === true ? { compacted: true as const } : {}),
    ...(state.expired === true ? { expired: true as const } : {}),
    ...(state.partial === true ? { partial: true as const } : {}),
  }
}

const MAX_REASONS = 32

/** Group every unfit node's reasons by (check, reason text): what a `blocked` entry records. */
export function blockedReport (verdict: MeshVerdict): Bodies['blocked'] | undefined {
  if (verdict.verdict === 'feasible') return undefined
  const groups = new Map<string, Bodies['blocked']['reasons'][number]>()
  for (const reasons of Object.values(verdict.reasons)) {
    for (const r of reasons) {
      const key = `${r.check}\u0000${r.fit}\u0000${r.reason}`
      const g = groups.get(key)
      if (g === undefined) groups.set(key, { check: r.check, fit: r.fit, reason: r.reason.slice(0, 2048), nodes: 1 })
      else g.nodes++
    }
  }
  const reasons = [...groups.values()].sort((a, b) => b.nodes - a.nodes).slice(0, MAX_REASONS)
  return { verdict: verdict.verdict, nodes: Object.keys(verdict.reasons).length, reasons }
}

/** Same report as last time? (so an unchanged verdict is not written again) */
export function sameReport (a: Bodies['blocked'] | undefined, b: Bodies['blocked'] | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/** The peers a task's submitter asked to place it away from (a spec from the ledger: checked, not trusted). */
export function avoidOf (spec: Record<string, unknown>): Set<string> {
  const avoid = spec.avoid
  return new Set(Array.isArray(avoid) ? avoid.filter((p): p is string => typeof p === 'string').slice(0, 16) : [])
}
