/**
 * Log lines, progress and generated text of a task that runs on another node, for subscribers here: while
 * anybody here watches a task whose current attempt runs elsewhere, one `follow` stream to
 * that node relays its events (validated: only `log`, `progress` and `token` events of that task).
 * When the attempt moves to another node, the stream moves with it. When the task ends, the
 * stream is left to drain (the serving node ends it once its last events are sent), for at
 * most DRAIN_MS: the end often arrives here, by the ledger, before the last relayed events.
 */
import { expectAuctionMessage, type TaskEvent } from '../protocols/index.js'
import { isTerminal, type TaskState } from '../ledger/index.js'
import type { Logger } from '../base/index.js'
import type { TaskEvents } from './events.js'
import type { AuctionWire } from './wire.js'

interface Following { holders: number, node?: string, abort?: AbortController }
const FOLLOW_RETRIES = 3
const DRAIN_MS = 5000
export interface FollowerComponents { wire: Pick<AuctionWire, 'exchange'>, events: TaskEvents, peerId: string, logger: Logger }

const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

/** Only a log line, progress report or generated text of this task, of sane size, is relayed. */
function relayable (e: Record<string, unknown>, task: string): boolean {
  if (e.task !== task) return false
  if (e.type === 'token') return typeof e.text === 'string' && e.text.length <= 4096 && isCount(e.offset) && isCount(e.tokens)
  if (e.type === 'log') return typeof e.line === 'string' && e.line.length <= 65_536 && ['stdout', 'stderr', 'worker'].includes(e.stream as string)
  return e.type === 'progress' && typeof e.stage === 'string' && e.stage.length <= 256
}

export class RemoteFollower {
  readonly #c: FollowerComponents
  readonly #tasks = new Map<string, Following>()
  readonly #draining = new Set<AbortController>()

  constructor (components: FollowerComponents) {
    this.#c = components
  }

  /** A subscriber holds the task's follow open; call the returned function to release. */
  hold (task: string): () => void {
    const f = this.#tasks.get(task) ?? { holders: 0 }
    f.holders++
    this.#tasks.set(task, f)
    let released = false
    return () => {
      if (released) return
      released = true
      if (--f.holders === 0) { f.abort?.abort(); this.#tasks.delete(task) }
    }
  }

  /** The task's state changed: follow its current runner if that is another node. */
  update (state: TaskState): void {
    const f = this.#tasks.get(state.id)
    if (f === undefined) return
    const attempt = state.attempts[state.attempts.length - 1]
    const node = attempt === undefined || attempt.outcome !== undefined || isTerminal(state.state) || attempt.node === this.#c.peerId ? undefined : attempt.node
    if (node === f.node) return
    if (isTerminal(state.state) && f.abort !== undefined) this.#drain(f.abort)
    else f.abort?.abort()
    f.node = node
    f.abort = undefined
    if (node === undefined) return
    const abort = new AbortController()
    f.abort = abort
    void this.#follow(state.id, node, abort.signal)
  }

  /** Relay from `node` until the task ends there or `signal` aborts; a broken stream is retried a few times. */
  async #follow (task: string, node: string, signal: AbortSignal): Promise<void> {
    for (let attempt = 0; attempt < FOLLOW_RETRIES && !signal.aborted; attempt++) {
      try {
        await this.#c.wire.exchange(node, { t: 'follow', task }, bytes => {
          const m = expectAuctionMessage(bytes, 'event')
          if (relayable(m.event, task)) this.#c.events.emit(m.event as unknown as TaskEvent)
          return true
        }, { signal, timeoutMs: 24 * 3600_000 })
        return
      } catch (err) {
        if (signal.aborted) return
        this.#c.logger.debug({ task, node, err: (err as Error).message }, 'follow failed; retrying')
        await new Promise(resolve => setTimeout(resolve, 200 * (attempt + 1)))
      }
    }
  }

  /** Lets a stream of an ended task finish by itself, aborting it after DRAIN_MS at the latest. */
  #drain (abort: AbortController): void {
    this.#draining.add(abort)
    const timer = setTimeout(() => { abort.abort() }, DRAIN_MS)
    timer.unref()
    abort.signal.addEventListener('abort', () => { clearTimeout(timer); this.#draining.delete(abort) }, { once: true })
  }

  stop (): void {
    for (const f of this.#tasks.values()) f.abort?.abort()
    for (const abort of this.#draining) abort.abort()
    this.#tasks.clear()
  }
}
