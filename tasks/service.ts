/**
 * TaskService: the node's tasks. Submissions are acknowledged once durable in the ledger
 * (and, with `durability: 'replicated'`, fsynced by one more node); this node is then their
 * auctioneer (auctioneer.ts). It bids on and runs awarded tasks (runner.ts), renews leases
 * by gossip (leases.ts), takes over the auctions of a dead auctioneer (takeover.ts; only once
 * synced with the mesh, as it resumes the tasks it found at start: sync-gate.ts), learns
 * run times from finished tasks (learning.ts), and feeds task events to subscribers (SSE).
 * This module wires those parts and answers submit, read, cancel and feedback; the mesh as
 * the auction sees it is candidates.ts's. Every state comes from the ledger fold.
 */
import type { Capabilities, Bodies, EntryType, TaskViewT, SubmitReplyT } from '../protocols/index.js'
import { isTerminal, taskPage, type TaskLedger, type TaskState } from '../ledger/index.js'
import { createRunEstimates } from '../scheduler/index.js'
import type { WorkerPool } from '../workers/index.js'
import { NotFoundError, type Logger } from '../base/index.js'
import type { AuctionConfig } from './config.js'
import type { LivePeers, TasksMesh } from './mesh.js'
import { Auctioneer } from './auctioneer.js'
import { TaskConflictError, TasksStoppedError } from './errors.js'
import { TaskEvents, type TaskEventListener } from './events.js'
import { parseSubmission, type AdmissionContext, type KindContext, type KindRegistry, type ModelAccess, type Submission } from './kinds.js'
import { LeaseBoard } from './leases.js'
import type { BlobSink } from './outputs.js'
import { replicate } from './replicate.js'
import { TaskRunner, type RunnerComponents } from './runner.js'
import { toTaskView } from './view.js'
import { AuctionWire } from './wire.js'
import { serveWire } from './serve.js'
import { RemoteFollower } from './follow.js'
import { Candidates } from './candidates.js'
import { learnFromTask } from './learning.js'
import { Takeover } from './takeover.js'
import { SyncGate } from './sync-gate.js'
import { newTaskId } from './task-id.js'

export interface TaskServiceComponents {
  mesh: TasksMesh
  ledger: TaskLedger
  workers: WorkerPool
  adverts: LivePeers
  capabilities: { current: () => Promise<Capabilities> }
  blobs?: () => BlobSink | undefined
  /** The node's models, for the model kinds. */
  models?: ModelAccess
  /** models.autoFetch: a model this node could fetch, as a bid counts it (see TaskRunner). */
  fetchable?: RunnerComponents['fetchable']
  /** Retrieval from this node's corpora, for kinds that put context in prompts (build). */
  retrieve?: KindContext['retrieve']
  logger: Logger
  kinds: KindRegistry
  /** For kinds that admit users' submissions (models, corpora); absent: nothing is admitted. */
  admission?: Omit<AdmissionContext, 'signal'>
  /** Whether a ledger sync with a peer has completed since the start (sync-gate.ts); absent: never. */
  synced?: () => boolean
}


export class TaskService {
  readonly events = new TaskEvents()
  readonly estimates = createRunEstimates()
  readonly #c: TaskServiceComponents
  readonly #init: AuctionConfig
  readonly #peerId: string
  readonly #kinds: KindRegistry
  readonly wire: AuctionWire
  readonly leases: LeaseBoard
  readonly runner: TaskRunner
  readonly auctioneer: Auctioneer
  readonly #follower: RemoteFollower
  readonly #active = new Map<string, TaskState>()
  /** Tasks submitted here whose `submitted` entry is not on disk yet. */
  readonly #submitting = new Set<string>()
  readonly #candidates: Candidates
  readonly #takeover: Takeover
  #timer: NodeJS.Timeout | undefined
  #shape = ''
  #gate = new SyncGate({ startedAt: 0, leaseMs: 0, aloneMs: 0 })
  #stopped = false

