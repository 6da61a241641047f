/**
 * The worker pool: a broker (ROUTER) in the node's process, worker processes it spawns and
 * supervises, and any external workers that join with the token.
 *
 * Guarantees: a task is dispatched to at most one worker, once (no automatic retry), and its
 * promise settles exactly once. A worker that crashes, hangs (no heartbeat within
 * `heartbeatTimeoutMs`), or ignores a cancel for `cancelGraceMs` is killed and replaced; its
 * tasks end with WorkerLostError (`retryable: true`): they ran at most once, perhaps partly.
 * stop() drains: no new tasks, queued ones end with PoolStoppedError, running ones get until
 * the deadline, then are cancelled and their workers stopped (SIGKILL after `killGraceMs`).
 */
import os from 'node:os'
import { AbortedError, componentLogger, silentLogger, type Logger } from '../base/index.js'
import { validateSpec, type SandboxResult, type SandboxSpec } from '../sandbox/index.js'
import { checkSandboxResultValue, EXEC_TASK_TYPES, WORKER_KINDS, type WorkerKind } from '../protocols/index.js'
import { Broker, type LossReason, type WorkerSession } from './broker.js'
import { Dispatcher } from './dispatch.js'
import { NoWorkersError, PoolStoppedError, UnsupportedTaskError, WorkerLostError, WorkerStartError } from './errors.js'
import { resolvePoolOptions, type ResolvedPoolOptions, type WorkerPoolInit } from './options.js'
import { WorkerSupervisor } from './supervisor.js'
import { TaskTable, type SubmitOptions, type TaskRequest } from './tasks.js'
import { loadOrCreateWorkerToken } from './token.js'
import { describeWorkers, poolStats, type WorkerInfo, type WorkerPoolStats, type PoolState } from './stats.js'
import { fromWireError } from './wire-errors.js'

export interface WorkerPool {
  /** Binds the endpoint, spawns the workers and resolves once every one of them is ready. */
  start: (options?: { signal?: AbortSignal }) => Promise<void>
  /** Runs one task on a worker of `kind`; resolves with the handler's JSON result. */
  submit: (kind: WorkerKind, task: TaskRequest, options?: SubmitOptions) => Promise<unknown>
  /** `submit('exec', { type: 'sandbox', input: spec })` with the spec checked here first and the result checked on return. */
  runSandboxed: (spec: SandboxSpec, options?: SubmitOptions) => Promise<SandboxResult>
  stats: () => WorkerPoolStats
  workers: () => WorkerInfo[]
  /** Drains (see the module header); resolves when every worker process has exited. */
  stop: (options?: { deadlineMs?: number }) => Promise<void>
}

export function createWorkerPool (init: WorkerPoolInit): WorkerPool {
  return new Pool(init)
}

async function measurePhysicalCores (): Promise<number> {
  try {
    const si = (await import('systeminformation')).default
    const cpu = await si.cpu()
    return Math.max(1, cpu.physicalCores || os.availableParallelism())
  } catch {
    return os.availableParallelism()
  }
}

class Pool implements WorkerPool {
  readonly #init: WorkerPoolInit
  readonly #log: Logger
  readonly #tasks = new TaskTable()
  readonly #dispatcher = new Dispatcher()
  #options: ResolvedPoolOptions | undefined
  #broker: Broker | undefined
  #supervisor: WorkerSupervisor | undefined
  #state: PoolState = 'idle'
  #stopping: Promise<void> | undefined
  #unexpectedResults = 0
  #readyWaiters: Array<() => void> = []

  constructor (init: WorkerPoolInit) {
    this.#init = init
    this.#log = componentLogger(init.logger ?? silentLogger(), 'workers')
    // Fail on bad options at once, not at start (cores are measured at start when needed).
    resolvePoolOptions(init, init.physicalCores ?? 1)
  }

