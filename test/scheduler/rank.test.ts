import { describe, expect, test } from 'vitest'
import { createRunEstimates, emptyLoad, pickBidders, rankBids, rankCandidates, selectWinningBid, shouldDefer, softExclusion, type Bid } from '../../scheduler/index.js'
import { node, task } from './helpers.js'

const busy = (ms: number) => ({ ...emptyLoad(1), running: 1, runningRemainingMs: ms })

describe('ranking', () => {
  const nodes = [
    node({ id: 'slow', speed: 0.5 }),
    node({ id: 'busy', load: busy(20_000) }),
    node({ id: 'fast', speed: 2 }),
    node({ id: 'nosandbox', speed: 4, sandboxAvailable: false }),
    node({ id: 'ref' }),
  ]

  test('feasible candidates only, by predicted completion, normalized scores', () => {
    const ranked = rankCandidates(task(), nodes, createRunEstimates())
    expect(ranked.map(r => r.node.id)).toEqual(['fast', 'ref', 'slow', 'busy'])
    expect(ranked[0].score).toBe(1)
    expect(ranked[1].score).toBeCloseTo(0.5)
    for (const r of ranked) expect(r.score).toBeGreaterThan(0)
  })

  test('a CPU task leaves a GPU node alone unless it finishes there 1.5x sooner', () => {
    const gpu = (speed: number) => node({ id: 'gpu', speed, gpuVramMb: [24_000] })
    expect(rankCandidates(task(), [gpu(1.4), node({ id: 'cpu' })], createRunEstimates())[0].node.id).toBe('cpu')
    expect(rankCandidates(task(), [gpu(1.6), node({ id: 'cpu' })], createRunEstimates())[0].node.id).toBe('gpu')
    expect(rankCandidates(task({}, { gpu: { count: 1, minVramMb: 24_000 } }), [gpu(1), node({ id: 'cpu' })], createRunEstimates()).map(r => r.node.id)).toEqual(['gpu'])
  })

  test('excluded nodes (a lost lease) are left out', () => {
    expect(rankCandidates(task(), nodes, createRunEstimates(), { exclude: new Set(['fast']) })[0].node.id).toBe('ref')
  })

  test('ties are deterministic, independent of input order, and spread over nodes', () => {
    const same = Array.from({ length: 8 }, (_, i) => node({ id: `n${i}` }))
    const winners = new Set<string>()
    for (let t = 0; t < 50; t++) {
      const a = rankCandidates(task({ id: `t${t}` }), same, createRunEstimates()).map(r => r.node.id)
      const b = rankCandidates(task({ id: `t${t}` }), [...same].reverse(), createRunEstimates()).map(r => r.node.id)
      expect(a).toEqual(b)
      winners.add(a[0])
    }
    expect(winners.size).toBeGreaterThan(4)
  })

  test.each([[2, 2], [10, 4], [0, 0]])('best k = %i asks %i', (k, n) => {
    expect(pickBidders(rankCandidates(task(), nodes, createRunEstimates()), k)).toHaveLength(n)
  })
})

describe('soft exclusion', () => {
  const fit = [{ id: 'a' }, { id: 'b' }, { id: 'c' }]
  test('takes each set while a candidate is left, strongest first', () => {
    expect([...softExclusion(fit, [new Set(['a']), new Set(['b'])])].sort()).toEqual(['a', 'b'])
    // Avoiding every candidate would leave none: that set is not applied (the run goes anywhere but where it was lost).
    expect([...softExclusion(fit, [new Set(['a']), new Set(['b', 'c'])])]).toEqual(['a'])
    expect([...softExclusion(fit, [new Set(['a', 'b', 'c']), new Set(['a'])])]).toEqual([])
    expect([...softExclusion([], [new Set(['a'])])]).toEqual([])
    expect([...softExclusion(fit, [])]).toEqual([])
  })
})

describe('bid selection', () => {
  const bid = (nodeId: string, costMs: number, taskId = 't1'): Bid => ({ taskId, nodeId, completionMs: costMs, costMs })
  const asked = new Set(['a', 'b', 'c'])

  test.each([
    ['lowest completion wins', [bid('a', 300), bid('b', 100), bid('c', 200)], ['b', 'c', 'a']],
    ['bids from nodes not asked are ignored', [bid('x', 1), bid('a', 300)], ['a']],
    ['bids for another task are ignored', [bid('b', 1, 't2'), bid('a', 300)], ['a']],
    ['invalid completion is ignored', [bid('b', Number.NaN), bid('c', -1), bid('a', 300)], ['a']],
    ['a node\'s first bid counts', [bid('a', 300), bid('a', 1), bid('b', 200)], ['b', 'a']],
  ])('%s', (_name, bids, order) => {
    expect(rankBids('t1', bids, asked).map(b => b.nodeId)).toEqual(order)
  })

  test('equal bids: same winner whatever the arrival order', () => {
    const bids = [bid('a', 100), bid('b', 100), bid('c', 100)]
    expect(selectWinningBid('t1', bids, asked)).toEqual(selectWinningBid('t1', [...bids].reverse(), asked))
  })

  test('no valid bid is a NoBidError', () => {
    expect(() => selectWinningBid('t1', [bid('x', 1)], asked)).toThrow(expect.objectContaining({ name: 'NoBidError' }))
  })
})

describe('end game: a freed slot defers to clearly better nodes', () => {
  // slow (speed 0.5) is free; fast1 and fast2 (speed 2) are busy for 1 s; run prior is 5 s.
  const ranked = rankCandidates(task(), [
    node({ id: 'slow', speed: 0.5 }), node({ id: 'fast1', speed: 2, load: busy(1_000) }), node({ id: 'fast2', speed: 2, load: busy(1_000) }),
  ], createRunEstimates())

  test.each([
    [1, true], [2, true], [3, false], [100, false],
  ])('%i pending: defer %s', (pending, defer) => {
    expect(shouldDefer(ranked, 'slow', pending)).toBe(defer)
  })

  test('the best node never defers, nor a node not ranked', () => {
    expect(shouldDefer(ranked, 'fast1', 1)).toBe(false)
    expect(shouldDefer(ranked, 'elsewhere', 1)).toBe(false)
  })
})
