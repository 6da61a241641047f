/**
 * Predicted completion time of a task on a node, in ms from now:
 *
 *   wait     = 0 when a slot is free and nothing queued is ahead, else
 *              (runningRemainingMs + sum of queuedMsByPriority[p] for p >= priority) / slots
 *   base     = estimateRunMs(kind, model, node, speed), or for a model task see below
 *   run      = base x share
 *   share    = max(1, (externalLoad x cpus + max(1, task cpus)) / cpus)   (processor sharing)
 *   load     = 0, or for a model the node has but not loaded:
 *              sizeMb / LOAD_MB_PER_S x 1000 + SELF_BENCH_MS
 *   predicted = wait + load + run
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
 *
 * Model tasks (`requirements.model`, on a node that advertises facts for it), base is the
 * first of:
 *   1. learned: estimateRunMs, once this node has finished runs of (kind, model);
 *   2. speed prior: 1000 x (promptTokens / promptTps + outputTokens / genTps)
 *      + MODEL_REQUEST_OVERHEAD_MS, when the task has `work` and the node measured every rate
 *      the work needs (> 0; embed has no output tokens, so needs no generation rate);
 *   3. the kind's prior (estimateRunMs), as for any task.
 * Measured rates are the node's own, so the speed prior is not divided by the CPU speed. The
 * load penalty makes a node with the model loaded win unless it is busier by more than the
 * penalty (its wait) or slower by more. It is charged to every task for an unloaded model,
 * even when a task queued ahead will load it (pessimistic), and ignores what loading evicts.
 * A model task's VRAM need counts the model's size (its layers go to the GPU where they fit),
 * so a GPU node running a model is not charged the reserve for leaving its GPU idle.
 * Model tasks of one node share one model worker with several context sequences: `slots` for
 * them is that worker's capacity. Every input is guarded: rates of 0, missing sizes or
 * non-finite token counts give finite, non-negative estimates.
 * Pure.
 */
import { estimateRunMs, nodeRunCount, type RunEstimates } from './estimate.js'
import { modelFacts, type ModelFacts, type NodeView, type PlacementTask, type TaskWork } from './types.js'

export const RESERVE_WEIGHT = 0.5
/**
 * Model load rate, MB/s: about a SATA SSD's sequential read. NVMe reads faster, but a load
 * also builds the contexts and copies layers to the GPU, so a 4 GB model takes seconds either
 * way; a spinning disk is slower. A rough figure on purpose: it only has to rank a cold node
 * behind a warm one of equal speed by about the right margin.
 */
export const LOAD_MB_PER_S = 500
/** The self-benchmark the worker runs after a load (a short prompt, a few tokens) to measure the rates it advertises. */
export const SELF_BENCH_MS = 2_000
/** Per request on a loaded model: the call to the worker, tokenizing, a context sequence, the result's way back. */
export const MODEL_REQUEST_OVERHEAD_MS = 100

export interface Prediction { waitMs: number, loadMs: number, runMs: number, completionMs: number, costMs: number }

/** A finite count >= 0, else 0 (task sizes and advert numbers are peer input). */
const amount = (v: number | undefined): number => v !== undefined && Number.isFinite(v) && v > 0 ? v : 0
/** A usable rate: finite and > 0. */
const rate = (v: number | undefined): number | undefined => v !== undefined && Number.isFinite(v) && v > 0 ? v : undefined

/**
 * Time to load `facts`' model and benchmark it; 0 when loaded. An unadvertised size counts as
 * 0 MB. A model the node would fetch first (`fetchMs`) adds the transfer: fetch-then-run wins
 * only where it still finishes sooner than a holder's queue.
 */
export function modelLoadMs (facts: ModelFacts): number {
  return facts.loaded ? 0 : amount(facts.fetchMs) + amount(facts.sizeMb) / LOAD_MB_PER_S * 1000 + SELF_BENCH_MS
}

/** Time to fetch a model of `sizeMb` at `mbPerSecond` (a measured or default transfer rate). */
export function fetchTransferMs (sizeMb: number, mbPerSecond: number): number {
  const r = rate(mbPerSecond)
  return r === undefined ? Number.POSITIVE_INFINITY : 1000 * amount(sizeMb) / r
}

/** Run time from the node's measured rates; undefined when a rate the work needs is missing or 0, or it overflows. */
export function speedPriorMs (work: TaskWork, facts: ModelFacts): number | undefined {
  let ms = MODEL_REQUEST_OVERHEAD_MS
  for (const [tokens, perSecond] of [
    [amount(work.promptTokens), rate(facts.promptTokensPerSecond)],
    [amount(work.outputTokens), rate(facts.generationTokensPerSecond)],
  ] as const) {
    if (tokens === 0) continue
    if (perSecond === undefined) return undefined
    ms += 1000 * tokens / perSecond
  }
  // A rate near 0 (or a count near the float limit) can overflow: no usable estimate then.
  return Number.isFinite(ms) ? ms : undefined
}

/** A task's run time on the node before sharing its cores (`base` above): what queued work is priced at. */
export function estimateTaskRunMs (task: PlacementTask, node: NodeView, estimates: RunEstimates): number {
  const model = task.requirements.model
  const learned = (): number => estimateRunMs(estimates, task.kind, model, node.id, node.speed, task.program)
  const facts = modelFacts(node, model)
  if (facts === undefined || task.work === undefined || nodeRunCount(estimates, task.kind, model, node.id) > 0) return learned()
  return speedPriorMs(task.work, facts) ?? learned()
}

/** Share (0-1) of the node's GPU memory the task leaves unused. */
export function spareVramShare (task: PlacementTask, node: NodeView): number {
  let total = 0
  for (const v of node.gpuVramMb) total += v
  if (total <= 0) return 0
  const gpu = task.requirements.gpu
  const asked = gpu === null ? 0 : gpu.count * gpu.minVramMb
  const needed = Math.min(total, Math.max(asked, amount(modelFacts(node, task.requirements.model)?.sizeMb)))
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

export function predictCompletion (task: PlacementTask, node: NodeView, estimates: RunEstimates, reserveWeight = RESERVE_WEIGHT): Prediction {
  const base = estimateTaskRunMs(task, node, estimates)
  const cpus = Math.max(1, node.cpus)
  const busy = Math.min(1, Math.max(0, node.load.externalLoad)) * cpus
  const runMs = base * Math.max(1, (busy + Math.max(1, task.requirements.cpus)) / cpus)
  const facts = modelFacts(node, task.requirements.model)
  const loadMs = facts === undefined ? 0 : modelLoadMs(facts)
  const waitMs = queueWaitMs(node.load, task.priority)
  const completionMs = waitMs + loadMs + runMs
  return { waitMs, loadMs, runMs, completionMs, costMs: completionMs * (1 + reserveWeight * spareVramShare(task, node)) }
}
