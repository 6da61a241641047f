import { describe, expect, test } from 'vitest'
import { fetchThenRun, LOAD_MB_PER_S, SELF_BENCH_MS, createRunEstimates, emptyLoad, fetchTransferMs, modelLoadMs, predictCompletion, rankBids, type Bid, type ModelFacts, type NodeView } from '../../scheduler/index.js'
import { node, task } from './helpers.js'

const MODEL = 'm'
const SIZE_MB = 1_000
const speeds = { promptTokensPerSecond: 500, generationTokensPerSecond: 20 }
const generate = task({ kind: 'generate', work: { promptTokens: 500, outputTokens: 200 } }, { model: MODEL })
/** The holder: model loaded, busy for `busyMs`. */
const holder = (busyMs: number): NodeView => node({ id: 'holder', models: [MODEL], modelInfo: { [MODEL]: { loaded: true, sizeMb: SIZE_MB, ...speeds } }, load: { ...emptyLoad(1), running: 1, runningRemainingMs: busyMs } })
/** An idle node that would fetch the model first (autoFetch), at `mbPerS`; speeds as the holder's (its bid assumes the same hardware). */
const fetcher = (mbPerS: number): NodeView => node({ id: 'fetcher', models: [MODEL], modelInfo: { [MODEL]: { loaded: false, sizeMb: SIZE_MB, fetchMs: fetchTransferMs(SIZE_MB, mbPerS), ...speeds } } })

/** The auction as it runs: each bidder's own prediction, the lowest cost wins. */
function winner (nodes: NodeView[]): string {
  const estimates = createRunEstimates()
  const bids: Bid[] = nodes.map(n => ({ taskId: generate.id, nodeId: n.id, ...predictCompletion(generate, n, estimates) }))
  return rankBids(generate.id, bids, new Set(nodes.map(n => n.id)))[0].nodeId
}

describe('fetch then run in the auction', () => {
  test('the transfer time is part of the load time of a model the node would fetch', () => {
    const facts: ModelFacts = { loaded: false, sizeMb: SIZE_MB, fetchMs: fetchTransferMs(SIZE_MB, 100) }
    expect(facts.fetchMs).toBe(10_000)
    expect(modelLoadMs(facts)).toBe(10_000 + SIZE_MB / LOAD_MB_PER_S * 1000 + SELF_BENCH_MS)
    expect(fetchTransferMs(SIZE_MB, 0)).toBe(Number.POSITIVE_INFINITY)
  })

  test.each([
    // holder busy for, fetch rate MB/s, expected winner
    [0, 100, 'holder'], // an idle holder always wins: the fetcher has the transfer and the load on top
    [5_000, 100, 'holder'], // fetching 10 s + loading takes longer than the holder's 5 s queue
    [60_000, 100, 'fetcher'], // a holder busy for a minute: fetching (10 s) and loading finish sooner
    [60_000, 10, 'holder'], // ...but not over a slow link (100 s)
  ] as const)('holder busy %i ms, fetch at %i MB/s: %s wins', (busyMs, mbPerS, expected) => {
    const nodes = [holder(busyMs), fetcher(mbPerS)]
    expect(winner(nodes)).toBe(expected)
    const estimates = createRunEstimates()
    const [h, f] = nodes.map(n => predictCompletion(generate, n, estimates).completionMs)
    expect(expected === 'fetcher').toBe(f < h)
  })

  test.each([[0, 100], [5_000, 100], [60_000, 100], [60_000, 10], [20_000, 1000], [1_000, 1000]] as const)('the simulator case (holder busy %i ms, %i MB/s): the winner is the one that finishes sooner', (holderBusyMs, fetchMbPerS) => {
    const outcome = fetchThenRun({ holderBusyMs, fetchMbPerS, sizeMb: SIZE_MB })
    if (outcome.winner === 'fetcher') expect(outcome.fetcherMs).toBeLessThanOrEqual(outcome.holderMs)
    else expect(outcome.holderMs).toBeLessThanOrEqual(outcome.fetcherMs)
  })
  test('the simulator case: an idle holder always wins, a long-busy one loses to a fast fetch', () => {
    expect(fetchThenRun({ holderBusyMs: 0, fetchMbPerS: 10_000, sizeMb: SIZE_MB }).winner).toBe('holder')
    expect(fetchThenRun({ holderBusyMs: 120_000, fetchMbPerS: 100, sizeMb: SIZE_MB }).winner).toBe('fetcher')
  })
})
