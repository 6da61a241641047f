import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  LOAD_MB_PER_S, MODEL_REQUEST_OVERHEAD_MS, SELF_BENCH_MS, createRunEstimates, emptyLoad, estimateRunMs, estimateTaskRunMs,
  modelFacts, modelLoadMs, nodeView, observeRun, predictCompletion, rankCandidates, spareVramShare, speedPriorMs, validateTask,
  type ModelFacts, type NodeView, type TaskWork,
} from '../../scheduler/index.js'
import { caps } from '../helpers/fixtures.js'
import { node, task } from './helpers.js'

const MODEL = 'qwen'
const SIZE_MB = 4_000
/** 4,000 MB at 500 MB/s plus the self-benchmark. */
const PENALTY_MS = SIZE_MB / LOAD_MB_PER_S * 1000 + SELF_BENCH_MS
/** 500 prompt tokens at 500 tok/s and 200 output tokens at 20 tok/s: 1 s + 10 s. */
const WORK: TaskWork = { promptTokens: 500, outputTokens: 200 }
const RUN_MS = 11_000 + MODEL_REQUEST_OVERHEAD_MS

const facts = (over: Partial<ModelFacts> = {}): ModelFacts => ({ loaded: true, sizeMb: SIZE_MB, promptTokensPerSecond: 500, generationTokensPerSecond: 20, ...over })
const modelNode = (id: string, f: Partial<ModelFacts> = {}, over: Partial<NodeView> = {}): NodeView =>
  node({ id, models: [MODEL], modelInfo: { [MODEL]: facts(f) }, ...over })
/** A generate task of WORK; `null`: one whose size is not known. */
const generate = (work: TaskWork | null | undefined = WORK, kind = 'generate') =>
  task({ kind, ...(work === null || work === undefined ? {} : { work }) }, { model: MODEL })
const busy = (ms: number) => ({ ...emptyLoad(1), running: 1, runningRemainingMs: ms })
const winner = (nodes: NodeView[], t = generate()): string => rankCandidates(t, nodes, createRunEstimates())[0].node.id

