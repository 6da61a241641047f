/**
 * TaskService: the node's tasks. Submissions are acknowledged once durable in the ledger
 * (and, with `durability: 'replicated'`, fsynced by one more node); this node is then their
 * auctioneer (auctioneer.ts). It bids on and runs awarded tasks (runner.ts), renews leases
 * by gossip (leases.ts), takes over the auctions of a dead auctioneer (the rendezvous owner
 * of the task id among live nodes writes `adopted`), learns run times from finished tasks,
 * and feeds task events to subscribers (SSE). Every state comes from the ledger fold.
 */
import { randomBytes } from 'node:crypto'
import type { Capabilities } from '../protocols/index.js'
import type { Bodies, EntryType } from '../protocols/index.js'
import type { TaskViewT, SubmitReplyT } from '../protocols/index.js'
import { isTerminal, type TaskLedger, type TaskState } from '../ledger/index.js'
import { createRunEstimates, estimateTaskRunMs, nodeView, observeRun, rendezvousOwner, type NodeView, type PlacementTask } from '../scheduler/index.js'
import type { WorkerPool } from '../workers/index.js'
import { NotFoundError } from '../base/index.js'
import type { Logger } from '../base/index.js'
import type { AuctionConfig } from './config.js'
import type { LivePeers, TasksMesh } from './mesh.js'
import { Auctioneer } from './auctioneer.js'
import { TaskConflictError, TasksStoppedError } from './errors.js'
import { TaskEvents, type TaskEventListener } from './events.js'
import { parseSubmission, type KindContext, type KindRegistry, type ModelAccess, type Submission } from './kinds.js'
import { LeaseBoard } from './leases.js'
import type { BlobSink } from './outputs.js'
import { replicate } from './replicate.js'
import { TaskRunner } from './runner.js'
import { toTaskView } from './view.js'
import { AuctionWire } from './wire.js'
import { serveWire } from './serve.js'
import { RemoteFollower } from './follow.js'

export interface TaskServiceComponents {
  mesh: TasksMesh
  ledger: TaskLedger
  workers: WorkerPool
  adverts: LivePeers
  capabilities: { current: () => Promise<Capabilities> }
  blobs?: () => BlobSink | undefined
  /** The node's models, for the model kinds. */
  models?: ModelAccess
  /** Retrieval from this node's corpora, for kinds that put context in prompts (build). */
  retrieve?: KindContext['retrieve']
  logger: Logger
  kinds: KindRegistry
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
  readonly #adopting = new Set<string>()
  #self: NodeView | undefined
  #speeds = new Map<string, number>()
  #timer: NodeJS.Timeout | undefined
  #shape = ''
  #startedAt = 0
  #stopped = false

