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
  #count = 0

  /** Returns the function that unsubscribes; undefined when too many subscribers already. */
  subscribe (task: string | '*', listener: TaskEventListener): (() => void) | undefined {
    if (this.#count >= MAX_LISTENERS) return undefined
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
      if (set.size === 0 && this.#byTask.get(task) === set) this.#byTask.delete(task)
    }
  }

  /** Whether anybody listens to this task's events (to skip building them otherwise). */
  watched (task: string): boolean {
    return this.#byTask.has(task) || this.#byTask.has('*')
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