describe('model tasks: prediction', () => {
  test('a node with the model loaded wins over an equal idle node without it', () => {
    const loaded = modelNode('loaded')
    const cold = modelNode('cold', { loaded: false })
    expect(winner([cold, loaded])).toBe('loaded')
    const s = createRunEstimates()
    expect(predictCompletion(generate(), loaded, s)).toEqual({ waitMs: 0, loadMs: 0, runMs: RUN_MS, completionMs: RUN_MS, costMs: RUN_MS })
    expect(predictCompletion(generate(), cold, s)).toMatchObject({ loadMs: PENALTY_MS, runMs: RUN_MS, completionMs: PENALTY_MS + RUN_MS })
  })

  test('of two loaded nodes, the one generating twice as fast wins', () => {
    const fast = modelNode('fast', { generationTokensPerSecond: 40 })
    expect(winner([modelNode('slow'), fast])).toBe('fast')
    expect(predictCompletion(generate(), fast, createRunEstimates()).runMs).toBe(1_000 + 5_000 + MODEL_REQUEST_OVERHEAD_MS)
  })

  test('measured rates are the node\'s own: the CPU speed does not scale them', () => {
    expect(predictCompletion(generate(), modelNode('n', {}, { speed: 4 }), createRunEstimates()).runMs).toBe(RUN_MS)
  })

  test.each([
    ['wait below the load penalty: the loaded node', PENALTY_MS / 2, 'loaded'],
    ['wait above the load penalty: the idle unloaded node', PENALTY_MS * 2, 'cold'],
  ])('a busy loaded node against an idle unloaded one, %s', (_name, waitMs, expected) => {
    expect(winner([modelNode('loaded', {}, { load: busy(waitMs) }), modelNode('cold', { loaded: false })])).toBe(expected)
  })

  test.each<[string, Partial<ModelFacts>, number]>([
    ['loaded', {}, 0],
    ['not loaded', { loaded: false }, PENALTY_MS],
    ['not loaded, size unknown: the self-benchmark only', { loaded: false, sizeMb: undefined }, SELF_BENCH_MS],
    ['not loaded, size not a number', { loaded: false, sizeMb: Number.NaN }, SELF_BENCH_MS],
  ])('load penalty: %s', (_name, f, ms) => {
    expect(modelLoadMs(facts(f))).toBe(ms)
  })

  test('learned estimates for this node override the speed prior; another node\'s do not', () => {
    const s = createRunEstimates()
    const n = modelNode('n1')
    observeRun(s, { kind: 'generate', model: MODEL, node: 'other', speed: 1, durationMs: 700 })
    expect(estimateTaskRunMs(generate(), n, s)).toBe(RUN_MS)
    observeRun(s, { kind: 'generate', model: MODEL, node: 'n1', speed: 1, durationMs: 900 })
    expect(estimateTaskRunMs(generate(), n, s)).toBe(estimateRunMs(s, 'generate', MODEL, 'n1', 1))
    expect(estimateTaskRunMs(generate(), n, s)).toBeLessThan(1_000)
    // Still charged the load when the model has since been unloaded.
    expect(predictCompletion(generate(), modelNode('n1', { loaded: false }), s).loadMs).toBe(PENALTY_MS)
  })

  test('learned estimates are per kind: analyze history leaves generate on the speed prior', () => {
    const s = observeRun(createRunEstimates(), { kind: 'analyze', model: MODEL, node: 'n1', speed: 1, durationMs: 900 })
    expect(estimateTaskRunMs(generate(), modelNode('n1'), s)).toBe(RUN_MS)
    expect(estimateTaskRunMs(generate(WORK, 'analyze'), modelNode('n1'), s)).toBe(900)
  })

  test.each<[string, TaskWork | null, Partial<ModelFacts>, number]>([
    ['no work: the kind\'s prior', null, {}, 30_000],
    ['no rates advertised: the kind\'s prior', WORK, { promptTokensPerSecond: undefined, generationTokensPerSecond: undefined }, 30_000],
    ['generation rate 0: the kind\'s prior', WORK, { generationTokensPerSecond: 0 }, 30_000],
    ['prompt rate 0: the kind\'s prior', WORK, { promptTokensPerSecond: 0 }, 30_000],
    ['embed (no output) needs no generation rate', { promptTokens: 1_000, outputTokens: 0 }, { generationTokensPerSecond: 0 }, 2_000 + MODEL_REQUEST_OVERHEAD_MS],
    ['no tokens at all: the overhead', { promptTokens: 0, outputTokens: 0 }, { promptTokensPerSecond: 0, generationTokensPerSecond: 0 }, MODEL_REQUEST_OVERHEAD_MS],
    ['non-finite token counts count as 0', { promptTokens: Number.NaN, outputTokens: Number.POSITIVE_INFINITY }, {}, MODEL_REQUEST_OVERHEAD_MS],
    ['an infinite rate is not a rate', WORK, { generationTokensPerSecond: Number.POSITIVE_INFINITY }, 30_000],
  ])('fallback: %s', (_name, work, f, ms) => {
    expect(estimateTaskRunMs(generate(work), modelNode('n1', f), createRunEstimates())).toBe(ms)
  })

  test('speedPriorMs says when the rates do not cover the work', () => {
    expect(speedPriorMs(WORK, facts())).toBe(RUN_MS)
    expect(speedPriorMs(WORK, facts({ generationTokensPerSecond: undefined }))).toBeUndefined()
  })

  test('a node without facts for the model, or a task without a model, predicts as before', () => {
    const s = createRunEstimates()
    const plain = node({ models: [MODEL] })
    expect(predictCompletion(generate(), plain, s)).toEqual({ waitMs: 0, loadMs: 0, runMs: 30_000, completionMs: 30_000, costMs: 30_000 })
    expect(predictCompletion(task({ work: WORK }), modelNode('n1', { loaded: false }), s)).toMatchObject({ loadMs: 0, runMs: 5_000 })
  })

  test.each([
    ['a model task counts the model against the VRAM', generate(), [12_000], 2 / 3],
    ['a model bigger than the VRAM takes all of it', generate(), [2_000], 0],
    ['a GPU requirement above the model size wins', task({ work: WORK }, { model: MODEL, gpu: { count: 1, minVramMb: 12_000 } }), [24_000], 0.5],
  ])('spare VRAM: %s', (_name, t, vram, share) => {
    expect(spareVramShare(t, modelNode('n1', {}, { gpuVramMb: vram }))).toBeCloseTo(share)
  })

  const odd = fc.constantFrom(0, -1, Number.MIN_VALUE, Number.NaN, Number.POSITIVE_INFINITY)
  const rateArb = fc.option(fc.oneof(fc.double(), odd), { nil: undefined })
  // The advert schema caps sizes at 2^30 MB; within that any value, or one that is not a size.
  const sizeArb = fc.option(fc.oneof(fc.double({ min: 0, max: 2 ** 30 }), odd), { nil: undefined })
  const factsArb = fc.record({ loaded: fc.boolean(), sizeMb: sizeArb, promptTokensPerSecond: rateArb, generationTokensPerSecond: rateArb })
  const workArb = fc.option(fc.record({ promptTokens: fc.double(), outputTokens: fc.double() }), { nil: null })

  test('property: predictions are finite and non-negative for any facts and work', () => {
    fc.assert(fc.property(factsArb, workArb, fc.boolean(), fc.integer({ min: 0, max: 100_000 }), (f, work, learned, waitMs) => {
      const s = createRunEstimates()
      if (learned) observeRun(s, { kind: 'generate', model: MODEL, node: 'n1', speed: 1, durationMs: 1_234 })
      const n = node({ id: 'n1', models: [MODEL], modelInfo: { [MODEL]: f }, load: busy(waitMs) })
      const p = predictCompletion(generate(work), n, s)
      for (const v of Object.values(p)) {
        expect(Number.isFinite(v)).toBe(true)
        expect(v).toBeGreaterThanOrEqual(0)
      }
    }))
  })

  test('property: loading the model never makes a node look better', () => {
    fc.assert(fc.property(factsArb, workArb, (f, work) => {
      const s = createRunEstimates()
      const t = generate(work)
      const loaded = predictCompletion(t, node({ models: [MODEL], modelInfo: { [MODEL]: { ...f, loaded: true } } }), s)
      const cold = predictCompletion(t, node({ models: [MODEL], modelInfo: { [MODEL]: { ...f, loaded: false } } }), s)
      expect(cold.costMs).toBeGreaterThanOrEqual(loaded.costMs + SELF_BENCH_MS)
    }))
  })
})