  constructor (components: TaskServiceComponents, init: AuctionConfig) {
    this.#c = components
    this.#init = init
    this.#peerId = components.mesh.peerId.toString()
    this.#kinds = components.kinds
    const logger = components.logger
    const append = async <T extends EntryType>(type: T, task: string, body: Bodies[T]): Promise<unknown> => components.ledger.append(type, task, body)
    this.wire = new AuctionWire({ mesh: components.mesh, logger })
    this.runner = new TaskRunner({
      peerId: this.#peerId, kinds: this.#kinds, workers: components.workers, selfView: () => this.#self, estimates: this.estimates,
      append, emit: e => { this.events.emit(e) }, blobs: () => components.blobs?.(), models: components.models, logger,
      taskState: async id => components.ledger.task(id),
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
      peers: task => this.#peerViews(task),
      kind: name => this.#kinds.get(name),
    }, this.#init)
    this.#follower = new RemoteFollower({ wire: this.wire, events: this.events, peerId: this.#peerId, logger })
  }

  readonly #onStates = (states: readonly TaskState[]): void => { for (const s of states) this.#onState(s) }

  async start (): Promise<void> {
    this.#startedAt = Date.now()
    await this.#refreshSelf()
    this.#c.ledger.events.on('states', this.#onStates)
    for (const state of ['pending', 'awarded', 'running'] as const) {
      for (const s of await this.#c.ledger.tasksByState(state, 100_000)) { this.#active.set(s.id, s); this.auctioneer.track(s) }
    }
    for (const s of await this.#c.ledger.recentTasks(1000)) this.#observe(s)
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
  async submit (body: unknown, options: { signal?: AbortSignal, listener?: TaskEventListener } = {}): Promise<SubmitReplyT & { off?: () => void }> {
    if (this.#stopped) throw new TasksStoppedError('the node is stopping and takes no new tasks')
    const sub = parseSubmission(body, this.#kinds)
    const id = `${Date.now().toString(36)}-${randomBytes(6).toString('base64url')}`
    const off = options.listener === undefined ? undefined : this.subscribe(id, options.listener)
    try {
      return { ...await this.#submit(id, sub, options), ...(off === undefined ? {} : { off }) }
    } catch (err) {
      off?.()
      throw err
    }
  }

  async #submit (id: string, sub: Submission, options: { signal?: AbortSignal }): Promise<SubmitReplyT> {
    const appended = this.#c.ledger.append('submitted', id, { kind: sub.kind, priority: sub.priority, spec: sub.spec }, options)
    // The auction starts while the entry is written (bids overlap the fsync); it awards only
    // once the entry is durable. Its state is what the fold will give, until the fold's arrives.
    const now = Date.now()
    this.auctioneer.submitted({ id, kind: sub.kind, priority: sub.priority, spec: sub.spec, auctioneer: this.#peerId, state: 'pending', submittedAt: now, updatedAt: now, attempts: [], conflicts: [] }, appended)
    const stored = await appended
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

  /** Subscribe to a task's events; logs of a run on another node are followed from it. */
  subscribe (id: string, listener: Parameters<TaskEvents['subscribe']>[1]): (() => void) | undefined {
    const off = this.events.subscribe(id, listener)
    if (off === undefined) return undefined
    for (const event of this.events.recent(id)) listener(event)
    const state = this.#active.get(id)
    if (state !== undefined) this.#follower.update(state)
    const unfollow = this.#follower.hold(id)
    return () => { off(); unfollow() }
  }

  #onState (s: TaskState): void {
    if (isTerminal(s.state)) { this.#active.delete(s.id); this.#adopting.delete(s.id); this.#observe(s); this.events.forget(s.id) } else this.#active.set(s.id, s)
    this.auctioneer.track(s)
    this.runner.onState(s)
    if (this.events.watched(s.id, s.state)) {
      this.events.emit({ type: 'state', task: toTaskView(s) })
      this.#follower.update(s)
    }
  }

  #observe (s: TaskState): void {
    const a = s.decidedBy === undefined ? undefined : s.attempts[s.decidedBy - 1]
    if (s.state !== 'succeeded' || a?.startedAt === undefined || a.endedAt === undefined) return
    const model = (s.spec.requirements as { model?: string } | undefined)?.model
    // A model's load is priced apart (predictCompletion's loadMs): learn the run without it.
    const loadMs = (a.result?.timings as { loadMs?: unknown } | undefined)?.loadMs
    const durationMs = Math.max(0, a.endedAt - a.startedAt - (typeof loadMs === 'number' && Number.isFinite(loadMs) ? loadMs : 0))
    const program = this.#kinds.get(s.kind)?.workClass?.(s.spec)
    observeRun(this.estimates, { kind: s.kind, model, ...(program === undefined ? {} : { program }), node: a.node, speed: this.#speeds.get(a.node) ?? 1, durationMs })
  }

  #connected (): Set<string> {
    return new Set(this.#c.mesh.getConnections().map(c => c.remotePeer.toString()))
  }

  #alive (node: string, now: number, connected = this.#connected()): boolean {
    if (node === this.#peerId) return true
    if (connected.has(node)) return true
    const heard = this.leases.heard(node)
    return heard !== undefined && now - heard <= this.#init.leaseMs
  }

  #peerViews (task: PlacementTask): NodeView[] {
    const now = Date.now()
    const outstanding = this.auctioneer.outstanding()
    const connected = this.#connected()
    const views: NodeView[] = []
    for (const p of this.#c.adverts.livePeers()) {
      const id = p.advert.peerId
      if (id === this.#peerId || !this.#alive(id, now, connected)) continue
      const view = nodeView(id, p.advert.capabilities)
      this.#speeds.set(id, view.speed)
      const extra = outstanding.get(id) ?? 0
      if (extra === 0) { views.push(view); continue }
      // Work this node awarded there and has not seen end: priced as queued ahead of anything,
      // at this task's run estimate there (the advert knows neither the node's slots per kind
      // nor its queue; the bids will say exactly).
      const buckets = [...view.load.queuedMsByPriority]
      buckets[buckets.length - 1] += extra * estimateTaskRunMs(task, view, this.estimates)
      views.push({ ...view, load: { ...view.load, queued: view.load.queued + extra, queuedMsByPriority: buckets } })
    }
    return views
  }

  /** What feasibility depends on, for every live node: when it changes, blocked tasks are retried at once. */
  #meshShape (): string {
    const shape = (id: string, c: Capabilities): string => `${id}:${c.cpu.cores}:${c.memory.totalMb}:${c.cpu.arch}:${c.labels.join(',')}:${c.gpus.map(g => g.vramMb).join(',')}:${c.models.map(m => m.name).join(',')}:${String(c.sandbox?.available)}:${c.sandbox?.runtimes.join(',') ?? ''}`
    const self = this.#self === undefined ? '' : `${this.#self.labels.join(',')}:${String(this.#self.sandboxAvailable)}:${this.#self.runtimes.join(',')}:${this.#self.models.join(',')}`
    return `${self}|${this.#c.adverts.livePeers().map(p => shape(p.advert.peerId, p.advert.capabilities)).sort().join('|')}`
  }

  async #refreshSelf (): Promise<void> {
    const caps = await this.#c.capabilities.current()
    this.#self = nodeView(this.#peerId, caps)
    this.#speeds.set(this.#peerId, this.#self.speed)
  }

  async #heartbeat (): Promise<void> {
    if (this.#stopped) return
    await this.#refreshSelf().catch(() => {})
    const now = Date.now()
    const shape = this.#meshShape()
    if (shape !== this.#shape) { this.#shape = shape; this.auctioneer.retryBlocked() }
    this.auctioneer.tick(now)
    if (now - this.#startedAt < this.#init.leaseMs) return // hear from peers before judging them dead
    let live: string[] | undefined
    const connected = this.#connected()
    for (const s of this.#active.values()) {
      if (s.auctioneer === this.#peerId || this.#adopting.has(s.id) || !this.#kinds.has(s.kind) || this.#alive(s.auctioneer, now, connected)) continue
      live ??= [this.#peerId, ...this.#c.adverts.livePeers().map(p => p.advert.peerId).filter(id => this.#alive(id, now, connected))]
      if (rendezvousOwner(s.id, live.filter(id => id !== s.auctioneer)) !== this.#peerId) continue
      this.#adopting.add(s.id)
      this.#c.logger.warn({ task: s.id, auctioneer: s.auctioneer }, 'auctioneer gone: taking the task over')
      void this.#c.ledger.append('adopted', s.id, { reason: `auctioneer ${s.auctioneer} gone` }).catch(() => { this.#adopting.delete(s.id) })
    }
  }
}
