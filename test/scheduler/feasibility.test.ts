import { describe, expect, test } from 'vitest'
import { checkNode, emptyLoad, impossibleTaskError, meshVerdict, nodeView, validateTask, type CheckName, type Fit } from '../../scheduler/index.js'
import { caps } from '../helpers/fixtures.js'
import { node, task } from './helpers.js'

describe('feasibility checks', () => {
  test.each<[string, Parameters<typeof task>[1], Parameters<typeof node>[0], Fit, CheckName[]]>([
    ['fits', {}, {}, 'now', []],
    ['too many cpus', { cpus: 16 }, {}, 'never', ['cpus']],
    ['more memory than the node has', { memoryMb: 32_000 }, {}, 'never', ['memory']],
    ['memory in use now', { memoryMb: 10_000 }, {}, 'later', ['memory']],
    ['no GPU', { gpu: { count: 1, minVramMb: 8_000 } }, {}, 'never', ['gpu']],
    ['GPU with too little VRAM', { gpu: { count: 1, minVramMb: 24_000 } }, { gpuVramMb: [16_000] }, 'never', ['gpu']],
    ['two GPUs, one fits', { gpu: { count: 2, minVramMb: 20_000 } }, { gpuVramMb: [24_000, 16_000] }, 'never', ['gpu']],
    ['two GPUs fit', { gpu: { count: 2, minVramMb: 16_000 } }, { gpuVramMb: [24_000, 16_000] }, 'now', []],
    ['gpu count 0 is no GPU', { gpu: { count: 0, minVramMb: 0 } }, {}, 'now', []],
    ['model missing', { model: 'qwen' }, { models: ['llama'] }, 'never', ['model']],
    ['model present', { model: 'qwen' }, { models: ['qwen'] }, 'now', []],
    ['label missing', { labels: ['fast', 'ssd'] }, { labels: ['fast'] }, 'never', ['labels']],
    ['arch differs', { arch: 'arm64' }, {}, 'never', ['arch']],
    ['sandbox absent', {}, { sandboxAvailable: false }, 'never', ['sandbox']],
    ['sandbox not probed yet', {}, { sandboxAvailable: null }, 'later', ['sandbox']],
    ['no worker slot ready', {}, { load: emptyLoad(0) }, 'later', ['workers']],
    ['runtimes present', { runtimes: ['pytest', 'sh'] }, {}, 'now', []],
    ['a runtime missing', { runtimes: ['pytest', 'tsc'] }, {}, 'never', ['runtimes']],
    ['runtimes before the probe', { runtimes: ['pytest'] }, { sandboxAvailable: null, runtimes: [] }, 'later', ['sandbox', 'runtimes']],
    ['runtimes without a sandbox', { runtimes: ['sh'] }, { sandboxAvailable: false, runtimes: [] }, 'never', ['sandbox', 'runtimes']],
    ['never outranks later, all reasons kept', { cpus: 64, memoryMb: 10_000 }, { sandboxAvailable: null }, 'never', ['cpus', 'memory', 'sandbox']],
  ])('%s', (_name, req, over, fit, checks) => {
    const f = checkNode(task({}, req), node(over))
    expect(f.fit).toBe(fit)
    expect(f.reasons.map(r => r.check)).toEqual(checks)
    for (const r of f.reasons) expect(r.reason.length).toBeGreaterThan(0)
  })

  test('the sandbox is required only by kinds that need it', () => {
    expect(checkNode(task({ kind: 'noop', needsSandbox: false }), node({ sandboxAvailable: false })).fit).toBe('now')
    expect(checkNode(task({ kind: 'anything', needsSandbox: true }), node({ sandboxAvailable: false })).fit).toBe('never')
  })

  test('a view built from an advert is checked like any other', () => {
    const v = nodeView('p1', caps)
    expect(v).toMatchObject({ cpus: 8, gpuVramMb: [24576], labels: ['fast'], sandboxAvailable: null, speed: 1 })
    expect(checkNode(task({ kind: 'noop', needsSandbox: false }, { gpu: { count: 1, minVramMb: 24_000 }, labels: ['fast'] }), v).fit).toBe('now')
  })
})

describe('mesh verdict', () => {
  const small = node({ id: 'small', memoryTotalMb: 4_096, memoryAvailableMb: 4_096 })
  const busy = node({ id: 'busy', memoryTotalMb: 65_536, memoryAvailableMb: 1_024 })
  const free = node({ id: 'free', memoryTotalMb: 65_536, memoryAvailableMb: 60_000 })

  test.each([
    ['feasible when one node fits now', [small, busy, free], 'feasible', ['free']],
    ['wait when a node could fit later', [small, busy], 'wait', []],
    ['impossible when every node says never', [small], 'impossible', []],
    ['impossible on an empty mesh', [], 'impossible', []],
  ] as const)('%s', (_name, nodes, verdict, fitNow) => {
    const v = meshVerdict(task({}, { memoryMb: 32_000 }), nodes)
    expect(v.verdict).toBe(verdict)
    expect(v.fitNow.map(n => n.id)).toEqual(fitNow)
  })

  test('an impossible task reports every node\'s reasons', () => {
    const t = task({}, { memoryMb: 32_000, gpu: { count: 1, minVramMb: 1 } })
    const err = impossibleTaskError(t, meshVerdict(t, [small, free]))
    expect(err.name).toBe('ImpossibleTaskError')
    expect(Object.keys(err.reasons).sort()).toEqual(['free', 'small'])
    expect(err.reasons.small.map(r => r.check)).toEqual(['memory', 'gpu'])
    expect(err.reasons.free.map(r => r.check)).toEqual(['gpu'])
  })
})

describe('task validation', () => {
  test.each([
    ['priority 10', { priority: 10 }, 1],
    ['fractional priority', { priority: 1.5 }, 1],
    ['negative cpus and memory', { requirements: { cpus: -1, memoryMb: -1, gpu: null } }, 2],
    ['gpu count 0', { requirements: { cpus: 1, memoryMb: 1, gpu: { count: 0, minVramMb: -5 } } }, 2],
  ])('%s is rejected with every problem', (_name, over, problems) => {
    const t = task(over)
    expect(() => validateTask(t)).toThrow(expect.objectContaining({ name: 'InvalidRequirementsError', problems: expect.any(Array) }))
    try { validateTask(t) } catch (err) { expect((err as { problems: string[] }).problems).toHaveLength(problems) }
  })

  test('a valid task passes', () => { expect(() => validateTask(task())).not.toThrow() })
})
