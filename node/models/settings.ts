/**
 * The model worker's settings from the node's config and the machine (pure). Threads never
 * exceed the physical cores: llama.cpp's threads spin while they wait for each other, so one
 * more thread than there are cores (or a core shared with the node's own event loop) makes
 * generation collapse rather than slow down.
 */
import type { HostSettings } from '../../protocols/model.js'
import type { ModelsConfig } from '../config/schema.js'

export interface MachineFacts { physicalCores: number, totalMemoryMb: number }

/**
 * Threads per context for `auto`: every physical core, except on machines of 2 to 4 cores,
 * which keep one core for the node process (its event loop streams every token and runs
 * the mesh); see docs/MODELS.md for the measurements behind this.
 */
export function autoThreads (physicalCores: number): number {
  const cores = Math.max(1, Math.floor(physicalCores))
  return cores >= 2 && cores <= 4 ? cores - 1 : cores
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
