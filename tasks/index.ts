/**
 * Tasks: submission, the auction protocol (auctioneer and runner sides), leases, takeover and
 * task events. The pure decisions are in scheduler/; this folder is their I/O. Task kinds are
 * plug-ins (`TaskKind`): this part defines the contract and runs them, and never imports one
 * beyond its own basic kinds; the node registers the others (node/kinds/).
 */
export { TaskService, type TaskServiceComponents } from './service.js'
export type { AuctionConfig } from './config.js'
export type { TasksMesh, TasksPubsub, LivePeers } from './mesh.js'
export {
  BASIC_KINDS, parseSubmission, admitModel,
  type TaskKind, type KindRegistry, type TaskSpec, type Submission, type ModelAccess,
  type KindContext, type KindOutcome, type CorpusRef, type TaskRecord, type AdmissionContext,
} from './kinds.js'
export { runToEnd, type Running, type TaskOps } from './to-end.js'
export { toTaskView, blockedReport } from './view.js'
export { InvalidTaskError, TaskConflictError, ReplicationError, TasksStoppedError } from './errors.js'
export { INLINE_BYTES, inlineText, type BlobSink, type BlobRef } from './outputs.js'
export type { TaskEventListener } from './events.js'
