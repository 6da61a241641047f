import { describe, expect, test } from 'vitest'
import { createRunEstimates, emptyLoad, estimateRunMs, observeRun, predictCompletion, queueWaitMs, spareVramShare } from '../../scheduler/index.js'
import { node, task } from './helpers.js'

describe('run estimates', () => {
  test.each([
    ['prior of the kind on a reference node', 'exec', 1, 5_000],
    ['prior scaled by speed', 'exec', 2, 2_500],
    ['default prior for an unknown kind', 'generate', 1, 30_000],
  ])('without history: %s', (_name, kind, speed, expected) => {
    expect(estimateRunMs(createRunEstimates(), kind, undefined, 'n1', speed)).toBe(expected)
  })

  test('class history moves every node\'s estimate, scaled by speed', () => {
    const s = createRunEstimates()
    observeRun(s, { kind: 'exec', node: 'fast', speed: 2, durationMs: 500 })
    expect(estimateRunMs(s, 'exec', undefined, 'slow', 0.5)).toBe(2_000)
    expect(estimateRunMs(s, 'exec', undefined, 'other', 1)).toBe(1_000)
  })

  test('a node\'s own history outweighs the class as it grows', () => {
    const s = createRunEstimates({ nodeTrust: 3 })
    observeRun(s, { kind: 'exec', node: 'a', speed: 1, durationMs: 1_000 })
    for (let i = 0; i < 3; i++) observeRun(s, { kind: 'exec', node: 'b', speed: 1, durationMs: 4_000 })
    const b = estimateRunMs(s, 'exec', undefined, 'b', 1)
    // class mean = (1000 + 3 x 4000) / 4 = 3250; w = 3 / 6 -> 0.5 x 4000 + 0.5 x 3250
    expect(b).toBeCloseTo(3_625)
  })

  test('models are separate classes', () => {
    const s = createRunEstimates()
    observeRun(s, { kind: 'generate', model: 'big', node: 'a', speed: 1, durationMs: 9_000 })
    expect(estimateRunMs(s, 'generate', 'big', 'z', 1)).toBe(9_000)
    expect(estimateRunMs(s, 'generate', 'small', 'z', 1)).toBe(30_000)
  })

  test('exec programs are classes of their own: a fast command on a node does not make a slow one look fast there', () => {
    const s = createRunEstimates({ nodeTrust: 3 })
    for (let i = 0; i < 3; i++) observeRun(s, { kind: 'exec', program: 'sleep', node: 'a', speed: 1, durationMs: 1_000 })
    for (let i = 0; i < 5; i++) observeRun(s, { kind: 'exec', program: 'echo', node: 'b', speed: 1, durationMs: 10 })
    // b never ran sleep: the mesh's sleep history prices it, not b's echoes.
    expect(estimateRunMs(s, 'exec', undefined, 'b', 1, 'sleep')).toBe(1_000)
    expect(estimateRunMs(s, 'exec', undefined, 'b', 1, 'echo')).toBeCloseTo(10)
    // A program never seen: the kind's prior (not b's echoes), scaled by speed.
    expect(estimateRunMs(s, 'exec', undefined, 'b', 1, 'make')).toBe(5_000)
    expect(estimateRunMs(s, 'exec', undefined, 'b', 2, 'make')).toBe(2_500)
    expect(estimateRunMs(s, 'exec', undefined, 'b', 1)).toBeLessThan(500) // without a program: the kind-wide mean at b, dominated by echo
    // Models are unaffected by a program.
    observeRun(s, { kind: 'generate', model: 'm', program: 'ignored', node: 'a', speed: 1, durationMs: 3_000 })
    expect(estimateRunMs(s, 'generate', 'm', 'z', 1, 'ignored')).toBe(3_000)
  })

  test('EWMA follows a change in duration', () => {
    const s = createRunEstimates({ alpha: 0.2 })
    for (let i = 0; i < 50; i++) observeRun(s, { kind: 'exec', node: 'a', speed: 1, durationMs: 1_000 })
    for (let i = 0; i < 30; i++) observeRun(s, { kind: 'exec', node: 'a', speed: 1, durationMs: 2_000 })
    expect(estimateRunMs(s, 'exec', undefined, 'a', 1)).toBeGreaterThan(1_990)
  })

  test.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('a bad duration (%s) is ignored', (d) => {
    const s = observeRun(createRunEstimates(), { kind: 'exec', node: 'a', speed: 1, durationMs: d })
    expect(s.classes.size).toBe(0)
  })
})

