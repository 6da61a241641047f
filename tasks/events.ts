/**
 * Task events for subscribers (SSE): state changes, log lines and progress, per task or for
 * all tasks ('*'). Listeners are called synchronously; a throwing listener is dropped, never
 * allowed to break the node. Bounded: at most MAX_LISTENERS subscribers at once. The last
 * BACKLOG log/progress events of each task are kept while it runs and for ENDED_KEEP_MS after
 * it ends, so a subscriber who comes late (a remote watcher, `logs --follow`, a relay whose
 * stream opened as the task finished) first gets the recent lines.
 */
import type { TaskEvent } from '../protocols/index.js'

export type TaskEventListener = (event: TaskEvent) => void

const MAX_LISTENERS = 1024
const BACKLOG = 200
const BACKLOG_TASKS = 1000
const ENDED_KEEP_MS = 10_000

export class TaskEvents {
  readonly #byTask = new Map<string, Set<TaskEventListener>>()
  readonly #backlog = new Map<string, TaskEvent[]>()
  /** Tasks that ended, oldest first, with when: their backlog goes ENDED_KEEP_MS later. */
  readonly #ended = new Map<string, number>()
  /** States that '*' subscribers want (null: all), counted per state. */
  readonly #allStates = new Map<string | null, number>()
  #count = 0

  /**
   * Returns the function that unsubscribes; undefined when too many subscribers already.
   * `states` (for '*' only): the state changes this subscriber wants; others are not built for it.
   */
  subscribe (task: string | '*', listener: TaskEventListener, states?: readonly string[]): (() => void) | undefined {
    if (this.#count >= MAX_LISTENERS) return undefined
    const keys: Array<string | null> = task !== '*' ? [] : states === undefined ? [null] : [...states]
    for (const k of keys) this.#allStates.set(k, (this.#allStates.get(k) ?? 0) + 1)
    let set = this.#byTask.get(task)
    if (set === undefined) { set = new Set(); this.#byTask.set(task, set) }
    set.add(listener)
    this.#count++
    let done = false
    return () => {
      if (done) return
      done = true
      set.delete(listener)
      this.#count--
      for (const k of keys) {
        const n = (this.#allStates.get(k) ?? 1) - 1
        if (n <= 0) this.#allStates.delete(k)
        else this.#allStates.set(k, n)
      }
      if (set.size === 0 && this.#byTask.get(task) === set) this.#byTask.delete(task)
    }
  }

  /** Whether anybody listens to this task's events (to skip building them otherwise). */
  watched (task: string, state?: string): boolean {
    return this.#byTask.has(task) || this.#allStates.has(null) || (state !== undefined && this.#allStates.has(state))
  }

  /** The task's recent log and progress events, oldest first. */
  recent (task: string): TaskEvent[] { return [...this.#backlog.get(task) ?? []] }

  /** The task ended: its backlog stays a little while for late watchers, then goes. */
  forget (task: string): void {
    this.#ended.delete(task)
    this.#ended.set(task, Date.now())
    this.#purge()
  }

  /** Whether the task ended here within the last ENDED_KEEP_MS (its backlog is still kept). */
  endedRecently (task: string): boolean {
    const at = this.#ended.get(task)
    return at !== undefined && at > Date.now() - ENDED_KEEP_MS
  }

  #purge (): void {
    const cutoff = Date.now() - ENDED_KEEP_MS
    for (const [task, at] of this.#ended) {
      if (at > cutoff) break
      this.#ended.delete(task)
      this.#backlog.delete(task)
    }
  }

  emit (event: TaskEvent): void {
    const id = event.type === 'state' ? event.task.id : event.task
    if (event.type !== 'state') this.#keep(id, event)
    for (const key of [id, '*']) {
      for (const listener of this.#byTask.get(key) ?? []) {
        try { listener(event) } catch { this.#byTask.get(key)?.delete(listener) }
      }
    }
  }

  #keep (task: string, event: TaskEvent): void {
    this.#purge()
    let list = this.#backlog.get(task)
    if (list === undefined) {
      if (this.#backlog.size >= BACKLOG_TASKS) this.#backlog.delete(this.#backlog.keys().next().value as string)
      list = []
      this.#backlog.set(task, list)
    }
    list.push(event)
    if (list.length > BACKLOG) list.shift()
  }
}
