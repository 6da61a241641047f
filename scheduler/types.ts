/**
 * What the scheduler decides over: a task's requirements and a candidate node's view (its
 * advertised capabilities plus its load). Plain data; `nodeView` builds a view from a
 * capability advert and the worker pool's stats, so every decision below stays pure.
 */
import type { Capabilities, ModelCapability } from '../protocols/index.js'

/** Priorities run 0 (lowest) to 9 (highest); the ledger's `submitted` body uses the same range. */
export const MIN_PRIORITY = 0
export const MAX_PRIORITY = 9

/** Feasibility's answer for one node: fits now, later (when capacity frees), or never. */
export type Fit = 'now' | 'later' | 'never'
export type CheckName = 'cpus' | 'memory' | 'gpu' | 'model' | 'labels' | 'arch' | 'sandbox' | 'runtimes' | 'workers'
export interface Unfit { check: CheckName, fit: 'later' | 'never', reason: string }
/** Why each node (by peer id) cannot run a task. */
export type NodeReasons = Record<string, Unfit[]>

export interface GpuRequirement { count: number, minVramMb: number }

export interface TaskRequirements {
  cpus: number
  memoryMb: number
  gpu: GpuRequirement | null
  model?: string
  labels?: string[]
  arch?: string
  /** Programs the sandbox must have (the node's probed runtimes: sh, python3, pytest, node, tsc). */
  runtimes?: string[]
}

/** Estimated size of a model task, in tokens: what a speed-based run estimate multiplies. */
export interface TaskWork {
  promptTokens: number
  /** The most tokens it may generate (the request's max tokens); 0 for `embed`. */
  outputTokens: number
}

export interface PlacementTask {
  id: string
  /**
   * `exec` runs in the sandbox; `noop` completes at once; `generate`, `analyze` (a generate
   * with a grammar) and `embed` run on the node's model worker and name `requirements.model`.
   */
  kind: string
  priority: number
  requirements: TaskRequirements
  /** Wall-clock ms when submitted; queues age tasks from here. */
  submittedAt: number
  /** Model tasks only, where the submitter can tell; without it the run estimate is the kind's. */
  work?: TaskWork
  /** Its class of work, finer than the kind (exec: the program it runs, `python3 -m pytest`), whose own run history prices it. */
  program?: string
  /** Its kind runs in the sandbox: a node without a working one cannot take it. */
  needsSandbox?: boolean
}

/**
 * A node's load as a bidder knows it. Work is in estimated ms on this node. `queuedMsByPriority`
 * has one bucket per priority (index = priority), so a task's wait counts only the work it
 * does not overtake.
 */
export interface NodeLoad {
  /** Tasks the node runs at once (worker slots of the task's kind). */
  slots: number
  running: number
  queued: number
  runningRemainingMs: number
  queuedMsByPriority: readonly number[]
  /** Share of the node's CPU taken by work outside the grid, 0-1 (advert `load.cpuPercent`). */
  externalLoad: number
}

/** What a node advertises about one of its models (advert `models[]`), keyed by model name. */
export interface ModelFacts {
  /** In the model worker's memory now: no load and self-benchmark before the first token. */
  loaded: boolean
  /** File size: what loading reads. */
  sizeMb?: number
  /** Measured by the worker's self-benchmark when it last loaded the model. */
  promptTokensPerSecond?: number
  generationTokensPerSecond?: number
  /** Not held: the node would fetch it from a peer first (models.autoFetch); the transfer's estimate, ms. */
  fetchMs?: number
}

export interface NodeView {
  id: string
  arch: string
  cpus: number
  memoryTotalMb: number
  memoryAvailableMb: number
  gpuVramMb: readonly number[]
  models: readonly string[]
  /** Facts per model name, for the models in `models`; read through `modelFacts`. */
  modelInfo: Readonly<Record<string, ModelFacts>>
  labels: readonly string[]
  /** null: not probed yet (may come); false: probed and absent. */
  sandboxAvailable: boolean | null
  /** What starts inside the node's sandbox (probed); empty before the probe or without a sandbox. */
  runtimes: readonly string[]
  /** Relative speed, 1 = the reference machine (3 GHz); run estimates divide by it. */
  speed: number
  load: NodeLoad
}

