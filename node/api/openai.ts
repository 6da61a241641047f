/**
 * OpenAI-compatible endpoints, served by every node for the whole mesh (same bearer token):
 * GET /v1/models, GET /v1/models/:id, POST /v1/chat/completions (streaming or not),
 * POST /v1/embeddings. Each request becomes a task (`generate` or `embed`) placed by the
 * auction on the best node that has the model; this node follows it to its end. Streaming
 * relays the task's `token` events as chunks; headers wait for the first text, so a request
 * that fails before it (a prompt over the context) still gets its 4xx. A client that goes
 * away cancels its task. Errors carry OpenAI's `type`, `code` and `param`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TaskEvent, TaskViewT } from '../../protocols/index.js'
import type { MeshModel } from '../models/index.js'
import { GryphgenError } from '../../base/index.js'
import type { ApiTasks } from './tasks.js'
import { runToEnd, type Running } from '../../tasks/index.js'
import { vectorsOfResult } from '../kinds/vectors.js'
import {
  chatChunk, chatCompletion, chatTaskBody, embedTaskBody, embeddingsReply, modelList, modelObject, parseChatRequest,
  parseEmbeddingsRequest, requireModel, type GenerateOutcome,
} from './openai-convert.js'

export interface ApiModels { meshModels: () => MeshModel[] }

/** The task behind a request failed; `name` is the model worker's error (PromptTooLongError...). */
export class ModelRequestError extends GryphgenError {
  constructor (readonly errorName: string, message: string, readonly code: string | null, details?: unknown) {
    super(message, { details })
  }
}

const KEEPALIVE_MS = 15_000

const startTask = async (tasks: ApiTasks, body: Record<string, unknown>, onEvent?: (event: TaskEvent) => void): Promise<Running> => runToEnd(tasks, body, { onEvent })

/** The finished task's outcome, or the error the request answers with. */
function outcomeOf (view: TaskViewT): Record<string, unknown> {
  if (view.state === 'succeeded' && view.result !== undefined) return view.result
  if (view.blocked?.verdict === 'impossible') {
    throw new ModelRequestError('ModelNotServedError', `no node can run this request: ${view.blocked.reasons.map(r => r.reason).join('; ')}`, 'model_not_found')
  }
  const error = (view.result?.error ?? {}) as { name?: string, message?: string, details?: unknown }
  const name = error.name ?? (view.state === 'cancelled' ? 'TaskCancelledError' : 'ModelRunError')
  const code = name === 'PromptTooLongError' ? 'context_length_exceeded' : null
  throw new ModelRequestError(name, error.message ?? view.error ?? `task ${view.id} ${view.state}`, code, error.details)
}

/** A client that disconnects before its answer cancels the task. */
function cancelOnDisconnect (reply: FastifyReply, running: Running): void {
  reply.raw.on('close', () => { if (!reply.raw.writableFinished) running.cancel() })
}

async function fullText (tasks: ApiTasks, result: Record<string, unknown>): Promise<string> {
  const blob = result.textBlob as { digest: string } | undefined
  if (blob === undefined) return result.text as string
  return Buffer.from(await tasks.getBlob(blob.digest, { signal: AbortSignal.timeout(60_000) })).toString('utf8')
}