  async start (options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#state !== 'idle') throw new PoolStoppedError(`the worker pool is ${this.#state}; a pool starts once`)
    this.#state = 'starting'
    try {
      await this.#start(options.signal)
      if (this.#state !== 'starting') throw new PoolStoppedError('the worker pool was stopped while it started')
      this.#state = 'running'
    } catch (err) {
      await this.stop({ deadlineMs: 0 })
      throw err
    }
  }

  async #start (signal: AbortSignal | undefined): Promise<void> {
    const auto = this.#init.physicalCores === undefined && (this.#init.kinds?.exec?.size ?? 'auto') === 'auto'
    const options = resolvePoolOptions(this.#init, auto ? await measurePhysicalCores() : this.#init.physicalCores ?? 1)
    this.#options = options
    const token = options.token ?? await loadOrCreateWorkerToken(options.dataDir as string)
    signal?.throwIfAborted()
    if (!options.loopback) this.#log.warn({ endpoint: options.endpoint }, 'the worker endpoint is not on loopback: the worker token crosses that network in clear text')
    const broker = new Broker({
      endpoint: options.endpoint, token, logger: this.#log, heartbeatIntervalMs: options.heartbeatIntervalMs,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs, maxMessageBytes: options.maxMessageBytes,
      claimSpawned: (id, kind, pid) => this.#supervisor?.claim(id, kind, pid) ?? false,
      events: {
        ready: session => this.#ready(session),
        result: (session, message) => {
          const record = this.#tasks.get(message.task)
          if (record === undefined || record.workerId !== session.id || !this.#dispatcher.complete(session.id, message.task)) {
            this.#unexpectedResults++
            return
          }
          this.#tasks.settle(message.task, message.ok ? { ok: true, value: message.value } : { ok: false, error: fromWireError(message.error) })
          this.#pump(record.kind)
        },
        progress: (session, { t: _t, task, ...progress }) => this.#callback(session, task, record => record.options.onProgress?.(progress)),
        log: (session, { task, level, message, stream }) => this.#callback(session, task, record => record.options.onLog?.({ level, message, ...(stream === undefined ? {} : { stream }) })),
        lost: (session, reason) => this.#lost(session, reason),
      },
    })
    this.#broker = broker
    const endpoint = await broker.start()
    this.#supervisor = new WorkerSupervisor({
      endpoint, token, logger: this.#log, plans: options.plans, startTimeoutMs: options.startTimeoutMs,
      logLevel: this.#log.level,
      onExit: (workerId, _kind, joined) => { if (joined) broker.evict(workerId, 'exited') },
    })
    this.#supervisor.start()
    await this.#allReady(signal, options)
    this.#log.info({ endpoint, sizes: Object.fromEntries(WORKER_KINDS.map(k => [k, options.plans[k].size])) }, 'worker pool started')
  }

  async #allReady (signal: AbortSignal | undefined, options: ResolvedPoolOptions): Promise<void> {
    const deadline = Date.now() + options.startTimeoutMs
    const supervisor = this.#supervisor as WorkerSupervisor
    for (;;) {
      const ready = (kind: WorkerKind): number => (this.#broker?.sessions() ?? []).filter(s => s.kind === kind && s.spawned && s.ready).length
      if (WORKER_KINDS.every(kind => ready(kind) >= options.plans[kind].size)) return
      if (this.#state !== 'starting') throw new PoolStoppedError('the worker pool was stopped while it started')
      if (supervisor.lastFailure !== undefined) throw new WorkerStartError(supervisor.lastFailure)
      if (signal?.aborted === true) throw new AbortedError('worker pool start aborted')
      if (Date.now() > deadline) throw new WorkerStartError(`workers did not become ready within ${options.startTimeoutMs} ms`)
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, 50)
        this.#readyWaiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  async submit (kind: WorkerKind, task: TaskRequest, options: SubmitOptions = {}): Promise<unknown> {
    if (this.#state !== 'running') throw new PoolStoppedError(`the worker pool is ${this.#state}`)
    if (!(WORKER_KINDS as readonly string[]).includes(kind)) throw new UnsupportedTaskError(`unknown worker kind '${String(kind)}'`)
    if (options.signal?.aborted === true) throw new AbortedError('task aborted before it was submitted')
    const plan = (this.#options as ResolvedPoolOptions).plans[kind]
    if (plan.size === 0 && this.#dispatcher.load(kind).workers === 0) {
      throw new NoWorkersError(`no ${kind} worker is connected and the pool starts none`)
    }
    const { record, promise } = this.#tasks.create(kind, task, options, (this.#options as ResolvedPoolOptions).maxMessageBytes, id => this.#abort(id))
    this.#dispatcher.enqueue(kind, record.id)
    this.#pump(kind)
    return await promise
  }

  async runSandboxed (spec: SandboxSpec, options: SubmitOptions = {}): Promise<SandboxResult> {
    validateSpec(spec)
    return checkSandboxResultValue(await this.submit('exec', { type: EXEC_TASK_TYPES.sandbox, input: spec }, options))
  }

  stats (): WorkerPoolStats {
    return poolStats({
      state: this.#state,
      endpoint: this.#broker?.endpoint ?? this.#options?.endpoint ?? '',
      load: kind => this.#dispatcher.load(kind),
      tasks: kind => this.#tasks.counters(kind),
      sizes: kind => this.#options?.plans[kind].size ?? 0,
      restarts: kind => this.#supervisor?.restarts[kind] ?? 0,
      sessions: this.#broker?.sessions() ?? [],
      children: this.#supervisor?.children() ?? [],
      frames: { ...this.#broker?.counters ?? { malformedFrames: 0, unauthorized: 0, unknownPeerMessages: 0 }, unexpectedResults: this.#unexpectedResults },
    })
  }

  workers (): WorkerInfo[] {
    return describeWorkers(this.#broker?.sessions() ?? [], this.#supervisor?.children() ?? [], id => this.#dispatcher.running(id))
  }

  /** Hands queued tasks of `kind` to free slots. */
  #pump (kind: WorkerKind): void {
    const broker = this.#broker as Broker
    for (const { workerId, taskId } of this.#dispatcher.assign(kind)) {
      const record = this.#tasks.get(taskId)
      if (record === undefined) continue
      record.workerId = workerId
      broker.sendFrame(workerId, record.frame)
    }
  }

  #ready (session: WorkerSession): void {
    this.#dispatcher.addWorker(session.id, session.kind, session.slots)
    for (const wake of this.#readyWaiters.splice(0)) wake()
    if (this.#state === 'running' || this.#state === 'starting') this.#pump(session.kind)
  }

  #callback (session: WorkerSession, taskId: number, call: (record: NonNullable<ReturnType<TaskTable['get']>>) => void): void {
    const record = this.#tasks.get(taskId)
    if (record === undefined || record.workerId !== session.id) return
    try {
      call(record)
    } catch (err) {
      this.#log.warn({ err, task: taskId }, 'a task progress or log callback threw')
    }
  }

  #abort (id: number): void {
    const record = this.#tasks.get(id)
    if (record === undefined) return
    if (record.workerId === null) {
      if (this.#dispatcher.dequeue(record.kind, id)) this.#tasks.settle(id, { ok: false, error: new AbortedError('task cancelled before it started') })
      return
    }
    if (record.cancelling) return
    record.cancelling = true
    const workerId = record.workerId
    this.#broker?.send(workerId, { t: 'cancel', task: id })
    record.cancelTimer = setTimeout(() => {
      this.#log.warn({ worker: workerId, task: id }, 'worker did not end a cancelled task in time')
      this.#broker?.evict(workerId, 'cancel-ignored', 'evicted')
    }, (this.#options as ResolvedPoolOptions).cancelGraceMs)
  }

  #lost (session: WorkerSession, reason: LossReason): void {
    const serving = this.#state === 'running' || this.#state === 'draining'
    this.#log[serving ? 'warn' : 'debug']({ worker: session.id, kind: session.kind, reason }, 'worker lost')
    for (const id of this.#dispatcher.removeWorker(session.id)) {
      const error = serving
        ? new WorkerLostError(`worker ${session.id} was lost (${reason}) while running the task`)
        : new PoolStoppedError('the worker pool stopped before the task ended')
      this.#tasks.settle(id, { ok: false, error, lost: true })
    }
    if (session.spawned && reason !== 'exited') this.#supervisor?.kill(session.id)
    const plan = this.#options?.plans[session.kind]
    if (plan?.size === 0 && this.#dispatcher.load(session.kind).workers === 0) {
      for (const id of this.#dispatcher.drainQueue(session.kind)) {
        this.#tasks.settle(id, { ok: false, error: new NoWorkersError(`the last ${session.kind} worker left`) })
      }
    }
  }

  async stop (options: { deadlineMs?: number } = {}): Promise<void> {
    this.#stopping ??= this.#stop(options.deadlineMs ?? 10_000)
    await this.#stopping
  }

  async #stop (deadlineMs: number): Promise<void> {
    const wasRunning = this.#state === 'running'
    this.#state = 'draining'
    this.#supervisor?.stopRestarting()
    for (const kind of WORKER_KINDS) {
      for (const id of this.#dispatcher.drainQueue(kind)) {
        this.#tasks.settle(id, { ok: false, error: new PoolStoppedError('the worker pool is stopping; the task never started') })
      }
    }
    const drained = !wasRunning || await this.#tasks.whenEmpty(deadlineMs)
    this.#state = 'stopping'
    if (!drained) this.#log.warn({ tasks: this.#tasks.size, deadlineMs }, 'drain deadline passed; stopping workers with tasks running')
    for (const record of this.#tasks.values()) {
      if (record.workerId !== null) this.#broker?.send(record.workerId, { t: 'cancel', task: record.id })
      this.#tasks.settle(record.id, { ok: false, error: new PoolStoppedError('the worker pool stopped before the task ended'), lost: true })
    }
    for (const session of this.#broker?.sessions() ?? []) {
      if (!session.spawned) this.#broker?.evict(session.id, 'shutdown', 'shutdown')
    }
    await this.#supervisor?.stop(this.#options?.killGraceMs ?? 3000)
    await this.#broker?.stop()
    this.#state = 'stopped'
    if (wasRunning) this.#log.info('worker pool stopped')
  }
}