describe('model tasks: the node view', () => {
  const advertised = [
    { name: 'qwen', digest: 'a'.repeat(64), sizeMb: 4_000, quantization: 'Q4_K_M', contextLength: 32_768, loaded: true, promptTokensPerSecond: 400, generationTokensPerSecond: 25 },
    { name: 'nomic-embed', sizeMb: 260, loaded: false },
  ]

  test('nodeView maps advertised models to facts by name, and keeps the names', () => {
    const v = nodeView('n1', { ...caps, models: advertised })
    expect(v.models).toEqual(['qwen', 'nomic-embed'])
    expect({ ...v.modelInfo }).toEqual({
      qwen: { loaded: true, sizeMb: 4_000, promptTokensPerSecond: 400, generationTokensPerSecond: 25 },
      'nomic-embed': { loaded: false, sizeMb: 260 },
    })
    expect(nodeView('n1', caps).modelInfo).toEqual({})
  })

  test.each([
    ['the first of two unloaded copies', [{ name: 'm', sizeMb: 1, loaded: false }, { name: 'm', sizeMb: 2, loaded: false }], 1],
    ['a loaded copy over an unloaded one', [{ name: 'm', sizeMb: 1, loaded: false }, { name: 'm', sizeMb: 2, loaded: true }], 2],
    ['the loaded copy stays', [{ name: 'm', sizeMb: 1, loaded: true }, { name: 'm', sizeMb: 2, loaded: true }], 1],
  ])('a name advertised twice keeps %s', (_name, models, sizeMb) => {
    expect(modelFacts(nodeView('n1', { ...caps, models }), 'm')?.sizeMb).toBe(sizeMb)
  })

  test('model names are data, never object keys of the prototype', () => {
    const v = nodeView('n1', { ...caps, models: [{ name: '__proto__', loaded: true }] })
    expect(modelFacts(v, '__proto__')).toEqual({ loaded: true })
    expect(modelFacts(v, 'constructor')).toBeUndefined()
    expect(modelFacts(node(), 'toString')).toBeUndefined()
    expect(modelFacts(v, undefined)).toBeUndefined()
  })
})

describe('model tasks: validation', () => {
  test.each([
    [{ promptTokens: 10, outputTokens: 0 }, 0],
    [{ promptTokens: -1, outputTokens: 0 }, 1],
    [{ promptTokens: Number.NaN, outputTokens: Number.POSITIVE_INFINITY }, 2],
  ])('work %o has %i problem(s)', (work, problems) => {
    const t = generate(work)
    if (problems === 0) { expect(() => validateTask(t)).not.toThrow(); return }
    expect(() => validateTask(t)).toThrow(expect.objectContaining({ name: 'InvalidRequirementsError', problems: expect.any(Array) }))
    try { validateTask(t) } catch (err) { expect((err as { problems: string[] }).problems).toHaveLength(problems) }
  })
})
