/**
 * OpenAI-compatible endpoints, served by every node for the whole mesh (same bearer token):
 * GET /v1/models, GET /v1/models/:id, POST /v1/chat/completions (streaming or not; tools,
 * logprobs), POST /v1/completions (openai-completions.ts), POST /v1/embeddings. Each request
 * becomes a task (`generate` or `embed`) placed by the auction on the best node that has the
 * model; this node follows it to its end (openai-run.ts). Streamed tool calls come as OpenAI's
 * deltas (name first, then argument fragments) and a stream with log probabilities sends its
 * text a token a chunk, each with its log probability (openai-stream-parts.ts); both are known
 * only when the answer is whole, so they come after generation ends. Errors
 * carry OpenAI's `type`, `code` and `param` (openai-schemas.ts).
 */
import type { FastifyInstance } from 'fastify'
import type { ApiTasks } from './tasks.js'
import { vectorsOfResult } from '../kinds/vectors.js'
import {
  chatChunk, chatCompletion, chatTaskBody, embedTaskBody, embeddingsReply, modelList, modelObject, parseChatRequest,
  parseEmbeddingsRequest, requireModel, type GenerateOutcome,
} from './openai-convert.js'
import { cancelOnDisconnect, generateOutcome, outcomeOf, startTask, streamTask, type ApiModels, type StreamShape } from './openai-run.js'
import { completionRoute } from './openai-completions.js'
import { logprobPieces, toolCallDeltas } from './openai-stream-parts.js'

export { ModelRequestError, type ApiModels } from './openai-run.js'

export function openAiRoutes (app: FastifyInstance, tasks: ApiTasks, models: ApiModels): void {
  const open = new Set<() => void>()
  app.addHook('preClose', done => { for (const end of [...open]) end(); done() })

  app.get('/v1/models', async () => modelList(models.meshModels()))

  app.get('/v1/models/:id', async (request) => modelObject(requireModel((request.params as { id: string }).id, models.meshModels())))

  app.post('/v1/chat/completions', async (request, reply) => {
    const chat = parseChatRequest(request.body)
    requireModel(chat.model, models.meshModels())
    const body = chatTaskBody(chat)
    const created = Math.floor(Date.now() / 1000)
    if (chat.stream === true) return await streamTask(request, reply, tasks, body, chatShape(chat.model, created, chat.stream_options?.include_usage === true, chat.logprobs === true), open)
    const running = await startTask(tasks, body)
    cancelOnDisconnect(reply, running)
    const out = await generateOutcome(tasks, outcomeOf(await running.done))
    return reply.header('x-gryphgen-task', running.id).send(chatCompletion(`chatcmpl-${running.id}`, chat.model, created, out))
  })

  completionRoute(app, tasks, models, open)

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
 * Chat chunks: the role first, text as it comes (with log probabilities: the text a token a
 * chunk at the end, each with its log probability), then the rest, tool call deltas, the
 * finish and usage.
 */
function chatShape (model: string, created: number, includeUsage: boolean, logprobs: boolean): StreamShape {
  const chunk = (id: string, part: Parameters<typeof chatChunk>[3]): unknown => chatChunk(`chatcmpl-${id}`, model, created, part)
  return {
    holdText: logprobs,
    head: id => [chunk(id, { role: 'assistant', content: '' })],
    text: (id, text) => chunk(id, { content: text }),
    tail: (id, out: GenerateOutcome, rest) => [
      ...(out.logprobs === undefined
        ? (rest === '' ? [] : [chunk(id, { content: rest })])
        : logprobPieces(rest, out.logprobs).map(p => chunk(id, { content: p.text, logprobs: p.logprobs }))),
      ...toolCallDeltas(out.toolCalls ?? []).map(delta => chunk(id, { toolCallDelta: delta })),
      chunk(id, { finishReason: out.finishReason }),
      ...(includeUsage ? [chunk(id, { usage: out.usage })] : []),
    ],
  }
}
