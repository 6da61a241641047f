/**
 * What placement reserves covers what the sandbox allows (pure). A sandboxed task's limits
 * never exceed its requirements:
 * - memory: `limits.memoryMb` above an explicit `requirements.memoryMb` is refused (400 naming
 *   both); without an explicit requirement the reservation becomes the limit.
 * - CPU: a run may use at most `requirements.cpus` cores for its wall time, so `limits.cpuMs`
 *   above cpus × wall (timeoutMs, else the sandbox default) is refused when cpus was given;
 *   without it, cpus is raised to cpuMs / wall. Without `limits.cpuMs` the CPU limit is
 *   cpus × wall, never above the sandbox default.
 * The sandbox does not confine a run to `cpus` cores: a burst on more cores stays within the
 * CPU-time budget, which is what is reserved over the run.
 */
import type { Limits, Requirements } from '../protocols/index.js'
import type { TaskRequirements } from '../scheduler/index.js'
import { LIMIT_BOUNDS } from '../sandbox/index.js'
import { InvalidTaskError } from './errors.js'

/** The requirements and limits of a sandboxed task made consistent, or InvalidTaskError listing each conflict. */
export function reserveForLimits (given: Requirements | undefined, normalized: TaskRequirements, limits: Limits): { requirements: TaskRequirements, limits: Limits } {
  const problems: string[] = []
  const requirements = { ...normalized }
  const out = { ...limits }
  if (limits.memoryMb !== undefined) {
    if (given?.memoryMb === undefined) requirements.memoryMb = limits.memoryMb
    else if (limits.memoryMb > given.memoryMb) problems.push(`limits.memoryMb (${limits.memoryMb}) exceeds requirements.memoryMb (${given.memoryMb}): raise the requirement or lower the limit`)
  }
  const wallMs = limits.timeoutMs ?? LIMIT_BOUNDS.wallMs.default
  if (limits.cpuMs !== undefined) {
    const budget = requirements.cpus * wallMs
    if (given?.cpus === undefined) requirements.cpus = Math.max(requirements.cpus, Math.ceil(limits.cpuMs / wallMs * 100) / 100)
    else if (limits.cpuMs > budget) problems.push(`limits.cpuMs (${limits.cpuMs}) exceeds requirements.cpus (${given.cpus}) × the wall limit (${wallMs} ms) = ${budget} ms: raise the requirement or lower the limit`)
  } else {
    const { min, default: fallback } = LIMIT_BOUNDS.cpuMs
    out.cpuMs = Math.max(min, Math.min(fallback, Math.floor(requirements.cpus * wallMs)))
  }
  if (problems.length > 0) throw new InvalidTaskError(`the limits exceed what placement reserves: ${problems.join('; ')}`, { details: problems })
  return { requirements, limits: out }
}
