/**
 * Task routes: submit (202 once durable), read, list, cancel, events (SSE) and blobs.
 * The body of POST /v1/tasks is checked by the task's kind (node/tasks/kinds.ts), not by a
 * route schema, so its 400 lists the kind's problems; everything else is schema-first.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import Type from 'typebox'
import { isTerminal, SubmitReplySchema, TASK_STATES, TaskViewSchema, type SubmitReplyT, type TaskEvent, type TaskViewT, DIGEST_PATTERN } from '../../protocols/index.js'
import { TaskIdParams } from './schemas.js'

export interface ApiTasks {
  submit: (body: unknown, options: { signal?: AbortSignal }) => Promise<SubmitReplyT>
  /** Submit with `listener` subscribed before anything is written; call `off` when done. */
  submitWatched: (body: unknown, listener: (event: TaskEvent) => void, options: { signal?: AbortSignal }) => Promise<SubmitReplyT & { off?: () => void }>
  get: (id: string) => Promise<TaskViewT>
  list: (options: { state?: TaskViewT['state'], limit?: number }) => Promise<TaskViewT[]>
  /** A page of the list and the cursor of the next one (none: this was the last). */
  listPage: (options: { state?: TaskViewT['state'], limit: number, cursor?: string }) => Promise<{ tasks: TaskViewT[], nextCursor?: string }>
  cancel: (id: string) => Promise<TaskViewT>
  /**
   * Undefined when too many subscribers already. The listener gets each event's id (the SSE
   * `id`); with `lastEventId`, the held events after it are replayed first.
   */
  subscribe: (id: string | '*', listener: (event: TaskEvent, eventId?: string) => void, states?: readonly string[], lastEventId?: string) => (() => void) | undefined
  getBlob: (digest: string, options: { signal?: AbortSignal }) => Promise<Uint8Array>
  feedback: (id: string, body: { verdict: 'accept' | 'reject', note?: string }) => Promise<TaskViewT>
}

const FeedbackBody = Type.Object({ verdict: Type.Enum(['accept', 'reject']), note: Type.Optional(Type.String({ maxLength: 2048 })) }, { additionalProperties: false })

const ListQuery = Type.Object({
  state: Type.Optional(Type.Enum(TASK_STATES)),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  /** `nextCursor` of the page before: the list goes on from there (compacted and live tasks alike). */
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, pattern: '^[A-Za-z0-9_-]+$' })),
}, { additionalProperties: false })
/** `states=succeeded,failed`: only changes into these states. */
const EventsQuery = Type.Object({ states: Type.Optional(Type.String({ pattern: '^(pending|awarded|running|succeeded|failed|cancelled)(,(pending|awarded|running|succeeded|failed|cancelled))*$' })) }, { additionalProperties: false })
const DigestParams = Type.Object({ digest: Type.String({ pattern: DIGEST_PATTERN.source }) }, { additionalProperties: false })
const KEEPALIVE_MS = 15_000
/**
 * A client that does not read is dropped (its stream ends; it may reconnect with
 * Last-Event-ID): when more than MAX_SSE_BUFFERED_BYTES wait in the node for it (after the
 * kernel's socket buffer is full) and it takes none of them for SLOW_READER_MS, or at once
 * when MAX_SSE_QUEUED_BYTES wait (a burst, such as a backlog replayed, passes below that).
 * Frames are shared between streams, so what waits costs references more than copies.
 */
export const MAX_SSE_BUFFERED_BYTES = 64 * 1024
export const MAX_SSE_QUEUED_BYTES = 8 * 1024 * 1024
const SLOW_READER_MS = 10_000

type Listener = (event: TaskEvent, eventId?: string) => void

/**
 * An event as one SSE frame, made once however many streams send it: the same bytes go to
 * every subscriber (and, where a slow one buffers them, are held once, not once per stream).
 */
const frames = new WeakMap<TaskEvent, Buffer>()
function frameOf (event: TaskEvent, eventId: string | undefined): Buffer {
  let frame = eventId === undefined ? undefined : frames.get(event)
  if (frame === undefined) {
    const { type, ...data } = event
    frame = sseFrame(type, JSON.stringify(type === 'state' ? event.task : data), eventId)
    if (eventId !== undefined) frames.set(event, frame)
  }
  return frame
}

const sseFrame = (name: string, json: string, eventId?: string): Buffer => Buffer.from(`${eventId === undefined ? '' : `id: ${eventId}\n`}event: ${name}\ndata: ${json}\n\n`)

/** The client's Last-Event-ID header (when sane: an id is short). */
function lastEventId (headers: Record<string, string | string[] | undefined>): string | undefined {
  const value = headers['last-event-id']
  return typeof value === 'string' && value.length <= 64 ? value : undefined
}

