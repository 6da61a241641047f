/**
 * The model worker's settings from the node's config and the machine (pure). Threads never
 * exceed the physical cores: llama.cpp's threads spin while they wait for each other, so one
 * more thread than there are cores (or a core shared with the node's own event loop) makes
 * generation collapse rather than slow down.
 */
import type { HostSettings } from '../../protocols/index.js'
import type { ModelsConfig } from '../config/schema.js'

export interface MachineFacts { physicalCores: number, totalMemoryMb: number }

/**
 * Threads per context for `auto`: the physical cores (never more: llama.cpp's threads spin
 * while they wait for each other, so an extra one collapses generation). The model worker
 * runs with one libuv thread so these threads get a core each (workers/supervisor.ts); a
 * machine that also runs heavy sandboxes or builds at the same time does better with fewer
 * (set `models.threads`). See docs/MODELS.md for the measurements.
 */
export function autoThreads (physicalCores: number): number {
  return Math.max(1, Math.floor(physicalCores))
}

export function hostSettings (config: ModelsConfig, machine: MachineFacts): HostSettings {
  const cores = Math.max(1, Math.floor(machine.physicalCores))
  return {
    threads: config.threads === 'auto' ? autoThreads(cores) : Math.min(config.threads, cores),
    memoryBudgetMb: config.memoryBudgetMb === 'auto' ? Math.max(256, Math.floor(machine.totalMemoryMb / 2)) : config.memoryBudgetMb,
    sequences: config.sequences,
    contextSize: config.contextSize,
    gpuLayers: config.gpuLayers,
  }
}
