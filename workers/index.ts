/**
 * Workers: a broker in the node's process (ZeroMQ ROUTER on `ipc://<data-dir>/workers.sock` or
 * a tcp endpoint) dispatching tasks, least recently used first with credit, to worker
 * processes (DEALER) that it spawns and supervises, and to external workers that join with
 * the data dir's worker token. See docs/WORKERS.md for the guarantees and the wire messages.
 */
export { createWorkerPool, type WorkerPool } from './pool.js'
export type { WorkerPoolInit, WorkerKindOptions } from './options.js'
export type { SubmitOptions, TaskRequest, TaskCounters } from './tasks.js'
export { WorkerPoolStatsSchema, KindStatsSchema, WorkerInfoSchema, type WorkerPoolStats, type KindStats, type WorkerInfo, type PoolState } from './stats.js'
export { runWorker, type RunWorkerOptions } from './worker.js'
export { runWorkerCommand, type WorkerCommandOptions } from './worker-command.js'
export { builtinHandlers, handlerRegistry, type TaskHandler, type TaskContext, type HandlerRegistry } from './handlers.js'
export { loadOrCreateWorkerToken, readWorkerToken, workerTokenPath, WORKER_TOKEN_FILE } from './token.js'
export { ipcEndpoint, WORKER_SOCKET_FILE } from './endpoint.js'
export {
  WorkerPoolError, WorkerLostError, PoolStoppedError, UnsupportedTaskError, TaskFailedError, WorkerPoolConfigError,
  WorkerStartError, WorkerRejectedError, InvalidTaskDataError, NoWorkersError,
} from './errors.js'
export { WORKER_KINDS, EXEC_TASK_TYPES, type WorkerKind, type TaskProgress, type TaskLogLine } from '../protocols/index.js'