export function taskRoutes (app: FastifyInstance, tasks: ApiTasks): void {
  // Event streams never end by themselves ('*') or only with their task: closing the API
  // ends them first, or the server would wait for them forever.
  const open = new Set<() => void>()
  app.addHook('preClose', done => { for (const end of [...open]) end(); done() })

  app.post('/v1/tasks', { schema: { response: { 202: SubmitReplySchema } } }, async (request, reply) => {
    return reply.code(202).send(await tasks.submit(request.body, {}))
  })

  app.get('/v1/tasks', { schema: { querystring: ListQuery, response: { 200: Type.Object({ tasks: Type.Array(TaskViewSchema), nextCursor: Type.Optional(Type.String()) }) } } }, async (request) => {
    const q = request.query as { state?: TaskViewT['state'], limit?: string, cursor?: string }
    const limit = Math.min(1000, Math.max(1, Number(q.limit ?? 100)))
    return tasks.listPage({ state: q.state, limit, cursor: q.cursor })
  })

  app.get('/v1/tasks/:id', { schema: { params: TaskIdParams, response: { 200: TaskViewSchema } } }, async (request) => {
    return tasks.get((request.params as { id: string }).id)
  })

  app.delete('/v1/tasks/:id', { schema: { params: TaskIdParams, response: { 202: TaskViewSchema } } }, async (request, reply) => {
    return reply.code(202).send(await tasks.cancel((request.params as { id: string }).id))
  })

  app.post('/v1/tasks/:id/feedback', { schema: { params: TaskIdParams, body: FeedbackBody, response: { 200: TaskViewSchema } } }, async (request) => {
    return tasks.feedback((request.params as { id: string }).id, request.body as { verdict: 'accept' | 'reject', note?: string })
  })

  app.get('/v1/tasks/:id/events', { schema: { params: TaskIdParams } }, async (request, reply) => {
    const { id } = request.params as { id: string }
    if (request.method === 'HEAD') { await tasks.get(id); return headOnly(reply) } // 404 for an unknown task, as GET
    // Subscribe before reading the task, so no change between the two is lost.
    const early: Array<[TaskEvent, string | undefined]> = []
    let forward: Listener | undefined
    const off = tasks.subscribe(id, (event, eventId) => { if (forward === undefined) early.push([event, eventId]); else forward(event, eventId) }, undefined, lastEventId(request.headers))
    let first: TaskViewT
    try {
      first = await tasks.get(id) // 404 before the stream starts
    } catch (err) {
      off?.()
      throw err
    }
    forward = stream(reply, id, first, off, open)
    for (const [event, eventId] of early) forward(event, eventId)
  })

  app.get('/v1/events', { schema: { querystring: EventsQuery } }, async (request, reply) => {
    if (request.method === 'HEAD') return headOnly(reply)
    const wanted = (request.query as { states?: string }).states?.split(',')
    const early: Array<[TaskEvent, string | undefined]> = []
    let forward: Listener | undefined
    const off = tasks.subscribe('*', (event, eventId) => {
      if (event.type !== 'state' || (wanted !== undefined && !wanted.includes(event.task.state))) return
      if (forward === undefined) early.push([event, eventId]); else forward(event, eventId)
    }, wanted, lastEventId(request.headers))
    forward = stream(reply, '*', undefined, off, open)
    for (const [event, eventId] of early) forward(event, eventId)
  })

  app.get('/v1/blobs/:digest', { schema: { params: DigestParams } }, async (request, reply) => {
    const { digest } = request.params as { digest: string }
    const signal = AbortSignal.timeout(60_000)
    const bytes = await tasks.getBlob(digest, { signal })
    return reply.header('content-type', 'application/octet-stream').header('cache-control', 'public, max-age=31536000, immutable').send(Buffer.from(bytes))
  })
}

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' }

/** HEAD on an event stream (fastify routes HEAD to the GET handler): the stream's headers, no body, at once. */
function headOnly (reply: FastifyReply): FastifyReply {
  return reply.code(200).headers(SSE_HEADERS).send()
}

/**
 * Server-Sent Events: `state`, `log`, `progress`, and `end` once the task is over, each with
 * its `id` (the initial state has none: it is the current state, not an event). `off`
 * unsubscribes (undefined: too many subscribers). A client that does not read is dropped
 * (see MAX_SSE_BUFFERED_BYTES). Returns the function that writes an event.
 */
function stream (reply: FastifyReply, id: string, first: TaskViewT | undefined, off: (() => void) | undefined, open: Set<() => void>): Listener {
  reply.hijack()
  const res = reply.raw
  let ended = false
  res.writeHead(200, { ...SSE_HEADERS, connection: 'keep-alive' })
  // Headers go out now, not with the first event (a quiet stream would look stalled).
  res.write(': connected\n\n')
  let slow: NodeJS.Timeout | undefined
  const drop = (): void => {
    reply.log.debug({ stream: id, buffered: res.writableLength }, 'event stream dropped: the client does not read')
    end()
    res.destroy()
  }
  // Frames written in one turn of the event loop go out in one socket write (a write group
  // ends many tasks at once: one syscall for their events, not one each).
  let corked = false
  const uncork = (): void => { corked = false; res.uncork() }
  const send = (frame: Buffer | string): void => {
    if (ended) return
    if (res.writableLength > MAX_SSE_QUEUED_BYTES) { drop(); return }
    if (!corked) { corked = true; res.cork(); process.nextTick(uncork) }
    res.write(frame)
    if (res.writableLength > MAX_SSE_BUFFERED_BYTES && slow === undefined) {
      slow = setTimeout(drop, SLOW_READER_MS)
      res.once('drain', () => { clearTimeout(slow); slow = undefined })
    }
  }
  const keepalive = setInterval(() => { send(': keepalive\n\n') }, KEEPALIVE_MS)
  const end = (): void => {
    if (ended) return
    ended = true
    open.delete(end)
    clearInterval(keepalive)
    clearTimeout(slow)
    off?.()
    if (!res.writableEnded) res.end()
  }
  open.add(end)
  res.on('close', end)
  const forward = (event: TaskEvent, eventId?: string): void => {
    send(frameOf(event, eventId))
    if (event.type === 'state' && id !== '*' && isTerminal(event.task.state)) { send(sseFrame('end', JSON.stringify({ state: event.task.state }))); end() }
  }
  if (off === undefined) { send(sseFrame('error', JSON.stringify({ name: 'TooManySubscribersError', message: 'too many event subscribers; try again later' }))); end(); return forward }
  if (first !== undefined) forward({ type: 'state', task: first })
  return forward
}
