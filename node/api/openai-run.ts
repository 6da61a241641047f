/**
 * Running an OpenAI request as a task and relaying it: the task started and followed to its
 * end, its outcome or the error it answers with, and server-sent events for a streamed
 * answer. Text is relayed only in order (each token event's offset must be where the text so
 * far ends); anything missed on the way (a relay that came late) is sent from the final
 * result, so the chunks always add up to the result's text. Headers wait for the first text,
 * so a request that fails before it (a prompt over the context) still gets its 4xx. A client
 * that goes away cancels its task.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { TaskEvent, TaskViewT } from '../../protocols/index.js'
import { GryphgenError } from '../../base/index.js'
import { runToEnd, type Running } from '../../tasks/index.js'
import type { ApiTasks } from './tasks.js'
import type { GenerateOutcome } from './openai-convert.js'
import type { MeshModel } from '../models/index.js'

export interface ApiModels { meshModels: () => MeshModel[] }

/** The task behind a request failed; `name` is the model worker's error (PromptTooLongError...). */
export class ModelRequestError extends GryphgenError {
  constructor (readonly errorName: string, message: string, readonly code: string | null, details?: unknown, readonly param: string | null = null) {
    super(message, { details })
  }
}

/** OpenAI's `code` and `param` for the worker errors that are the request's fault. */
const OPENAI_ERRORS: Record<string, { code: string, param: string | null }> = {
  PromptTooLongError: { code: 'context_length_exceeded', param: null },
  InfillNotSupportedError: { code: 'unsupported_value', param: 'suffix' },
}

const KEEPALIVE_MS = 15_000

export const startTask = async (tasks: ApiTasks, body: Record<string, unknown>, onEvent?: (event: TaskEvent) => void): Promise<Running> => runToEnd(tasks, body, { onEvent })

/** The finished task's outcome, or the error the request answers with. */
export function outcomeOf (view: TaskViewT): Record<string, unknown> {
  if (view.state === 'succeeded' && view.result !== undefined) return view.result
  if (view.blocked?.verdict === 'impossible') {
    throw new ModelRequestError('ModelNotServedError', `no node can run this request: ${view.blocked.reasons.map(r => r.reason).join('; ')}`, 'model_not_found')
  }
  const error = (view.result?.error ?? {}) as { name?: string, message?: string, details?: unknown }
  const name = error.name ?? (view.state === 'cancelled' ? 'TaskCancelledError' : 'ModelRunError')
  const openai = OPENAI_ERRORS[name]
  throw new ModelRequestError(name, error.message ?? view.error ?? `task ${view.id} ${view.state}`, openai?.code ?? null, error.details, openai?.param ?? null)
}

/** A client that disconnects before its answer cancels the task. */
export function cancelOnDisconnect (reply: FastifyReply, running: Running): void {
  reply.raw.on('close', () => { if (!reply.raw.writableFinished) running.cancel() })
}

/** The generate result as the routes use it, its whole text fetched from the blob store when it was large. */
export async function generateOutcome (tasks: ApiTasks, result: Record<string, unknown>): Promise<GenerateOutcome> {
  const blob = result.textBlob as { digest: string } | undefined
  const text = blob === undefined ? result.text as string : Buffer.from(await tasks.getBlob(blob.digest, { signal: AbortSignal.timeout(60_000) })).toString('utf8')
  return {
    text,
    finishReason: result.finishReason as GenerateOutcome['finishReason'],
    usage: result.usage as GenerateOutcome['usage'],
    ...(result.toolCalls === undefined ? {} : { toolCalls: result.toolCalls as GenerateOutcome['toolCalls'] }),
    ...(result.logprobs === undefined ? {} : { logprobs: result.logprobs as GenerateOutcome['logprobs'] }),
  }
}

/** How one route's chunks look. */
export interface StreamShape {
  /** Text is not relayed as it comes but sent whole by `tail` (a stream with log probabilities: they come with the text). */
  holdText?: boolean
  /** The first chunk, once headers are out (chat: the role). */
  head: (id: string) => unknown[]
  text: (id: string, text: string) => unknown
  /** The last chunks: `rest` is the text not relayed yet. */
  tail: (id: string, outcome: GenerateOutcome, rest: string) => unknown[]
}

export async function streamTask (request: FastifyRequest, reply: FastifyReply, tasks: ApiTasks, body: Record<string, unknown>, shape: StreamShape, open: Set<() => void>): Promise<void> {
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
    for (const chunk of shape.head(id)) data(chunk)
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
    if (event.type !== 'token' || ended || event.offset !== sent.length || shape.holdText === true) return
    start()
    sent += event.text
    data(shape.text(id, event.text))
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
  const outcome = await generateOutcome(tasks, result)
  const rest = outcome.text.startsWith(sent) ? outcome.text.slice(sent.length) : ''
  for (const chunk of shape.tail(id, outcome, rest)) data(chunk)
  if (!gone()) res.write('data: [DONE]\n\n')
  end()
  request.log.debug({ task: id, chars: outcome.text.length }, 'completion streamed')
}
