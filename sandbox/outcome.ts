/**
 * Pure classification of how a run ended: exit status and signal as the caller sees them, and
 * which limit, if any, was hit. Signals inside the sandbox reach the host as an exit status of
 * 128+N (bubblewrap and tini report them that way), so such a status is reported as signal N;
 * a program that itself exits with 128+N cannot be told apart.
 */
import { constants } from 'node:os'
import type { CgroupSample } from './cgroup.js'
import type { SandboxLimits } from './spec.js'
import type { LimitHit } from '../protocols/index.js'

export type { LimitHit }

export interface OutcomeInput {
  /** The limit for which the supervisor ended the run, if it did. */
  killedFor: LimitHit | null
  /** The launcher's own exit: a code, or the signal that killed it. */
  code: number | null
  signal: NodeJS.Signals | null
  /** The final cgroup sample, where there is a cgroup. */
  sample: CgroupSample | null
  limits: SandboxLimits
  /** The largest regular file seen in /work, when files were collected. */
  largestFileSize: number
}

export interface Outcome {
  exitCode: number | null
  signal: string | null
  timedOut: boolean
  limitHit: LimitHit | null
}

const signalNames = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name]))

export function signalOfStatus (code: number | null): string | null {
  if (code === null || code <= 128 || code > 128 + 64) return null
  return signalNames.get(code - 128) ?? null
}

export function classifyOutcome (input: OutcomeInput): Outcome {
  const signal = input.signal ?? signalOfStatus(input.code)
  return {
    exitCode: input.code,
    signal,
    timedOut: input.killedFor === 'wall',
    limitHit: input.killedFor ?? limitSeen(input, signal),
  }
}

/** The limit a cgroup sample shows as reached: OOM kills, a refused fork, CPU time used up. */
export function limitInSample (sample: CgroupSample, limits: SandboxLimits): LimitHit | null {
  if (sample.oomKills > 0) return 'memory'
  if (sample.pidsLimitHits > 0) return 'pids'
  if (sample.cpuMs >= limits.cpuMs) return 'cpu'
  return null
}

function limitSeen (input: OutcomeInput, signal: string | null): LimitHit | null {
  const inSample = input.sample === null ? null : limitInSample(input.sample, input.limits)
  if (inSample !== null) return inSample
  if (signal === 'SIGXCPU') return 'cpu'
  if (signal === 'SIGXFSZ' || input.largestFileSize >= input.limits.fileSizeMb * 1024 * 1024) return 'fsize'
  return null
}
