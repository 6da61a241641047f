/**
 * Tasks: submission, the auction protocol (auctioneer and runner sides), leases, takeover and
 * task events. The pure decisions are in scheduler/; this folder is their I/O.
 */
export { TaskService, type TaskServiceComponents, type AuctionConfig } from './service.js'
export { parseSubmission, type TaskKind, type KindRegistry, type TaskSpec, type Submission, type ModelAccess } from './kinds.js'
export { kindRegistry } from './registry.js'
export { toTaskView, blockedReport } from './view.js'
export { InvalidTaskError, TaskConflictError, ReplicationError, TasksStoppedError } from './errors.js'
export { INLINE_BYTES, type BlobSink, type BlobRef } from './outputs.js'
export type { TaskEventListener } from './events.js'
