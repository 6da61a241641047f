/**
 * Pure assembly of a node's capabilities from measured facts and declared config, and the
 * rule for what counts as a change significant enough to advertise at once.
 */
import type { Capabilities, ModelCapability, SandboxCapability } from '../../protocols/index.js'
import type { DeclaredResources } from '../config/schema.js'
import type { DynamicFacts, StaticFacts } from './probe.js'

export interface Declared {
  name: string
  version: string
  labels: readonly string[]
  resources: Readonly<DeclaredResources>
  sandbox: SandboxCapability | null
  models: readonly ModelCapability[]
}

export function buildCapabilities (facts: StaticFacts, dynamic: DynamicFacts, declared: Declared): Capabilities {
  const res = declared.resources
  const cores = res.cpus ?? facts.cpu.cores
  const totalMb = res.memoryMb ?? facts.memoryTotalMb
  return {
    name: declared.name,
    version: declared.version,
    nodeVersion: process.versions.node,
    os: { ...facts.os },
    cpu: { ...facts.cpu, cores, physicalCores: Math.min(cores, facts.cpu.physicalCores), arch: res.arch ?? facts.cpu.arch },
    memory: { totalMb, availableMb: Math.min(totalMb, dynamic.memoryAvailableMb) },
    gpus: (res.gpus ?? facts.gpus).map(g => ({ ...g })),
    diskFreeMb: dynamic.diskFreeMb,
    load: { ...dynamic.load },
    labels: [...declared.labels],
    sandbox: declared.sandbox === null ? null : { ...declared.sandbox, runtimes: [...declared.sandbox.runtimes] },
    models: declared.models.map(m => ({ ...m })),
  }
}

const stable = (c: Capabilities): string => JSON.stringify([c.name, c.version, c.cpu, c.gpus, c.memory.totalMb, c.labels, c.sandbox, c.models])

/**
 * True when peers would place work differently if they knew: any declared or static part
 * changed, CPU load moved by 25 points, available memory or disk by 10% of their scale.
 */
export function isSignificantChange (before: Capabilities, after: Capabilities): boolean {
  if (stable(before) !== stable(after)) return true
  if (Math.abs(before.load.cpuPercent - after.load.cpuPercent) >= 25) return true
  if (Math.abs(before.memory.availableMb - after.memory.availableMb) >= after.memory.totalMb * 0.1) return true
  const diskScale = Math.max(before.diskFreeMb, after.diskFreeMb, 1)
  return Math.abs(before.diskFreeMb - after.diskFreeMb) >= diskScale * 0.1
}
