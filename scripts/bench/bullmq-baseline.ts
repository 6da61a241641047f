/**
 * The BullMQ + Redis baseline for the task-throughput benchmark: `noop` jobs submitted and
 * awaited request/reply style (`queue.add`, then `job.waitUntilFinished(queueEvents)`), by
 * `concurrency` clients that each keep exactly one job in flight.
 *
 * Setup: its own redis-server (./redis-server.ts: loopback, AOF with `appendfsync always`, so
 * each submission is on disk before Redis answers, as gryphgen's ledger is; BullMQ's later
 * writes, taking and completing the job, are fsynced too), one `Queue`, one `QueueEvents` and
 * one `Worker` with a processor that returns at once, all in this process, as one node. Worker
 * concurrency equals client concurrency: with at most `concurrency` jobs in existence, the
 * worker always has a free slot, so its slots never limit the figure; Redis round trips do.
 * Completed jobs beyond the last 1000 are removed, so Redis memory stays bounded.
 *
 * Measured: jobs whose reply arrived inside the window [warm-up end, + durationMs], and their
 * latency from `add` called to completion seen. Every wait is bounded: each job by
 * JOB_TIMEOUT_MS, start-up and each close by time, the sample count by MAX_SAMPLES.
 * Connections and redis are closed and stopped in a finally block, whatever happened.
 */
import { setMaxListeners } from 'node:events'
import { Queue, QueueEvents, Worker } from 'bullmq'
import { processCpuMs, ownCpuMs } from './proc-cpu.js'
import { startRedisServer } from './redis-server.js'

export interface BullmqBaselineInit {
  durationMs: number
  /** Clients, each with one job in flight; also the worker's concurrency. */
  concurrency: number
  /** Runs before the measured window and is not counted. Default 2000 ms. */
  warmupMs?: number
  signal: AbortSignal
  /** Where redis keeps its AOF (see ./redis-server.ts). Default `os.tmpdir()`. */
  parentDir?: string
}

export interface BullmqBaselineResult {
  /** Jobs whose reply arrived inside the measured window. */
  completed: number
  perSecond: number
  /** CPU (user + system) in the window per job completed in it: redis-server's, and this process's (clients and worker). */
  cpu: { redisUsPerJob: number, clientUsPerJob: number }
  p50Ms: number
  p99Ms: number
  redisVersion: string
}

export class BullmqBaselineError extends Error {
  override readonly name = 'BullmqBaselineError'
}

const QUEUE = 'gryphgen-bench-noop'
const JOB_TIMEOUT_MS = 30_000
const READY_TIMEOUT_MS = 10_000
const CLOSE_TIMEOUT_MS = 5_000
const MAX_SAMPLES = 10_000_000

/** Settles with `work`, or rejects when `signal` aborts or `ms` pass, whichever is first. */
async function bounded<T> (work: Promise<T>, ms: number, what: string, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  try {
    return await Promise.race([work, new Promise<never>((resolve, reject) => {
      timer = setTimeout(() => reject(new BullmqBaselineError(`${what} took over ${ms} ms`)), ms)
      onAbort = () => reject(signal?.reason)
      if (signal?.aborted === true) onAbort(); else signal?.addEventListener('abort', onAbort, { once: true })
    })])
  } finally {
    clearTimeout(timer)
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
  }
}

function percentile (sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]
}

