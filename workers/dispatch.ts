/**
 * Least-recently-used dispatch with credit, as pure state (no I/O): which queued task goes to
 * which ready worker. A worker declares `slots` (its credit) in READY; each assigned task takes
 * one slot until its result frees it. A worker with a free slot waits in its kind's LRU line;
 * on assignment it moves to the back, so work spreads over the workers that waited longest.
 * Queued tasks leave in submission order. A task is assigned to at most one worker, once.
 */
import type { WorkerKind } from '../protocols/index.js'

export interface Assignment { workerId: string, taskId: number }

export interface KindLoad {
  queued: number
  running: number
  /** Ready workers running nothing. */
  idle: number
  /** Ready workers. */
  workers: number
  /** Slots of the ready workers together. */
  capacity: number
}

interface ReadyWorker { kind: WorkerKind, slots: number, running: Set<number> }

interface KindState {
  /** Insertion-ordered: first in, first out; deletion of a cancelled task is O(1). */
  queue: Set<number>
  /** Workers with a free slot, least recently used first. */
  available: Set<string>
  workers: Set<string>
}

export class Dispatcher {
  readonly #workers = new Map<string, ReadyWorker>()
  readonly #kinds = new Map<WorkerKind, KindState>()

  #kind (kind: WorkerKind): KindState {
    let state = this.#kinds.get(kind)
    if (state === undefined) {
      state = { queue: new Set(), available: new Set(), workers: new Set() }
      this.#kinds.set(kind, state)
    }
    return state
  }

  /** A worker said READY. A second READY from the same worker changes its slots. */
  addWorker (workerId: string, kind: WorkerKind, slots: number): void {
    const existing = this.#workers.get(workerId)
    if (existing !== undefined && existing.kind !== kind) throw new Error(`worker ${workerId} is already of kind ${existing.kind}`)
    const worker = existing ?? { kind, slots, running: new Set<number>() }
    worker.slots = slots
    this.#workers.set(workerId, worker)
    const state = this.#kind(kind)
    state.workers.add(workerId)
    if (worker.running.size < worker.slots) {
      if (!state.available.has(workerId)) state.available.add(workerId)
    } else {
      state.available.delete(workerId)
    }
  }

  hasWorker (workerId: string): boolean {
    return this.#workers.has(workerId)
  }

  /** Tasks running on the worker (0 when it is not ready). */
  running (workerId: string): number {
    return this.#workers.get(workerId)?.running.size ?? 0
  }

  /** The worker is gone; returns the tasks it was running (they are no longer assigned anywhere). */
  removeWorker (workerId: string): number[] {
    const worker = this.#workers.get(workerId)
    if (worker === undefined) return []
    this.#workers.delete(workerId)
    const state = this.#kind(worker.kind)
    state.workers.delete(workerId)
    state.available.delete(workerId)
    return [...worker.running]
  }

  enqueue (kind: WorkerKind, taskId: number): void {
    this.#kind(kind).queue.add(taskId)
  }

  /** Removes a task that is still queued; false when it is not (assigned or unknown). */
  dequeue (kind: WorkerKind, taskId: number): boolean {
    return this.#kind(kind).queue.delete(taskId)
  }

  /** Every queued task of the kind, removed from the queue, in submission order. */
  drainQueue (kind: WorkerKind): number[] {
    const state = this.#kind(kind)
    const ids = [...state.queue]
    state.queue.clear()
    return ids
  }

  /** A result arrived: frees the slot. False when the task is not running on that worker. */
  complete (workerId: string, taskId: number): boolean {
    const worker = this.#workers.get(workerId)
    if (worker === undefined || !worker.running.delete(taskId)) return false
    const state = this.#kind(worker.kind)
    if (worker.running.size < worker.slots && !state.available.has(workerId)) state.available.add(workerId)
    return true
  }

  /** Pairs queued tasks with free slots until one of them runs out. */
  assign (kind: WorkerKind): Assignment[] {
    const state = this.#kind(kind)
    const assignments: Assignment[] = []
    while (state.queue.size > 0 && state.available.size > 0) {
      const taskId = state.queue.values().next().value as number
      const workerId = state.available.values().next().value as string
      const worker = this.#workers.get(workerId) as ReadyWorker
      state.queue.delete(taskId)
      worker.running.add(taskId)
      state.available.delete(workerId)
      if (worker.running.size < worker.slots) state.available.add(workerId)
      assignments.push({ workerId, taskId })
    }
    return assignments
  }

  load (kind: WorkerKind): KindLoad {
    const state = this.#kind(kind)
    let running = 0
    let idle = 0
    let capacity = 0
    for (const id of state.workers) {
      const worker = this.#workers.get(id) as ReadyWorker
      running += worker.running.size
      capacity += worker.slots
      if (worker.running.size === 0) idle++
    }
    return { queued: state.queue.size, running, idle, workers: state.workers.size, capacity }
  }
}
