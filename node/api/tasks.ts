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
  /** Undefined when too many subscribers already. */
  subscribe: (id: string | '*', listener: (event: TaskEvent) => void, states?: readonly string[]) => (() => void) | undefined
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
    const early: TaskEvent[] = []
    let forward: ((event: TaskEvent) => void) | undefined
    const off = tasks.subscribe(id, event => { if (forward === undefined) early.push(event); else forward(event) })
    let first: TaskViewT
    try {
      first = await tasks.get(id) // 404 before the stream starts
    } catch (err) {
      off?.()
      throw err
    }
    forward = stream(reply, id, first, off, open)
    for (const event of early) forward(event)
  })

  app.get('/v1/events', { schema: { querystring: EventsQuery } }, async (request, reply) => {
    if (request.method === 'HEAD') return headOnly(reply)
    const wanted = (request.query as { states?: string }).states?.split(',')
    let forward: ((event: TaskEvent) => void) | undefined
    const off = tasks.subscribe('*', event => {
      if (event.type === 'state' && (wanted === undefined || wanted.includes(event.task.state))) forward?.(event)
    }, wanted)
    forward = stream(reply, '*', undefined, off, open)
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
 * Server-Sent Events: `state`, `log`, `progress`, and `end` once the task is over. `off`
 * unsubscribes (undefined: too many subscribers). Returns the function that writes an event.
 */
function stream (reply: FastifyReply, id: string, first: TaskViewT | undefined, off: (() => void) | undefined, open: Set<() => void>): (event: TaskEvent) => void {
  reply.hijack()
  const res = reply.raw
  res.writeHead(200, { ...SSE_HEADERS, connection: 'keep-alive' })
  // Headers go out now, not with the first event (a quiet stream would look stalled).
  res.write(': connected\n\n')
  let ended = false
  const write = (name: string, data: unknown): void => { if (!ended) res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`) }
  const keepalive = setInterval(() => { res.write(': keepalive\n\n') }, KEEPALIVE_MS)
  const end = (): void => {
    if (ended) return
    ended = true
    open.delete(end)
    clearInterval(keepalive)
    off?.()
    if (!res.writableEnded) res.end()
  }
  open.add(end)
  res.on('close', end)
  const forward = (event: TaskEvent): void => {
    if (event.type === 'state') {
      write('state', event.task)
      if (id !== '*' && isTerminal(event.task.state)) { write('end', { state: event.task.state }); end() }
      return
    }
    const { type, ...data } = event
    write(type, data)
  }
  if (off === undefined) { write('error', { name: 'TooManySubscribersError', message: 'too many event subscribers; try again later' }); end(); return forward }
  if (first !== undefined) forward({ type: 'state', task: first })
  return forward
}
