/**
 * The resource-prioritizing auction's pure core: feasibility (why a node is unfit, and
 * whether it ever could be), completion-time prediction learned from finished tasks, queue
 * order with aging, ranking and bid selection, rendezvous hashing for auction takeover.
 * No I/O: the bid/award protocol, the ledger and the API wire these in.
 */
export { MIN_PRIORITY, MAX_PRIORITY, REFERENCE_GHZ, emptyLoad, nodeView, type TaskView, type TaskRequirements, type GpuRequirement, type NodeView, type NodeLoad } from './types.js'
export { CHECKS, checkNode, meshVerdict, impossibleTaskError, validateTask, type Fit, type CheckName, type Unfit, type NodeReasons, type Feasibility, type MeshVerdict } from './feasibility.js'
export { DEFAULT_PRIORS, createRunEstimates, observeRun, estimateRunMs, type RunEstimates, type RunObservation, type Mean } from './estimate.js'
export { RESERVE_WEIGHT, queueWaitMs, spareVramShare, predictCompletion, type Prediction } from './predict.js'
export { DEFAULT_AGING_MS, effectivePriority, queueKey, compareQueued, type Queued } from './queue.js'
export { rankCandidates, pickBidders, rankBids, selectWinningBid, shouldDefer, type Ranked, type Bid } from './rank.js'
export { hash53, rendezvousWeight, rendezvousOwner } from './rendezvous.js'
export { ImpossibleTaskError, InvalidRequirementsError, NoBidError } from './errors.js'
