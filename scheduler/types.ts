/**
 * What the scheduler decides over: a task's requirements and a candidate node's view (its
 * advertised capabilities plus its load). Plain data; `nodeView` builds a view from a
 * capability advert and the worker pool's stats, so every decision below stays pure.
 */
import type { Capabilities } from '../protocols/advert.js'
import type { KindStats, WorkerPoolStats } from '../workers/index.js'

/** Priorities run 0 (lowest) to 9 (highest); the ledger's `submitted` body uses the same range. */
export const MIN_PRIORITY = 0
export const MAX_PRIORITY = 9

export interface GpuRequirement { count: number, minVramMb: number }

export interface TaskRequirements {
  cpus: number
  memoryMb: number
  gpu: GpuRequirement | null
  model?: string
  labels?: string[]
  arch?: string
}

export interface TaskView {
  id: string
  /** `exec` runs in the sandbox; `noop` completes at once; later parts add kinds. */
  kind: string
  priority: number
  requirements: TaskRequirements
  /** Wall-clock ms when submitted; queues age tasks from here. */
  submittedAt: number
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

export interface NodeView {
  id: string
  arch: string
  cpus: number
  memoryTotalMb: number
  memoryAvailableMb: number
  gpuVramMb: readonly number[]
  models: readonly string[]
  labels: readonly string[]
  /** null: not probed yet (may come); false: probed and absent. */
  sandboxAvailable: boolean | null
  /** Relative speed, 1 = the reference machine (3 GHz); run estimates divide by it. */
  speed: number
  load: NodeLoad
}

export const REFERENCE_GHZ = 3

export function emptyLoad (slots: number, externalLoad = 0): NodeLoad {
  return { slots, running: 0, queued: 0, runningRemainingMs: 0, queuedMsByPriority: new Array<number>(MAX_PRIORITY + 1).fill(0), externalLoad }
}

/**
 * The view an auctioneer has of a peer: capabilities from its advert, load from its pool's stats.
 * The stats carry counts, not durations, so queued and running work is priced at `meanRunMs`
 * and put in the top priority bucket (every task is assumed to wait behind it: pessimistic).
 * A bidder knows its own queue and should fill `load` exactly instead.
 */
export function nodeView (id: string, caps: Capabilities, pool?: WorkerPoolStats, workerKind: keyof WorkerPoolStats['kinds'] = 'exec', meanRunMs = 1000): NodeView {
  const stats: KindStats | undefined = pool?.kinds[workerKind]
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
    labels: caps.labels,
    sandboxAvailable: caps.sandbox === null ? null : caps.sandbox.available,
    speed: caps.cpu.speedGHz > 0 ? caps.cpu.speedGHz / REFERENCE_GHZ : 1,
    load,
  }
}