export const REFERENCE_GHZ = 3

export function emptyLoad (slots: number, externalLoad = 0): NodeLoad {
  return { slots, running: 0, queued: 0, runningRemainingMs: 0, queuedMsByPriority: new Array<number>(MAX_PRIORITY + 1).fill(0), externalLoad }
}

/** The node's facts for `model`, if it advertises them (own keys only: names are peer input). */
export function modelFacts (node: Pick<NodeView, 'modelInfo'>, model: string | undefined): ModelFacts | undefined {
  return model !== undefined && Object.hasOwn(node.modelInfo, model) ? node.modelInfo[model] : undefined
}

/**
 * Advertised models as facts by name. A name advertised twice (two files) keeps its first
 * entry unless a later one is loaded and the first is not: the loaded copy is the one that runs.
 */
export function modelInfoOf (models: readonly ModelCapability[]): Record<string, ModelFacts> {
  const info: Record<string, ModelFacts> = Object.create(null) as Record<string, ModelFacts>
  for (const m of models) {
    const seen = Object.hasOwn(info, m.name) ? info[m.name] : undefined
    if (seen !== undefined && (seen.loaded || !m.loaded)) continue
    const facts: ModelFacts = { loaded: m.loaded }
    if (m.sizeMb !== undefined) facts.sizeMb = m.sizeMb
    if (m.promptTokensPerSecond !== undefined) facts.promptTokensPerSecond = m.promptTokensPerSecond
    if (m.generationTokensPerSecond !== undefined) facts.generationTokensPerSecond = m.generationTokensPerSecond
    info[m.name] = facts
  }
  return info
}

/**
 * The view an auctioneer has of a peer: capabilities from its advert, load from its pool's stats.
 * The stats carry counts, not durations, so queued and running work is priced at `meanRunMs`
 * and put in the top priority bucket (every task is assumed to wait behind it: pessimistic).
 * A bidder knows its own queue and should fill `load` exactly instead.
 */
/** What a worker pool reports of one kind of its workers (workers/stats.ts's KindStats has these). */
export interface SlotStats { queued: number, running: number, capacity: number }

export function nodeView (id: string, caps: Capabilities, pool?: { kinds: Record<'exec' | 'model', SlotStats> }, workerKind: 'exec' | 'model' = 'exec', meanRunMs = 1000): NodeView {
  const stats: SlotStats | undefined = pool?.kinds[workerKind]
  const slots = stats === undefined ? caps.cpu.physicalCores : stats.capacity
  const load = emptyLoad(slots, Math.min(1, Math.max(0, caps.load.cpuPercent / 100)))
  if (stats !== undefined) {
    const buckets = [...load.queuedMsByPriority]
    buckets[MAX_PRIORITY] = stats.queued * meanRunMs
    Object.assign(load, { running: stats.running, queued: stats.queued, runningRemainingMs: stats.running * meanRunMs / 2, queuedMsByPriority: buckets })
  }
  return {
    id,
    arch: caps.cpu.arch,
    cpus: caps.cpu.cores,
    memoryTotalMb: caps.memory.totalMb,
    memoryAvailableMb: caps.memory.availableMb,
    gpuVramMb: caps.gpus.map(g => g.vramMb),
    models: caps.models.map(m => m.name),
    modelInfo: modelInfoOf(caps.models),
    labels: caps.labels,
    sandboxAvailable: caps.sandbox === null ? null : caps.sandbox.available,
    runtimes: caps.sandbox?.available === true ? caps.sandbox.runtimes : [],
    speed: caps.cpu.speedGHz > 0 ? caps.cpu.speedGHz / REFERENCE_GHZ : 1,
    load,
  }
}
