/**
 * Task events for subscribers (SSE): state changes, log lines and progress, per task or for
 * all tasks ('*'). Listeners are called synchronously; a throwing listener is dropped, never
 * allowed to break the node. Bounded: at most MAX_LISTENERS subscribers at once.
 */
import type { TaskEvent } from '../../protocols/task.js'

export type TaskEventListener = (event: TaskEvent) => void

const MAX_LISTENERS = 1024

export class TaskEvents {
  readonly #byTask = new Map<string, Set<TaskEventListener>>()
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

  emit (event: TaskEvent): void {
    const id = event.type === 'state' ? event.task.id : event.task
    for (const key of [id, '*']) {
      for (const listener of this.#byTask.get(key) ?? []) {
        try { listener(event) } catch { this.#byTask.get(key)?.delete(listener) }
      }
    }
  }
}
