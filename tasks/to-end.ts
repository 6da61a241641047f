/**
 * Submit a task and follow it to its end: the listener is attached before the task is written
 * (nothing is missed), `done` settles with the task's last view when it ends, or when no node
 * can ever run it (`blocked: impossible`). Events are the fast path; a poll of the ledger every
 * second is the safety net. Aborting `signal` (or `cancel()`) cancels the task, also one
 * that `done` reported blocked as impossible (it would otherwise wait in the ledger forever).
 */
import { isTerminal, type TaskEvent, type TaskViewT } from '../protocols/index.js'

export interface TaskOps {
  submitWatched: (body: unknown, listener: (event: TaskEvent) => void, options: { signal?: AbortSignal }) => Promise<{ id: string, off?: () => void }>
  get: (id: string) => Promise<TaskViewT>
  cancel: (id: string) => Promise<unknown>
}

export interface Running { id: string, done: Promise<TaskViewT>, cancel: () => void }

const POLL_MS = 1000

export const hasEnded = (view: TaskViewT): boolean => isTerminal(view.state) || view.blocked?.verdict === 'impossible'

export async function runToEnd (ops: TaskOps, body: unknown, options: { signal?: AbortSignal, onEvent?: (event: TaskEvent) => void } = {}): Promise<Running> {
  options.signal?.throwIfAborted()
  const { promise: done, resolve } = Promise.withResolvers<TaskViewT>()
  let settled = false
  let over = false // reached a terminal state: nothing left to cancel (a task blocked as impossible still is)
  const finish = (view: TaskViewT): void => { over ||= isTerminal(view.state); if (!settled) { settled = true; resolve(view) } }
  const reply = await ops.submitWatched(body, event => {
    if (event.type === 'state' && hasEnded(event.task)) finish(event.task)
    else options.onEvent?.(event)
  }, {})
  const poll = setInterval(() => { void ops.get(reply.id).then(v => { if (hasEnded(v)) finish(v) }, () => {}) }, POLL_MS)
  const cancel = (): void => { if (!over) void ops.cancel(reply.id).catch(() => {}) }
  options.signal?.addEventListener('abort', cancel, { once: true })
  void done.finally(() => { clearInterval(poll); reply.off?.(); options.signal?.removeEventListener('abort', cancel) })
  return { id: reply.id, done, cancel }
}
