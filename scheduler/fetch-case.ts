/**
 * Fetch then run, as the auction prices it (pure): a holder of the model, loaded, busy for
 * `holderBusyMs`, against an idle node of the same speed that would fetch the model first at
 * `fetchMbPerS` (models.autoFetch). Each bids its own `predictCompletion`; the lowest cost
 * wins. What the scheduler simulator's fetch case prints, and what its unit test pins down:
 * fetch-then-run wins only when it finishes sooner.
 */
import { fetchTransferMs, predictCompletion } from './predict.js'
import { rankBids, type Bid } from './rank.js'
import { createRunEstimates } from './estimate.js'
import { emptyLoad, type NodeView, type PlacementTask } from './types.js'

export interface FetchCase { holderBusyMs: number, fetchMbPerS: number, sizeMb: number }
export interface FetchCaseOutcome { winner: 'holder' | 'fetcher', holderMs: number, fetcherMs: number }

const MODEL = 'model'
const SPEEDS = { promptTokensPerSecond: 500, generationTokensPerSecond: 20 }

function view (id: string, over: Partial<NodeView>): NodeView {
  return { id, arch: 'x64', cpus: 4, memoryTotalMb: 16_384, memoryAvailableMb: 16_384, gpuVramMb: [], models: [MODEL], modelInfo: {}, labels: [], sandboxAvailable: true, runtimes: [], speed: 1, load: emptyLoad(1), ...over }
}

export function fetchThenRun (c: FetchCase): FetchCaseOutcome {
  const task: PlacementTask = { id: 'fetch-case', kind: 'generate', priority: 5, submittedAt: 0, requirements: { cpus: 1, memoryMb: 0, gpu: null, model: MODEL }, work: { promptTokens: 500, outputTokens: 200 } }
  const holder = view('holder', { modelInfo: { [MODEL]: { loaded: true, sizeMb: c.sizeMb, ...SPEEDS } }, load: { ...emptyLoad(1), running: 1, runningRemainingMs: c.holderBusyMs } })
  const fetcher = view('fetcher', { modelInfo: { [MODEL]: { loaded: false, sizeMb: c.sizeMb, fetchMs: fetchTransferMs(c.sizeMb, c.fetchMbPerS), ...SPEEDS } } })
  const estimates = createRunEstimates()
  const [h, f] = [holder, fetcher].map(n => predictCompletion(task, n, estimates))
  const bids: Bid[] = [{ taskId: task.id, nodeId: 'holder', ...h }, { taskId: task.id, nodeId: 'fetcher', ...f }]
  const winner = rankBids(task.id, bids, new Set(['holder', 'fetcher']))[0].nodeId as 'holder' | 'fetcher'
  return { winner, holderMs: h.completionMs, fetcherMs: f.completionMs }
}