export function openAiRoutes (app: FastifyInstance, tasks: ApiTasks, models: ApiModels): void {
  const open = new Set<() => void>()
  app.addHook('preClose', done => { for (const end of [...open]) end(); done() })

  app.get('/v1/models', async () => modelList(models.meshModels()))

  app.get('/v1/models/:id', async (request) => modelObject(requireModel((request.params as { id: string }).id, models.meshModels())))

  app.post('/v1/chat/completions', async (request, reply) => {
    const chat = parseChatRequest(request.body)
    requireModel(chat.model, models.meshModels())
    const created = Math.floor(Date.now() / 1000)
    if (chat.stream === true) return streamChat(request, reply, tasks, chat.model, created, chatTaskBody(chat), chat.stream_options?.include_usage === true, open)
    const running = await startTask(tasks, chatTaskBody(chat))
    cancelOnDisconnect(reply, running)
    const result = outcomeOf(await running.done)
    const out: GenerateOutcome = { text: await fullText(tasks, result), finishReason: result.finishReason as GenerateOutcome['finishReason'], usage: result.usage as GenerateOutcome['usage'] }
    return reply.header('x-gryphgen-task', running.id).send(chatCompletion(`chatcmpl-${running.id}`, chat.model, created, out))
  })

  app.post('/v1/embeddings', async (request, reply) => {
    const embed = parseEmbeddingsRequest(request.body)
    requireModel(embed.model, models.meshModels())
    const running = await startTask(tasks, embedTaskBody(embed))
    cancelOnDisconnect(reply, running)
    const result = outcomeOf(await running.done)
    const usage = result.usage as { promptTokens: number }
    const vectors = await vectorsOfResult(result, { get: tasks.getBlob }, AbortSignal.timeout(60_000))
    return reply.header('x-gryphgen-task', running.id).send(embeddingsReply(embed.model, vectors, usage.promptTokens, embed.encoding_format ?? 'float'))
  })
}

/**
 * Streams a chat completion. Text is relayed only in order (each token event's offset must be
 * where the text so far ends); anything missed on the way (a relay that came late) is sent
 * from the final result, so the chunks always add up to the result's text.
 */
async function streamChat (request: FastifyRequest, reply: FastifyReply, tasks: ApiTasks, model: string, created: number, body: Record<string, unknown>, includeUsage: boolean, open: Set<() => void>): Promise<void> {
  let sent = ''
  let started = false
  let ended = false
  let id = ''
  let keepalive: NodeJS.Timeout | undefined
  const res = reply.raw
  const gone = (): boolean => ended || res.writableEnded || res.destroyed
  const data = (value: unknown): void => { if (!gone()) res.write(`data: ${JSON.stringify(value)}\n\n`) }
  const start = (): void => {
    if (started) return
    started = true
    reply.hijack()
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no', 'x-gryphgen-task': id })
    data(chatChunk(`chatcmpl-${id}`, model, created, { role: 'assistant', content: '' }))
    keepalive = setInterval(() => { if (!gone()) res.write(': keepalive\n\n') }, KEEPALIVE_MS)
  }
  const end = (): void => {
    if (ended) return
    ended = true
    open.delete(end)
    clearInterval(keepalive)
    if (started && !res.writableEnded) res.end()
  }
  const running = await startTask(tasks, body, event => {
    if (event.type !== 'token' || ended || event.offset !== sent.length) return
    start()
    sent += event.text
    data(chatChunk(`chatcmpl-${id}`, model, created, { content: event.text }))
  })
  id = running.id
  open.add(end)
  cancelOnDisconnect(reply, running)
  // A model that takes long to load: headers (and keepalives) go out before the first token.
  const early = setTimeout(start, KEEPALIVE_MS)
  let view: TaskViewT
  try {
    view = await running.done
  } finally {
    clearTimeout(early)
  }
  let result: Record<string, unknown>
  try {
    result = outcomeOf(view)
  } catch (err) {
    if (!started) { end(); throw err }
    const e = err as ModelRequestError
    data({ error: { message: e.message, type: 'server_error', code: e.code, param: null, name: e.errorName } })
    end()
    return
  }
  start()
  const text = await fullText(tasks, result)
  if (text.startsWith(sent) && text.length > sent.length) data(chatChunk(`chatcmpl-${id}`, model, created, { content: text.slice(sent.length) }))
  data(chatChunk(`chatcmpl-${id}`, model, created, { finishReason: result.finishReason as 'stop' | 'length' }))
  if (includeUsage) data(chatChunk(`chatcmpl-${id}`, model, created, { usage: result.usage as GenerateOutcome['usage'] }))
  if (!gone()) res.write('data: [DONE]\n\n')
  end()
  request.log.debug({ task: id, chars: text.length }, 'chat completion streamed')
}
