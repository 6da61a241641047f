/**
 * The resource-prioritizing auction's pure core: feasibility (why a node is unfit, and
 * whether it ever could be), completion-time prediction learned from finished tasks, queue
 * order with aging, ranking and bid selection, rendezvous hashing for auction takeover.
 * No I/O: the bid/award protocol, the ledger and the API wire these in.
 */
export { MIN_PRIORITY, MAX_PRIORITY, REFERENCE_GHZ, emptyLoad, nodeView, modelFacts, modelInfoOf, type PlacementTask, type TaskWork, type ModelFacts, type TaskRequirements, type GpuRequirement, type NodeView, type NodeLoad } from './types.js'
export { CHECKS, checkNode, meshVerdict, impossibleTaskError, validateTask, type Fit, type CheckName, type Unfit, type NodeReasons, type Feasibility, type MeshVerdict } from './feasibility.js'
export { DEFAULT_PRIORS, createRunEstimates, observeRun, estimateRunMs, nodeRunCount, type RunEstimates, type RunObservation, type Mean } from './estimate.js'
export { RESERVE_WEIGHT, LOAD_MB_PER_S, SELF_BENCH_MS, MODEL_REQUEST_OVERHEAD_MS, modelLoadMs, fetchTransferMs, speedPriorMs, estimateTaskRunMs, queueWaitMs, spareVramShare, predictCompletion, type Prediction } from './predict.js'
export { DEFAULT_AGING_MS, effectivePriority, queueKey, compareQueued, type Queued } from './queue.js'
export { rankCandidates, softExclusion, pickBidders, rankBids, selectWinningBid, shouldDefer, type Ranked, type Bid } from './rank.js'
export { hash53, rendezvousWeight, rendezvousOwner } from './rendezvous.js'
export { RecentAwards, AWARD_MEMORY_MS, type AwardMark } from './awards.js'
export { ImpossibleTaskError, InvalidRequirementsError, NoBidError } from './errors.js'
export { fetchThenRun, type FetchCase, type FetchCaseOutcome } from './fetch-case.js'
