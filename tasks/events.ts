/**
 * Task events for subscribers (SSE): state changes, log lines and progress, per task or for
 * all tasks ('*'). Listeners are called synchronously; a throwing listener is dropped, never
 * allowed to break the node. Bounded: at most MAX_LISTENERS subscribers at once. The last
 * BACKLOG log/progress events of each task (at most BACKLOG_BYTES of text; BACKLOGS_BYTES for
 * all tasks together and BACKLOG_TASKS tasks, the oldest task's going first) are kept while
 * it runs and for ENDED_KEEP_MS after it ends, so a subscriber who comes late (a remote
 * watcher, `logs --follow`, a relay whose stream opened as the task finished) first gets the
 * recent lines.
 *
 * Every event gets an id (`<epoch>.<seq>`: seq counts up from this instance's start, the
 * epoch tells a restarted node's ids apart), the SSE `id:`. A subscriber that comes back with
 * the last id it saw (`Last-Event-ID`) is replayed what it missed, where that is still held:
 * a task's backlog (above), and for '*' the last ALL_BACKLOG state changes (ALL_BACKLOG_BYTES
 * at most), built for RESUME_MS after the last '*' subscriber left so that one can resume.
 * Older ones are gone: the resumed stream then starts with the oldest event still held.
 */
import type { TaskEvent } from '../protocols/index.js'

export type TaskEventListener = (event: TaskEvent, id?: string) => void

interface Numbered { seq: number, event: TaskEvent, bytes: number }

/** Events oldest first, within a count and a size (roughly: the text they carry). */
class Recent {
  readonly items: Numbered[] = []
  bytes = 0
  constructor (readonly maxCount: number, readonly maxBytes: number) {}

  /** Adds the event; returns how many bytes that changed the held size by. */
  push (item: Numbered): number {
    const before = this.bytes
    this.items.push(item)
    this.bytes += item.bytes
    while (this.items.length > 1 && (this.items.length > this.maxCount || this.bytes > this.maxBytes)) this.bytes -= (this.items.shift() as Numbered).bytes
    return this.bytes - before
  }
}

/** About the memory an event holds: its text, or its JSON for a state change. */
function sizeOf (event: TaskEvent): number {
  switch (event.type) {
    case 'log': return 64 + event.line.length
    case 'token': return 64 + event.text.length
    case 'progress': return 64 + event.stage.length
    case 'state': return JSON.stringify(event.task).length
  }
}

const MAX_LISTENERS = 1024
const BACKLOG = 200
const BACKLOG_BYTES = 1024 * 1024
const BACKLOG_TASKS = 1000
/** All tasks' backlogs together: beyond it the oldest task's backlog goes. */
const BACKLOGS_BYTES = 32 * 1024 * 1024
const ENDED_KEEP_MS = 10_000
const ALL_BACKLOG = 1000
const ALL_BACKLOG_BYTES = 16 * 1024 * 1024
const RESUME_MS = 60_000

export class TaskEvents {
  readonly epoch = Date.now().toString(36)
  #seq = 0
  readonly #byTask = new Map<string, Set<TaskEventListener>>()
  readonly #backlog = new Map<string, Recent>()
  #backlogBytes = 0
  /** The latest state changes of all tasks, for '*' subscribers that resume. */
  readonly #allBacklog = new Recent(ALL_BACKLOG, ALL_BACKLOG_BYTES)
  #resumableUntil = 0
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
      if (task === '*') this.#resumableUntil = Date.now() + RESUME_MS
    }
  }

  /**
   * Calls `listener` with the held events after `lastEventId` (one of this instance's ids):
   * for a task, its backlog (all of it without a usable id); for '*', the state changes into
   * `states` (all states when not given) since that id (none without a usable id).
   */
  replay (task: string | '*', listener: TaskEventListener, options: { lastEventId?: string, states?: readonly string[] } = {}): void {
    const after = this.#seqOf(options.lastEventId)
    if (task === '*') {
      if (after === undefined) return
      for (const { seq, event } of this.#allBacklog.items) {
        if (seq > after && event.type === 'state' && (options.states === undefined || options.states.includes(event.task.state))) listener(event, this.#id(seq))
      }
      return
    }
    for (const { seq, event } of this.#backlog.get(task)?.items ?? []) if (seq > (after ?? 0)) listener(event, this.#id(seq))
  }

  #id (seq: number): string { return `${this.epoch}.${seq}` }

  /** The seq of one of this instance's ids; undefined for anything else (another epoch, garbage). */
  #seqOf (id: string | undefined): number | undefined {
    if (id === undefined || !id.startsWith(`${this.epoch}.`)) return undefined
    const seq = Number(id.slice(this.epoch.length + 1))
    return Number.isSafeInteger(seq) && seq >= 0 && seq <= this.#seq ? seq : undefined
  }

  /** Subscribers now (at most MAX_LISTENERS). */
  get subscribers (): number { return this.#count }

  /** Whether anybody listens to this task's events (to skip building them otherwise). */
  watched (task: string, state?: string): boolean {
    return this.#byTask.has(task) || this.#allStates.has(null) || (state !== undefined && this.#allStates.has(state)) || Date.now() < this.#resumableUntil
  }

  /** The task's recent log and progress events, oldest first. */
  recent (task: string): TaskEvent[] { return (this.#backlog.get(task)?.items ?? []).map(n => n.event) }

  /** What the backlogs hold now: events and their size (bytes of text, roughly). */
  held (): { tasks: number, events: number, bytes: number, allEvents: number, allBytes: number } {
    let events = 0
    for (const recent of this.#backlog.values()) events += recent.items.length
    return { tasks: this.#backlog.size, events, bytes: this.#backlogBytes, allEvents: this.#allBacklog.items.length, allBytes: this.#allBacklog.bytes }
  }

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
      this.#drop(task)
    }
  }

  #drop (task: string): void {
    this.#backlogBytes -= this.#backlog.get(task)?.bytes ?? 0
    this.#backlog.delete(task)
  }

  emit (event: TaskEvent): void {
    const task = event.type === 'state' ? event.task.id : event.task
    const seq = ++this.#seq
    if (event.type !== 'state') this.#keep(task, { seq, event, bytes: sizeOf(event) })
    else if (this.#allStates.size > 0 || Date.now() < this.#resumableUntil) this.#allBacklog.push({ seq, event, bytes: sizeOf(event) })
    const id = this.#id(seq)
    for (const key of [task, '*']) {
      for (const listener of this.#byTask.get(key) ?? []) {
        try { listener(event, id) } catch { this.#byTask.get(key)?.delete(listener) }
      }
    }
  }

  #keep (task: string, event: Numbered): void {
    this.#purge()
    let recent = this.#backlog.get(task)
    if (recent === undefined) {
      if (this.#backlog.size >= BACKLOG_TASKS) this.#drop(this.#backlog.keys().next().value as string)
      recent = new Recent(BACKLOG, BACKLOG_BYTES)
      this.#backlog.set(task, recent)
    }
    this.#backlogBytes += recent.push(event)
    // Over the budget of all backlogs: the oldest tasks' go (never the one just added to).
    for (const oldest of this.#backlog.keys()) {
      if (this.#backlogBytes <= BACKLOGS_BYTES || oldest === task) break
      this.#drop(oldest)
    }
  }
}
