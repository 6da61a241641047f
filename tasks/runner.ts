/**
 * The runner: this node's side of the auction as a bidder and a winner.
 * - Bids: feasibility on this node's own capabilities, then `predictCompletion` on its exact
 *   load (running tasks' remaining estimates, queued work per priority).
 * - Accepts awards into its own queue, ordered by priority with aging (`compareQueued`), and
 *   feeds the worker pool only as slots free, so the pool never queues behind our back.
 * - Runs each task: `started` (durable) -> the kind's executor -> `finished` (durable).
 * - A run that fails with a retryable error (worker lost, pool stopping) gives its attempt back
 *   with `retried`: the task is auctioned again; only the task's own failures end it `failed`.
 *   Just before `started`, the award is checked against this node's ledger (fencing,
 *   `awardStatus`): a task already over, or an attempt closed or given to another node, is
 *   dropped unstarted. An award the ledger does not know yet (verified on receipt) runs.
 * - A task cancelled, or whose attempt was given up (lease expired), is dropped from the
 *   queue or aborted (its sandbox is killed). A cancelled run records what it printed
 *   (`finished` with outcome `cancelled`, which changes no state); nothing else is written.
 */
import { awardStatus, type TaskState } from '../ledger/index.js'
import type { Bodies, EntryType, TaskEvent, LeaseMessage, TaskSummaryT } from '../protocols/index.js'
import { checkNode, compareQueued, emptyLoad, estimateRunMs, estimateTaskRunMs, predictCompletion, MAX_PRIORITY, type ModelFacts, type NodeView, type RunEstimates, type PlacementTask } from '../scheduler/index.js'
import type { WorkerPool } from '../workers/index.js'
import type { Logger } from '../base/index.js'
import type { KindContext, KindRegistry, ModelAccess, TaskSpec } from './kinds.js'
import type { TaskOps } from './to-end.js'
import type { BlobSink } from './outputs.js'
import { normalizeRequirements, schedulerView, type PlacementTraits } from './view.js'
import { OutputTail } from './output-tail.js'

const CAPACITY_TTL_MS = 100

export interface Held {
  task: PlacementTask
  attempt: number
  spec: TaskSpec
  acceptedAt: number
  /** Its run estimate here when it was accepted (bids price queued and running work with it). */
  estimateMs: number
  startedAt?: number
  abort?: AbortController
  /** Set with the abort (reading `abort.signal` would make the signal object on every run). */
  aborted?: boolean
  /** What the run printed last; recorded if the task is cancelled while it runs. */
  tail?: OutputTail
  cancelled?: boolean
  /** Its executor has returned: the run is over, only its outcome is being recorded (nothing left to abort). */
  ran?: boolean
}

export interface RunnerComponents {
  peerId: string
  kinds: KindRegistry
  workers: Pick<WorkerPool, 'runSandboxed' | 'submit' | 'stats'>
  /** The node's models (absent: model kinds fail with a clear error). */
  models?: ModelAccess
  /** This node as its advert shows it (load from the advert: replaced here by the exact one). */
  selfView: () => NodeView | undefined
  /** models.autoFetch: facts (with the transfer time) of a model this node lacks but could fetch. */
  fetchable?: (model: string) => ModelFacts | undefined
  estimates: RunEstimates
  append: <T extends EntryType>(type: T, task: string, body: Bodies[T]) => Promise<unknown>
  emit: (event: TaskEvent) => void
  blobs: () => BlobSink | undefined
  /** Steps of long tasks are tasks of their own. */
  subtasks?: TaskOps
  /** Retrieval from this node's corpora (absent: kinds run without retrieved context). */
  retrieve?: KindContext['retrieve']
  /** A task's current state (its checkpoints). */
  taskState: (id: string) => Promise<TaskState | undefined>
  logger: Logger
}

export class TaskRunner {
  readonly #c: RunnerComponents
  readonly #order: (a: PlacementTask, b: PlacementTask) => number
  readonly #queue: Held[] = []
  readonly #running = new Map<string, Held>()
  #stopping = false
  /** Worker capacity per worker kind, read at most every CAPACITY_TTL_MS (stats() builds a lot). */
  #capacity: { at: number, kinds: Record<string, number> } = { at: -Infinity, kinds: {} }