export async function runBullmqBaseline (init: BullmqBaselineInit): Promise<BullmqBaselineResult> {
  const { durationMs, concurrency, warmupMs = 2000, signal } = init
  if (!(durationMs > 0) || !Number.isInteger(concurrency) || concurrency < 1 || !(warmupMs >= 0)) {
    throw new BullmqBaselineError(`bad options: durationMs ${durationMs}, concurrency ${concurrency}, warmupMs ${warmupMs}`)
  }
  const redis = await startRedisServer({ signal, parentDir: init.parentDir })
  // Fail instead of reconnecting for ever if redis goes away; the worker needs null retries.
  const connection = { host: redis.host, port: redis.port, maxRetriesPerRequest: null, retryStrategy: (times: number) => times > 3 ? null : 100 }
  const closers: Array<{ what: string, close: () => Promise<void> }> = []
  let failure: unknown
  // The first failure (or the caller's abort) also cuts short every client's wait.
  const failed = new AbortController()
  const halted = AbortSignal.any([signal, failed.signal])
  setMaxListeners(concurrency + 10, halted) // one listener per client's wait
  const fail = (err: unknown): void => { failure ??= err; failed.abort(err) }
  // BullMQ's waitUntilFinished awaits a Redis call inside a Promise executor, so when Redis
  // goes away that call's "Connection is closed." rejection is unhandled and would end the
  // process before the finally below stops redis. While this run lasts, such a rejection
  // fails the run instead.
  process.on('unhandledRejection', fail)
  try {
    const queue = new Queue(QUEUE, { connection, defaultJobOptions: { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } } })
    closers.push({ what: 'queue', close: async () => await queue.close() })
    const events = new QueueEvents(QUEUE, { connection })
    closers.push({ what: 'queue events', close: async () => await events.close() })
    const worker = new Worker(QUEUE, async () => undefined, { connection, concurrency })
    closers.push({ what: 'worker', close: async () => await worker.close() })
    // Each waitUntilFinished listens for the queue's 'closing' while its job is in flight.
    queue.setMaxListeners(concurrency + 10)
    queue.on('error', fail)
    events.on('error', fail)
    worker.on('error', fail)
    await bounded(Promise.all([queue.waitUntilReady(), events.waitUntilReady(), worker.waitUntilReady()]), READY_TIMEOUT_MS, 'BullMQ start-up', halted)

    const windowStart = performance.now() + warmupMs
    const windowEnd = windowStart + durationMs
    const cpuAt: Array<{ redis: number, own: number }> = []
    const sample = (): void => { cpuAt.push({ redis: processCpuMs(redis.pid), own: ownCpuMs() }) }
    const timers = [setTimeout(sample, warmupMs), setTimeout(sample, warmupMs + durationMs)]
    const latencies: number[] = []
    let submitted = 0
    const client = async (): Promise<void> => {
      while (performance.now() < windowEnd && !halted.aborted) {
        const start = performance.now()
        const job = await bounded(queue.add('noop', { kind: 'noop', i: submitted++ }), JOB_TIMEOUT_MS, 'adding a job', halted)
        await bounded(job.waitUntilFinished(events, JOB_TIMEOUT_MS), JOB_TIMEOUT_MS, 'a job', halted)
        const end = performance.now()
        if (end < windowStart || end > windowEnd) continue
        if (latencies.length >= MAX_SAMPLES) throw new BullmqBaselineError(`over ${MAX_SAMPLES} jobs in the window: measure a shorter one`)
        latencies.push(end - start)
      }
    }
    await Promise.all(Array.from({ length: concurrency }, async () => await client().catch(fail)))
    timers.forEach(clearTimeout)
    while (cpuAt.length < 2) sample()
    signal.throwIfAborted()
    if (failure !== undefined) throw failure
    const completed = latencies.length
    if (completed === 0) throw new BullmqBaselineError(`no job completed inside the ${durationMs} ms window`)
    const sorted = Float64Array.from(latencies).sort()
    const perJob = (ms: number): number => 1000 * ms / completed
    const cpu = { redisUsPerJob: perJob(cpuAt[1].redis - cpuAt[0].redis), clientUsPerJob: perJob(cpuAt[1].own - cpuAt[0].own) }
    return { completed, perSecond: completed / (durationMs / 1000), cpu, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), redisVersion: redis.version }
  } finally {
    // Worker first (it waits for its active jobs), then the rest; each close bounded.
    for (const { what, close } of closers.reverse()) await bounded(close(), CLOSE_TIMEOUT_MS, `closing the ${what}`).catch(() => {})
    try {
      await redis.stop()
    } finally {
      process.removeListener('unhandledRejection', fail)
    }
  }
}