describe('predicted completion', () => {
  const load = (slots: number, runningRemainingMs: number, buckets: Record<number, number>) => {
    const l = emptyLoad(slots)
    return { ...l, running: runningRemainingMs > 0 ? slots : 0, runningRemainingMs, queuedMsByPriority: l.queuedMsByPriority.map((_, p) => buckets[p] ?? 0) }
  }

  test.each([
    ['idle node', load(2, 0, {}), 5, 0],
    ['a free slot: no wait', { ...load(2, 4_000, {}), running: 1 }, 5, 0],
    ['all slots busy: running work shared over slots', { ...load(2, 4_000, {}), running: 2 }, 5, 2_000],
    ['a free slot but work queued ahead', { ...load(2, 4_000, { 7: 2_000 }), running: 1 }, 5, 3_000],
    ['waits behind same and higher priority', load(1, 0, { 3: 1_000, 5: 2_000, 9: 4_000 }), 5, 6_000],
    ['priority 9 overtakes everything lower', load(1, 0, { 3: 1_000, 5: 2_000, 9: 4_000 }), 9, 4_000],
    ['priority 0 waits behind all', load(1, 0, { 3: 1_000, 5: 2_000, 9: 4_000 }), 0, 7_000],
    ['no slots: never', load(0, 0, {}), 5, Number.POSITIVE_INFINITY],
  ])('queue wait: %s', (_name, l, priority, wait) => {
    expect(queueWaitMs(l, priority)).toBe(wait)
  })

  test('completion = wait + run, and outside load slows the run once the cores are busy', () => {
    const s = createRunEstimates()
    const idle = predictCompletion(task(), node({ load: load(1, 1_000, {}) }), s)
    expect(idle).toEqual({ waitMs: 1_000, loadMs: 0, runMs: 5_000, completionMs: 6_000, costMs: 6_000 })
    const cores = node().cpus
    // Half the cores busy with outside work: a 1-cpu task still finds a free core.
    expect(predictCompletion(task(), node({ load: { ...load(1, 1_000, {}), externalLoad: 0.5 } }), s).runMs).toBe(cores >= 2 ? 5_000 : 7_500)
    // Every core busy: the task shares them, (cores + 1) / cores slower.
    const full = predictCompletion(task(), node({ load: { ...load(1, 1_000, {}), externalLoad: 1 } }), s)
    expect(full.runMs).toBeCloseTo(5_000 * (cores + 1) / cores)
    expect(predictCompletion(task(), node({ cpus: 1, load: { ...load(1, 1_000, {}), externalLoad: 1 } }), s).runMs).toBe(10_000)
  })

  test.each([
    ['CPU node', [], null, 0],
    ['CPU task on a GPU node', [24_000], null, 1],
    ['GPU task using all VRAM', [24_000], { count: 1, minVramMb: 24_000 }, 0],
    ['small GPU task on a big GPU', [80_000], { count: 1, minVramMb: 20_000 }, 0.75],
    ['one of two GPUs', [16_000, 16_000], { count: 1, minVramMb: 16_000 }, 0.5],
  ] as const)('spare VRAM share: %s', (_name, vram, gpu, share) => {
    expect(spareVramShare(task({}, { gpu: gpu === null ? null : { ...gpu } }), node({ gpuVramMb: [...vram] }))).toBe(share)
  })

  test('cost reserves GPU nodes: completion x (1 + 0.5 x spare share)', () => {
    expect(predictCompletion(task(), node({ gpuVramMb: [24_000] }), createRunEstimates()).costMs).toBe(7_500)
  })

  test('history changes the prediction', () => {
    const s = createRunEstimates()
    const before = predictCompletion(task(), node(), s).completionMs
    observeRun(s, { kind: 'exec', node: 'n1', speed: 1, durationMs: 200 })
    expect(predictCompletion(task(), node(), s).completionMs).toBeLessThan(before)
  })
})
