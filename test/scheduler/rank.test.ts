import { describe, expect, test } from 'vitest'
import { createRunEstimates, emptyLoad, pickBidders, rankBids, rankCandidates, selectWinningBid, type Bid } from '../../scheduler/index.js'
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

describe('bid selection', () => {
  const bid = (nodeId: string, completionMs: number, taskId = 't1'): Bid => ({ taskId, nodeId, completionMs })
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
