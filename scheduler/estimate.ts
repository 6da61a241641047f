/**
 * Run-time estimates learned online from finished tasks, per (kind, model, node); exec tasks
 * are also learned per program (`sleep`, `python3 -m pytest`...), so one fast command does not
 * make a node look fast for every exec: a program is estimated from its own means, a program
 * never seen by the kind's prior (nothing is known of it; queue depth then decides).
 *
 * Two exponentially weighted moving averages (EWMA, weight `alpha`, bias-corrected: the
 * n-th observation has weight max(alpha, 1/n), so the first few are a plain mean):
 * - class: (kind, model) work in reference ms = duration x node speed (node-independent);
 * - node: (kind, model, node) duration in ms on that node.
 * estimate(kind, model, node) = w x nodeMean + (1 - w) x classMean / speed, w = n / (n + k0)
 * with n the node's observation count (k0 = `nodeTrust`). Before any class history the prior
 * for the kind (reference ms) stands in for classMean.
 *
 * Model tasks: durations observed should leave out loading the model (the result's
 * `timings.loadMs`); prediction adds a load penalty of its own where the model is not loaded.
 * The mean is per task, not per token: tasks of very different sizes share one mean.
 *
 * The state is plain data, rebuilt by folding finished ledger entries through `observeRun`
 * (which updates the given state in place and returns it: 100k observations must not copy a
 * map each). No I/O.
 *
 * Bounded: each map holds at most `maxEntries` means (default MAX_ESTIMATES); a new key beyond
 * that evicts the least recently observed one (exec programs are names users choose, so their
 * number is not bounded otherwise). An evicted mean falls back to the class mean or the prior.
 */

export interface Mean { mean: number, count: number }

export const MAX_ESTIMATES = 10_000

export interface RunEstimates {
  alpha: number
  nodeTrust: number
  maxEntries: number
  /** Reference ms per kind before any history; `default` for kinds not listed. */
  priors: Readonly<Record<string, number>>
  classes: Map<string, Mean>
  nodes: Map<string, Mean>
}

export const DEFAULT_PRIORS: Readonly<Record<string, number>> = { noop: 1, exec: 5_000, default: 30_000 }

export function createRunEstimates (options: { alpha?: number, nodeTrust?: number, priors?: Record<string, number>, maxEntries?: number } = {}): RunEstimates {
  return {
    alpha: options.alpha ?? 0.2,
    nodeTrust: options.nodeTrust ?? 3,
    maxEntries: options.maxEntries ?? MAX_ESTIMATES,
    priors: { ...DEFAULT_PRIORS, ...options.priors },
    classes: new Map(),
    nodes: new Map(),
  }
}

const classKey = (kind: string, model: string | undefined): string => `${kind}\u0000${model ?? ''}`
/** The class of one program's runs (a prefix no model name has). */
const programClass = (program: string): string => `\u0001${program}`
const nodeKey = (kind: string, model: string | undefined, node: string): string => `${classKey(kind, model)}\u0000${node}`

function ewma (state: RunEstimates, map: Map<string, Mean>, key: string, value: number): void {
  const m = map.get(key)
  if (m === undefined) {
    // Map order is the recency order: the first key is the least recently observed.
    if (map.size >= state.maxEntries) map.delete(map.keys().next().value as string)
    map.set(key, { mean: value, count: 1 })
    return
  }
  map.delete(key)
  map.set(key, m)
  m.count++
  const w = Math.max(state.alpha, 1 / m.count)
  m.mean += w * (value - m.mean)
}

/** `program`: what an exec task runs (its class of work within the kind); ignored for model tasks. */
export interface RunObservation { kind: string, model?: string, program?: string, node: string, speed: number, durationMs: number }

/** Folds one finished task's duration into the estimates (in place; returns the state). */
export function observeRun (state: RunEstimates, o: RunObservation): RunEstimates {
  if (!Number.isFinite(o.durationMs) || o.durationMs < 0 || !(o.speed > 0)) return state
  const classes = o.model === undefined && o.program !== undefined ? [o.model, programClass(o.program)] : [o.model]
  for (const c of classes) {
    ewma(state, state.classes, classKey(o.kind, c), o.durationMs * o.speed)
    ewma(state, state.nodes, nodeKey(o.kind, c, o.node), o.durationMs)
  }
  return state
}

/** How many finished runs of `kind`/`model` on `node` the estimates hold (0: none yet). */
export function nodeRunCount (state: RunEstimates, kind: string, model: string | undefined, node: string): number {
  return state.nodes.get(nodeKey(kind, model, node))?.count ?? 0
}

/** Estimated run time in ms of a task of `kind`/`model` (or exec `program`) on `node` (speed relative to reference). */
export function estimateRunMs (state: RunEstimates, kind: string, model: string | undefined, node: string, speed: number, program?: string): number {
  return blend(state, kind, model === undefined && program !== undefined ? programClass(program) : model, node, speed)
}

/** The node's own mean weighted by its count against the class mean (or the kind's prior) scaled by speed. */
function blend (state: RunEstimates, kind: string, model: string | undefined, node: string, speed: number): number {
  const s = speed > 0 ? speed : 1
  const cls = state.classes.get(classKey(kind, model))?.mean ?? state.priors[kind] ?? state.priors.default ?? DEFAULT_PRIORS.default
  const fromClass = cls / s
  const own = state.nodes.get(nodeKey(kind, model, node))
  if (own === undefined) return fromClass
  const w = own.count / (own.count + state.nodeTrust)
  return w * own.mean + (1 - w) * fromClass
}