  constructor (components: TaskServiceComponents, init: AuctionConfig) {
    this.#c = components
    this.#init = init
    this.#peerId = components.mesh.peerId.toString()
    this.#kinds = components.kinds
    const logger = components.logger
    const append = async <T extends EntryType>(type: T, task: string, body: Bodies[T]): Promise<unknown> => components.ledger.append(type, task, body)
    this.wire = new AuctionWire({ mesh: components.mesh, logger })
    this.#candidates = new Candidates({
      peerId: this.#peerId, mesh: components.mesh, adverts: components.adverts, capabilities: components.capabilities,
      heard: node => this.leases.heard(node), leaseMs: init.leaseMs,
    })
    this.runner = new TaskRunner({
      peerId: this.#peerId, kinds: this.#kinds, workers: components.workers, selfView: () => this.#candidates.self, estimates: this.estimates,
      append, emit: e => { this.events.emit(e) }, blobs: () => components.blobs?.(), models: components.models, fetchable: components.fetchable, logger,
      // A task whose `submitted` is still being written has no state on disk yet: nothing to
      // read (the runner checks a self-award right after it is made, usually in this window).
      taskState: async id => this.#submitting.has(id) ? undefined : components.ledger.task(id),
      retrieve: components.retrieve,
      subtasks: {
        submitWatched: async (body, listener, options) => this.submit(body, { ...options, listener }),
        get: async id => this.get(id),
        cancel: async id => this.cancel(id, 'cancelled by the task that ran it'),
      },
    }, { agingMs: this.#init.agingMs })
    this.leases = new LeaseBoard({ pubsub: components.mesh.services.pubsub, peerId: this.#peerId, logger, held: () => ({ held: this.runner.held(), auctions: this.auctioneer.count }) }, this.#init)
    this.auctioneer = new Auctioneer({
      peerId: this.#peerId, wire: this.wire, runner: this.runner, leases: this.leases, append, estimates: this.estimates, logger,
      task: async id => components.ledger.task(id),
      entries: async id => ((await components.ledger.history(id)) ?? []).map(s => s.entry).slice(-256),
      peers: () => this.#candidates.peerViews(),
      kind: name => this.#kinds.get(name),
    }, this.#init)
    this.#takeover = new Takeover({
      peerId: this.#peerId, candidates: this.#candidates, knows: kind => this.#kinds.has(kind), logger,
      state: async task => components.ledger.task(task),
      adopt: async (task, epoch, reason) => components.ledger.append('adopted', task, { reason, epoch }),
    })
    this.#follower = new RemoteFollower({ wire: this.wire, events: this.events, peerId: this.#peerId, logger })
  }

  readonly #onStates = (states: readonly TaskState[]): void => { for (const s of states) this.#onState(s) }

  async start (): Promise<void> {
    // Alone (never connected) for two leases: the node resumes its own tasks without a sync.
    this.#gate = new SyncGate({ startedAt: Date.now(), leaseMs: this.#init.leaseMs, aloneMs: 2 * this.#init.leaseMs })
    await this.#candidates.refreshSelf()
    this.#c.ledger.events.on('states', this.#onStates)
    for (const state of ['pending', 'awarded', 'running'] as const) {
      for (const s of await this.#c.ledger.tasksByState(state, 100_000)) { this.#active.set(s.id, s); this.auctioneer.track(s) }
    }
    for (const s of await this.#c.ledger.recentTasks(1000)) this.#learn(s)
    await this.wire.start(serveWire({ ledger: this.#c.ledger, runner: this.runner, events: this.events, peerId: this.#peerId, logger: this.#c.logger }))
    this.leases.start()
    this.#timer = setInterval(() => { void this.#heartbeat() }, this.#init.heartbeatMs)
    this.#timer.unref()
  }

  async stop (): Promise<void> {
    this.#stopped = true
    clearInterval(this.#timer)
    this.auctioneer.stop()
    this.runner.stop()
    this.#follower.stop()
    this.leases.stop()
    this.#c.ledger.events.off('states', this.#onStates)
    await this.wire.stop()
  }

  /**
   * `listener` is subscribed to the task's events before anything of it is written (so it
   * misses nothing); the reply's `off` unsubscribes it.
   */
  async submit (body: unknown, options: { signal?: AbortSignal, listener?: TaskEventListener, admit?: boolean } = {}): Promise<SubmitReplyT & { off?: () => void }> {
    if (this.#stopped) throw new TasksStoppedError('the node is stopping and takes no new tasks')
    if (options.admit === true) body = await this.#admit(body, options.signal)
    const sub = parseSubmission(body, this.#kinds)
    const id = newTaskId()
    const off = options.listener === undefined ? undefined : this.subscribe(id, options.listener)
    try {
      return { ...await this.#submit(id, sub, options), ...(off === undefined ? {} : { off }) }
    } catch (err) {
      off?.()
      throw err
    }
  }

  /** A user's submission through its kind's admission (a body the kind cannot read is left to parseSubmission). */
  async #admit (body: unknown, signal: AbortSignal | undefined): Promise<unknown> {
    if (typeof body !== 'object' || body === null || Array.isArray(body) || this.#c.admission === undefined) return body
    const b = body as Record<string, unknown>
    const kind = typeof b.kind === 'string' ? this.#kinds.get(b.kind) : undefined
    return kind?.admit === undefined ? body : await kind.admit(b, { ...this.#c.admission, signal })
  }

  async #submit (id: string, sub: Submission, options: { signal?: AbortSignal }): Promise<SubmitReplyT> {
    const appended = this.#c.ledger.append('submitted', id, { kind: sub.kind, priority: sub.priority, spec: sub.spec }, { ...options, newTask: true })
    // The auction starts while the entry is written (bids overlap the fsync); it awards only
    // once the entry is durable. Its state is what the fold will give, until the fold's arrives.
    const now = Date.now()
    this.#submitting.add(id)
    this.auctioneer.submitted({ id, kind: sub.kind, priority: sub.priority, spec: sub.spec, auctioneer: this.#peerId, epoch: 1, state: 'pending', submittedAt: now, updatedAt: now, attempts: [], conflicts: [] }, appended)
    const stored = await appended.finally(() => { this.#submitting.delete(id) })
    if (sub.durability === 'replicated') await replicate(this.wire, this.#c.mesh, [stored.entry], options.signal)
    return { id, state: 'pending' }
  }

  async get (id: string): Promise<TaskViewT> {
    const state = await this.#c.ledger.task(id)
    if (state === undefined) throw new NotFoundError(`no task ${id} in this node's ledger`)
    return toTaskView(state)
  }

  async list (options: { state?: TaskState['state'], limit?: number } = {}): Promise<TaskViewT[]> {
    const limit = options.limit ?? 100
    const states = options.state === undefined ? await this.#c.ledger.recentTasks(limit) : await this.#c.ledger.tasksByState(options.state, limit)
    return states.map(toTaskView)
  }

  /** One page of the list; `cursor` (from the page before) continues it. Compacted tasks are listed like live ones. */
  async listPage (options: { state?: TaskState['state'], limit: number, cursor?: string }): Promise<{ tasks: TaskViewT[], nextCursor?: string }> {
    const page = await taskPage(this.#c.ledger, options)
    return page.cursor === undefined ? { tasks: page.states.map(toTaskView) } : { tasks: page.states.map(toTaskView), nextCursor: page.cursor }
  }

  async cancel (id: string, reason = 'cancelled by user'): Promise<TaskViewT> {
    const state = await this.#c.ledger.task(id)
    if (state === undefined) throw new NotFoundError(`no task ${id} in this node's ledger`)
    if (isTerminal(state.state)) throw new TaskConflictError(`task ${id} is already ${state.state}`)
    await this.#c.ledger.append('cancelled', id, { reason })
    return this.get(id)
  }

  /** A person's verdict on a task (any state), recorded durably in the ledger. */
  async feedback (id: string, body: Bodies['feedback']): Promise<TaskViewT> {
    if (await this.#c.ledger.task(id) === undefined) throw new NotFoundError(`no task ${id} in this node's ledger`)
    await this.#c.ledger.append('feedback', id, body)
    return this.get(id)
  }

  /**
   * Subscribe to a task's events, first replayed its recent ones (those after `lastEventId`,
   * when given); logs of a run on another node are followed from it.
   */
  subscribe (id: string, listener: Parameters<TaskEvents['subscribe']>[1], lastEventId?: string): (() => void) | undefined {
    const off = this.events.subscribe(id, listener)
    if (off === undefined) return undefined
    this.events.replay(id, listener, { lastEventId })
    // Hold first: update() follows only tasks somebody holds (a task already running elsewhere
    // sees no further state change until it ends, so this is the moment to start following).
    const unfollow = this.#follower.hold(id)
    const state = this.#active.get(id)
    if (state !== undefined) this.#follower.update(state)
    return () => { off(); unfollow() }
  }

  /** Subscribe to the state changes of all tasks (into `states`), first replayed those after `lastEventId` still held. */
  subscribeAll (listener: Parameters<TaskEvents['subscribe']>[1], states?: readonly string[], lastEventId?: string): (() => void) | undefined {
    const off = this.events.subscribe('*', listener, states)
    if (off !== undefined) this.events.replay('*', listener, { lastEventId, states })
    return off
  }

  #onState (s: TaskState): void {
    if (isTerminal(s.state)) { this.#active.delete(s.id); this.#takeover.forget(s.id); this.#learn(s); this.events.forget(s.id) } else this.#active.set(s.id, s)
    this.auctioneer.track(s)
    this.runner.onState(s)
    if (this.events.watched(s.id, s.state)) {
      this.events.emit({ type: 'state', task: toTaskView(s) })
      this.#follower.update(s)
    }
  }

  #learn (s: TaskState): void {
    learnFromTask(this.estimates, s, this.#kinds.get(s.kind), node => this.#candidates.speedOf(node))
  }

  async #heartbeat (): Promise<void> {
    if (this.#stopped) return
    await this.#candidates.refreshSelf().catch(() => {})
    const now = Date.now()
    const shape = this.#candidates.shape()
    if (shape !== this.#shape) { this.#shape = shape; this.auctioneer.retryBlocked() }
    const { ledger } = this.#c
    const gate = this.#gate.observe(now, { connected: this.#candidates.connected().size > 0, synced: this.#c.synced?.() ?? false, entries: ledger.entryCount(), indexed: ledger.indexedCount() })
    if (gate.resume) this.auctioneer.resume()
    this.auctioneer.tick(now)
    if (gate.takeOver) this.#takeover.check(this.#active.values(), now)
  }
}