  constructor (components: RunnerComponents, init: { agingMs: number }) {
    this.#c = components
    this.#order = compareQueued(init.agingMs)
  }

  /** Slots for a kind: worker capacity of its worker kind; unbounded for inline kinds. */
  #slots (kind: string): number {
    const workerKind = this.#c.kinds.get(kind)?.workerKind
    if (workerKind === undefined) return 0
    if (workerKind === null) return Number.MAX_SAFE_INTEGER
    const now = performance.now()
    if (now - this.#capacity.at > CAPACITY_TTL_MS) {
      const kinds = this.#c.workers.stats().kinds
      this.#capacity = { at: now, kinds: { exec: kinds.exec.capacity, model: kinds.model.capacity } }
    }
    return this.#capacity.kinds[workerKind] ?? 0
  }

  /** This node as a candidate for `task`, with its exact load for the task's kind. */
  view (task: PlacementTask): NodeView | undefined {
    const advertised = this.#c.selfView()
    if (advertised === undefined) return undefined
    const model = task.requirements.model
    const fetch = model === undefined || advertised.models.includes(model) ? undefined : this.#c.fetchable?.(model)
    const self = model === undefined || fetch === undefined ? advertised : { ...advertised, models: [...advertised.models, model], modelInfo: { ...advertised.modelInfo, [model]: fetch } }
    const slots = this.#slots(task.kind)
    const buckets = new Array<number>(MAX_PRIORITY + 1).fill(0)
    const now = Date.now()
    let running = 0
    let remaining = 0
    let gridCpus = 0
    for (const h of this.#running.values()) {
      gridCpus += h.task.requirements.cpus
      if (h.task.kind !== task.kind) continue
      running++
      remaining += Math.max(0, h.estimateMs - (now - (h.startedAt ?? now)))
    }
    let queued = 0
    for (const h of this.#queue) {
      if (h.task.kind !== task.kind) continue
      queued++
      buckets[Math.min(MAX_PRIORITY, h.task.priority)] += h.estimateMs
    }
    // The advert's CPU share includes this node's own grid tasks: outside work is the rest.
    const externalLoad = Math.max(0, self.load.externalLoad - gridCpus / Math.max(1, self.cpus))
    return { ...self, load: { ...emptyLoad(Math.min(slots, 1_000_000), externalLoad), running, queued, runningRemainingMs: remaining, queuedMsByPriority: buckets } }
  }

  #estimate (task: PlacementTask): number {
    const self = this.#c.selfView()
    return self === undefined ? estimateRunMs(this.#c.estimates, task.kind, task.requirements.model, this.#c.peerId, 1, task.program) : estimateTaskRunMs(task, self, this.#c.estimates)
  }

  bid (summary: TaskSummaryT): { costMs: number, completionMs: number } | { reason: string } {
    if (this.#stopping) return { reason: 'node is stopping' }
    const kind = this.#c.kinds.get(summary.kind)
    if (kind === undefined) return { reason: `this node does not run ${summary.kind} tasks` }
    const task = placementOfSummary(summary, kind)
    const node = this.view(task)
    if (node === undefined) return { reason: 'capabilities not probed yet' }
    const fit = checkNode(task, node)
    if (fit.fit !== 'now') return { reason: fit.reasons.map(r => r.reason).join('; ') }
    const p = predictCompletion(task, node, this.#c.estimates)
    return { costMs: p.costMs, completionMs: p.completionMs }
  }

  /** Take an award (already verified); false when this node can no longer run it. */
  accept (state: TaskState, attempt: number): { ok: true } | { ok: false, reason: string } {
    if (this.#stopping) return { ok: false, reason: 'node is stopping' }
    if (this.holds(state.id)) return { ok: true }
    const kind = this.#c.kinds.get(state.kind)
    if (kind === undefined) return { ok: false, reason: `this node does not run ${state.kind} tasks` }
    if (kind.workerKind !== null && this.#slots(state.kind) === 0) return { ok: false, reason: `no ${kind.workerKind} worker ready` }
    const task = schedulerView(state, kind)
    this.#queue.push({ task, attempt, spec: state.spec as TaskSpec, acceptedAt: Date.now(), estimateMs: this.#estimate(task) })
    this.#queue.sort((a, b) => this.#order(a.task, b.task))
    queueMicrotask(() => { this.#pump() })
    return { ok: true }
  }

  holds (task: string): boolean {
    return this.#running.has(task) || this.#queue.some(h => h.task.id === task)
  }

  held (): LeaseMessage['held'] {
    return [...this.#running.values(), ...this.#queue].map(h => ({ task: h.task.id, attempt: h.attempt }))
  }

  get counts (): { queued: number, running: number } { return { queued: this.#queue.length, running: this.#running.size } }

  /**
   * A task's state changed: drop or abort what no longer needs running. This node's view may
   * lag (peers' entries are indexed in the background): a state that does not know this
   * node's attempt yet is not a reason to stop it; only an ended task, this attempt closed
   * (lost, finished), or a newer attempt is.
   */
  onState (state: TaskState): void {
    const gone = (h: Held): boolean => state.state === 'cancelled' || state.state === 'succeeded' || state.state === 'failed' ||
      state.attempts[h.attempt - 1]?.outcome !== undefined || state.attempts.length > h.attempt
    const i = this.#queue.findIndex(h => h.task.id === state.id)
    if (i >= 0 && gone(this.#queue[i])) this.#queue.splice(i, 1)
    const running = this.#running.get(state.id)
    // A run whose executor returned is over: its own `finished` ends the task, and aborting it
    // then would only make an AbortError (a stack trace) and log a run stopped that was not.
    if (running !== undefined && running.ran !== true && gone(running) && running.abort !== undefined && running.aborted !== true) {
      this.#c.logger.info({ task: state.id, state: state.state }, 'aborting run: task over or attempt given up')
      running.cancelled = state.state === 'cancelled' && state.attempts[running.attempt - 1]?.outcome === 'cancelled'
      abortRun(running)
    }
  }

  #pump (): void {
    for (let i = 0; i < this.#queue.length && !this.#stopping;) {
      const h = this.#queue[i]
      let busy = 0
      for (const r of this.#running.values()) if (r.task.kind === h.task.kind) busy++
      if (busy >= this.#slots(h.task.kind)) { i++; continue }
      this.#queue.splice(i, 1)
      void this.#run(h)
    }
  }

  async #run (h: Held): Promise<void> {
    const id = h.task.id
    h.abort = new AbortController()
    h.startedAt = Date.now()
    const tail = h.tail = new OutputTail()
    this.#running.set(id, h)
    const kind = this.#c.kinds.get(h.task.kind)
    if (!await this.#stillCurrent(h)) { this.#running.delete(id); this.#pump(); return }
    // Not awaited before the run: `started` and, for quick kinds, `finished` share a group
    // commit. Inline kinds (noop) have no running phase: `finished` alone records them.
    const started = kind?.workerKind === null ? Promise.resolve(undefined) : this.#c.append('started', id, { attempt: h.attempt })
    started.catch(() => {})
    try {
      if (kind === undefined) throw new Error(`no kind ${h.task.kind}`)
      const abort = h.abort
      const outcome = await kind.execute(h.spec, {
        // Made when the executor reads it (an inline kind such as noop never does).
        get signal () { return abort.signal },
        workers: this.#c.workers,
        models: this.#c.models,
        subtasks: this.#c.subtasks,
        retrieve: this.#c.retrieve,
        task: {
          id,
          attempt: h.attempt,
          submittedAt: h.task.submittedAt,
          checkpoints: async () => (await this.#c.taskState(id))?.checkpoints ?? [],
          checkpoint: async body => { await this.#c.append('checkpoint', id, { ...body, attempt: h.attempt }) },
        },
        blobs: this.#c.blobs(),
        onToken: (text, offset, tokens) => { this.#c.emit({ type: 'token', task: id, text, offset, tokens }) },
        onLog: line => { tail.add(line.stream, line.message); this.#c.emit(line.stream === undefined ? { type: 'log', task: id, stream: 'worker', line: `${line.level}: ${line.message}` } : { type: 'log', task: id, stream: line.stream, line: line.message }) },
        onProgress: p => { this.#c.emit({ type: 'progress', task: id, ...p }) },
      })
      if (h.aborted === true) { await started; await this.#recordCancelled(h); return }
      h.ran = true
      // Appended in order behind `started`; a quick run's two entries share one group commit.
      const finished = this.#c.append('finished', id, { attempt: h.attempt, outcome: outcome.outcome, ...(outcome.result === undefined ? {} : { result: outcome.result }), ...(outcome.error === undefined ? {} : { error: outcome.error.slice(0, 2048) }) })
      await Promise.all([started, finished])
    } catch (err) {
      if (h.aborted === true || this.#stopping) { await started.catch(() => {}); await this.#recordCancelled(h); return }
      const error = `${(err as Error).name}: ${(err as Error).message}`.slice(0, 2048)
      if (isRetryable(err)) {
        // The infrastructure failed (a worker lost, the pool stopping), not the task: give the
        // attempt back (`retried`, attempt lost) and its auctioneer auctions it again, elsewhere
        // if another node fits, until `maxAttempts`.
        this.#c.logger.warn({ task: id, attempt: h.attempt, err: error }, 'task run lost to a retryable fault: attempt given back')
        await this.#c.append('retried', id, { attempt: h.attempt, reason: error }).catch(() => {})
        return
      }
      this.#c.logger.warn({ task: id, err: (err as Error).message }, 'task run failed')
      await this.#c.append('finished', id, { attempt: h.attempt, outcome: 'failed', error }).catch(() => {})
    } finally {
      this.#running.delete(id)
      this.#pump()
    }
  }

  /** A run stopped by its task's cancel: what it printed, kept on its attempt. */
  async #recordCancelled (h: Held): Promise<void> {
    if (h.cancelled !== true || h.tail === undefined) return
    await this.#c.append('finished', h.task.id, { attempt: h.attempt, outcome: 'cancelled', result: h.tail.result() }).catch((err: Error) => {
      this.#c.logger.warn({ task: h.task.id, err: err.message }, 'could not record the output of a cancelled run')
    })
  }

  /** Whether `h`'s award is still the open attempt by this node's ledger (see the header). */
  async #stillCurrent (h: Held): Promise<boolean> {
    const status = awardStatus(await this.#c.taskState(h.task.id).catch(() => undefined), h.attempt, this.#c.peerId)
    if (status !== 'terminal' && status !== 'superseded' && h.aborted !== true) return true
    this.#c.logger.warn({ task: h.task.id, attempt: h.attempt, status }, 'award no longer current: not starting it')
    return false
  }

  /** Stop taking awards; abort queued and running work (their leases lapse; others re-run them). */
  stop (): void {
    this.#stopping = true
    this.#queue.length = 0
    for (const h of this.#running.values()) abortRun(h)
  }
}

function abortRun (h: Held): void {
  h.aborted = true
  h.abort?.abort()
}

/** An error that says the same task may run again (worker pool errors declare `retryable`): not the task's own failure. */
export function isRetryable (err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retryable?: unknown }).retryable === true
}

/** A task as an auctioneer asked for a bid on it, for this node's own checks; `kind` from this node's registry. */
export function placementOfSummary (summary: TaskSummaryT, kind: PlacementTraits): PlacementTask {
  return { id: summary.id, kind: summary.kind, priority: summary.priority, submittedAt: summary.submittedAt, requirements: normalizeRequirements(summary.requirements), needsSandbox: kind.needsSandbox, ...(summary.work === undefined ? {} : { work: summary.work }), ...(summary.program === undefined ? {} : { program: summary.program }) }
}
