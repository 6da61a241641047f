/** A sandboxed task's limits never exceed what placement reserves (tasks/reservation.ts). */
import { describe, expect, test } from 'vitest'
import { parseSubmission, type Submission } from '../../tasks/index.js'
import { kindRegistry } from '../../node/kinds/index.js'

const parse = (body: Record<string, unknown>): Submission => parseSubmission({ kind: 'exec', command: ['true'], ...body }, kindRegistry())
const refusal = (body: Record<string, unknown>): { name: string, details: string[] } => {
  try { parse(body) } catch (err) { return err as { name: string, details: string[] } }
  throw new Error('not refused')
}

describe('reservation vs limits', () => {
  test('a memory limit above an explicit requirement is refused, naming both', () => {
    const err = refusal({ requirements: { memoryMb: 64 }, limits: { memoryMb: 8192 } })
    expect(err.name).toBe('InvalidTaskError')
    expect(err.details).toEqual([expect.stringMatching(/limits\.memoryMb \(8192\).*requirements\.memoryMb \(64\)/)])
  })

  test('without an explicit memory requirement, the reservation is the limit', () => {
    expect(parse({ limits: { memoryMb: 8192 } }).spec.requirements.memoryMb).toBe(8192)
    expect(parse({ limits: { memoryMb: 64 } }).spec.requirements.memoryMb).toBe(64)
  })

  test('a limit within the requirement is kept as given', () => {
    const { spec } = parse({ requirements: { memoryMb: 1024, cpus: 2 }, limits: { memoryMb: 512, cpuMs: 60_000, timeoutMs: 30_000 } })
    expect(spec.requirements).toMatchObject({ memoryMb: 1024, cpus: 2 })
    expect(spec.limits).toMatchObject({ memoryMb: 512, cpuMs: 60_000 })
  })

  test('CPU time above cpus x wall is refused when cpus was given, naming both', () => {
    const err = refusal({ requirements: { cpus: 1 }, limits: { cpuMs: 120_000, timeoutMs: 30_000 } })
    expect(err.name).toBe('InvalidTaskError')
    expect(err.details).toEqual([expect.stringMatching(/limits\.cpuMs \(120000\).*requirements\.cpus \(1\)/)])
  })

  test('without explicit cpus, the reservation is raised to cover the CPU time', () => {
    expect(parse({ limits: { cpuMs: 120_000, timeoutMs: 30_000 } }).spec.requirements.cpus).toBe(4)
  })

  test('without a CPU limit, the run gets cpus x wall at most', () => {
    expect(parse({ requirements: { cpus: 0.5 }, limits: { timeoutMs: 10_000 } }).spec.limits.cpuMs).toBe(5000)
    expect(parse({ requirements: { cpus: 8 } }).spec.limits.cpuMs).toBe(30_000)
  })

  test('both conflicts are listed at once; kinds without a sandbox are not touched', () => {
    expect(refusal({ requirements: { memoryMb: 64, cpus: 1 }, limits: { memoryMb: 128, cpuMs: 60_000 } }).details).toHaveLength(2)
    expect(parseSubmission({ kind: 'noop', requirements: { memoryMb: 1 }, limits: { memoryMb: 4096 } }, kindRegistry()).spec.requirements.memoryMb).toBe(1)
  })
})
