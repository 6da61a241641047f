/**
 * Follow one task until it is settled (over, or impossible): its event stream first; while
 * it streams, a GET now and then (a state change between the node's first read and its
 * subscription would otherwise be missed); and when the stream breaks, polling
 * GET /v1/tasks/:id with a growing, bounded interval. Every wait is bounded: a silent stream
 * is dropped after `idleMs`, and a node unreachable for `unreachableMs` ends the follow with
 * its error. The caller's signal aborts it all (thrown as the signal's reason).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { TaskViewT } from '../../../protocols/index.js'
import { ApiError } from '../../../base/index.js'
import { apiRequest, type LocalNode } from '../client.js'
import { readEvents, type SseEvent } from '../sse.js'
import { isSettled } from './task-format.js'

export interface TaskLog { stream: string, line: string }
export interface TaskProgressEvent { stage: string, done?: number, total?: number }

export interface FollowOptions {
  signal: AbortSignal
  onState?: (view: TaskViewT) => void
  onLog?: (log: TaskLog) => void
  onProgress?: (progress: TaskProgressEvent) => void
  pollMs?: { min: number, max: number }
  idleMs?: number
  recheckMs?: number
  unreachableMs?: number
}

const DEFAULTS = { pollMs: { min: 200, max: 2000 }, idleMs: 40_000, recheckMs: 10_000, unreachableMs: 30_000 }

const taskPath = (id: string): string => `/v1/tasks/${encodeURIComponent(id)}`

export async function getTask (node: LocalNode, id: string, signal?: AbortSignal): Promise<TaskViewT> {
  return apiRequest<TaskViewT>(node, 'GET', taskPath(id), { signal: signal === undefined ? undefined : AbortSignal.any([signal, AbortSignal.timeout(10_000)]) })
}

/** The task's last view once it is settled. */
export async function followTask (node: LocalNode, id: string, options: FollowOptions): Promise<TaskViewT> {
  const o = { ...DEFAULTS, ...options }
  let last: TaskViewT | undefined
  const seen = (view: TaskViewT): boolean => {
    last = view
    o.onState?.(view)
    return isSettled(view)
  }

  const streaming = new AbortController()
  const signal = AbortSignal.any([o.signal, streaming.signal])
  const recheck = setInterval(() => {
    getTask(node, id, signal).then(view => { if (isSettled(view)) { seen(view); streaming.abort() } }, () => {})
  }, o.recheckMs)
  try {
    await readEvents(node, `${taskPath(id)}/events`, {
      signal,
      idleMs: o.idleMs,
      onEvent: (event: SseEvent) => {
        if (event.event === 'state') return seen(JSON.parse(event.data) as TaskViewT)
        if (event.event === 'log') o.onLog?.(JSON.parse(event.data) as TaskLog)
        if (event.event === 'progress') o.onProgress?.(JSON.parse(event.data) as TaskProgressEvent)
        // `end` closes the stream; `error` (too many subscribers) means: poll instead.
        return event.event === 'end' || event.event === 'error'
      },
    })
  } catch (err) {
    if (o.signal.aborted || !streaming.signal.aborted) throw err
  } finally {
    clearInterval(recheck)
  }
  if (last !== undefined && isSettled(last)) return last
  return pollTask(node, id, o, seen)
}

async function pollTask (node: LocalNode, id: string, o: typeof DEFAULTS & FollowOptions, seen: (view: TaskViewT) => boolean): Promise<TaskViewT> {
  let interval = o.pollMs.min
  let reachedAt = Date.now()
  for (;;) {
    try {
      const view = await getTask(node, id, o.signal)
      reachedAt = Date.now()
      if (seen(view)) return view
    } catch (err) {
      if (o.signal.aborted) throw o.signal.reason
      const transient = err instanceof ApiError ? err.status >= 500 : (err as Error).name === 'NodeNotRunningError'
      if (!transient || Date.now() - reachedAt > o.unreachableMs) throw err
    }
    await sleep(interval, undefined, { signal: o.signal }).catch(() => { throw o.signal.reason })
    interval = Math.min(o.pollMs.max, interval * 2)
  }
}
