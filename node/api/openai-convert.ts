/**
 * OpenAI-compatible requests and replies (pure): a chat completion or embeddings request is
 * checked (every problem named, unknown or unsupported parameters refused rather than
 * ignored) and turned into a gryphgen task body; a finished task becomes the OpenAI reply.
 */
import { GryphgenError } from '../../base/index.js'
import type { TokenLogprob, ToolCall } from '../../protocols/index.js'
import type { MeshModel } from '../models/index.js'
import type { ToolCallDelta } from './openai-stream-parts.js'
import { InvalidRequestError, type ChatRequestT, type CompletionRequestT, type EmbeddingsRequestT } from './openai-schemas.js'

export { InvalidRequestError, parseChatRequest, parseCompletionRequest, parseEmbeddingsRequest, type ChatRequestT, type CompletionRequestT, type EmbeddingsRequestT } from './openai-schemas.js'

/** The model must be in the mesh now: otherwise OpenAI's 404 `model_not_found`. */
export function requireModel (name: string, models: readonly MeshModel[]): MeshModel {
  const found = models.find(m => m.name === name)
  if (found === undefined) {
    const known = models.map(m => m.name)
    throw new ModelNotServedError(`the model \`${name}\` does not exist in this mesh (${known.length === 0 ? 'no node has a model yet: gryphgen model add PATH.gguf' : `available: ${known.slice(0, 20).join(', ')}`})`)
  }
  return found
}

export class ModelNotServedError extends GryphgenError {
  readonly param = 'model'
  readonly code = 'model_not_found'
}

const text = (content: ChatRequestT['messages'][number]['content']): string => typeof content === 'string' ? content : content === null || content === undefined ? '' : content.map(p => p.text).join('')

/** The chat request as a `generate` task body. */
export function chatTaskBody (request: ChatRequestT): Record<string, unknown> {
  const messages = request.messages.map(m => {
    if (m.role === 'tool') return { role: 'tool', content: text(m.content), toolCallId: m.tool_call_id }
    if (m.role === 'assistant') {
      const toolCalls = m.tool_calls?.map(c => ({ id: c.id, name: c.function.name, arguments: c.function.arguments }))
      return { role: 'assistant', content: text(m.content), ...(toolCalls === undefined || toolCalls.length === 0 ? {} : { toolCalls }) }
    }
    return { role: m.role === 'developer' ? 'system' : m.role, content: text(m.content) }
  })
  const format = request.response_format
  const jsonSchema = format?.type === 'json_object'
    ? { type: 'object', additionalProperties: true }
    : format?.type === 'json_schema' ? format.json_schema.schema ?? { type: 'object', additionalProperties: true } : undefined
  if (request.top_logprobs !== undefined && request.top_logprobs !== null && request.logprobs !== true) {
    throw new InvalidRequestError('`top_logprobs` needs `logprobs: true`', { param: 'top_logprobs', code: 'unsupported_value' })
  }
  const choice = request.tool_choice
  return {
    ...samplingBody(request),
    messages,
    ...(jsonSchema === undefined ? {} : { jsonSchema }),
    ...(request.max_completion_tokens === undefined || request.max_completion_tokens === null ? {} : { maxTokens: request.max_completion_tokens }),
    ...(request.logprobs === true ? { logprobs: true, topLogprobs: request.top_logprobs ?? 0 } : {}),
    ...(request.tools === undefined ? {} : { tools: request.tools.map(t => ({ name: t.function.name, ...(t.function.description === undefined ? {} : { description: t.function.description }), ...(t.function.parameters === undefined ? {} : { parameters: t.function.parameters }) })) }),
    ...(choice === undefined ? {} : { toolChoice: typeof choice === 'string' ? choice : { name: choice.function.name } }),
    ...(request.parallel_tool_calls === undefined || request.parallel_tool_calls === null ? {} : { parallelToolCalls: request.parallel_tool_calls }),
  }
}

/** One prompt of a completion request as a `generate` task body (a raw prompt: no chat template). */
export function completionTaskBody (request: CompletionRequestT, prompt: string): Record<string, unknown> {
  const logprobs = request.logprobs ?? undefined
  const suffix = request.suffix ?? ''
  return { ...samplingBody(request), prompt, ...(suffix === '' ? {} : { suffix }), ...(logprobs === undefined ? {} : { logprobs: true, topLogprobs: logprobs }) }
}

const SAMPLING_FIELDS = [['temperature', 'temperature'], ['top_p', 'topP'], ['seed', 'seed'], ['presence_penalty', 'presencePenalty'], ['frequency_penalty', 'frequencyPenalty'], ['repeat_penalty', 'repeatPenalty'], ['top_k', 'topK'], ['min_p', 'minP'], ['max_tokens', 'maxTokens']] as const

function samplingBody (request: ChatRequestT | CompletionRequestT): Record<string, unknown> {
  const stop = request.stop === undefined || request.stop === null ? undefined : typeof request.stop === 'string' ? [request.stop] : request.stop
  const fields = SAMPLING_FIELDS.filter(([from]) => request[from] !== undefined && request[from] !== null).map(([from, to]) => [to, request[from]])
  return { kind: 'generate', model: request.model, ...Object.fromEntries(fields), ...(stop === undefined || stop.length === 0 ? {} : { stop }) }
}

export function embedTaskBody (request: EmbeddingsRequestT): Record<string, unknown> {
  return { kind: 'embed', model: request.model, texts: typeof request.input === 'string' ? [request.input] : request.input }
}

export interface GenerateOutcome {
  text: string
  finishReason: 'stop' | 'length' | 'tool_calls'
  usage: { promptTokens: number, completionTokens: number }
  toolCalls?: ToolCall[]
  logprobs?: TokenLogprob[]
}

const usage = (u: GenerateOutcome['usage']): Record<string, number> => ({ prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.promptTokens + u.completionTokens })

export function chatCompletion (id: string, model: string, created: number, out: GenerateOutcome): Record<string, unknown> {
  return {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message: assistantMessage(out), finish_reason: out.finishReason, logprobs: chatLogprobs(out.logprobs) }],
    usage: usage(out.usage),
  }
}

/** One streamed chunk: a delta of text or tool calls, or (with finishReason) the last one, or (usage) the usage-only one. */
export function chatChunk (id: string, model: string, created: number, part: ChunkPart): Record<string, unknown> {
  const delta = {
    ...(part.role === undefined ? {} : { role: part.role }),
    ...(part.content === undefined ? {} : { content: part.content }),
    ...(part.toolCallDelta === undefined ? {} : { tool_calls: [part.toolCallDelta] }),
  }
  const choices = part.usage !== undefined ? [] : [{ index: 0, delta, finish_reason: part.finishReason ?? null, logprobs: chatLogprobs(part.logprobs) }]
  return { id, object: 'chat.completion.chunk', created, model, choices, ...(part.usage === undefined ? {} : { usage: usage(part.usage) }) }
}

export interface ChunkPart {
  content?: string
  role?: 'assistant'
  finishReason?: GenerateOutcome['finishReason']
  usage?: GenerateOutcome['usage']
  toolCallDelta?: ToolCallDelta
  logprobs?: TokenLogprob[]
}

const toolCall = (c: ToolCall): Record<string, unknown> => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })

function assistantMessage (out: GenerateOutcome): Record<string, unknown> {
  const calls = out.toolCalls ?? []
  return { role: 'assistant', content: calls.length > 0 && out.text === '' ? null : out.text, refusal: null, ...(calls.length === 0 ? {} : { tool_calls: calls.map(toolCall) }) }
}

function chatLogprobs (logprobs: readonly TokenLogprob[] | undefined): Record<string, unknown> | null {
  if (logprobs === undefined) return null
  return { content: logprobs.map(l => ({ token: l.token, logprob: l.logprob, bytes: l.bytes, top_logprobs: l.top })), refusal: null }
}

/** A completion's logprobs in the legacy shape: parallel arrays, alternatives as token → logprob. */
export function completionLogprobs (logprobs: readonly TokenLogprob[] | undefined, startOffset = 0): Record<string, unknown> | null {
  if (logprobs === undefined) return null
  const offsets: number[] = []
  let at = startOffset
  for (const l of logprobs) { offsets.push(at); at += l.token.length }
  return { tokens: logprobs.map(l => l.token), token_logprobs: logprobs.map(l => l.logprob), top_logprobs: logprobs.map(l => Object.fromEntries(l.top.map(t => [t.token, t.logprob]))), text_offset: offsets }
}

/** A finished (or, with `object` text_completion and no usage, streamed) text completion. */
export function textCompletion (id: string, model: string, created: number, choices: Array<{ text: string, finishReason: string | null, logprobs?: TokenLogprob[] }>, total?: GenerateOutcome['usage']): Record<string, unknown> {
  return {
    id,
    object: 'text_completion',
    created,
    model,
    choices: choices.map((c, index) => ({ index, text: c.text, finish_reason: c.finishReason, logprobs: completionLogprobs(c.logprobs) })),
    ...(total === undefined ? {} : { usage: usage(total) }),
  }
}

/** Vectors as OpenAI returns them; `base64` is each vector's little-endian float32 bytes. */
export function embeddingsReply (model: string, vectors: readonly number[][], promptTokens: number, format: 'float' | 'base64'): Record<string, unknown> {
  return {
    object: 'list',
    model,
    data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: format === 'float' ? v : float32Base64(v) })),
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  }
}

function float32Base64 (vector: readonly number[]): string {
  const buffer = Buffer.alloc(vector.length * 4)
  vector.forEach((v, i) => buffer.writeFloatLE(v, i * 4))
  return buffer.toString('base64')
}

export function modelList (models: readonly MeshModel[]): Record<string, unknown> {
  return { object: 'list', data: models.map(modelObject) }
}

export function modelObject (m: MeshModel): Record<string, unknown> {
  return {
    id: m.name,
    object: 'model',
    created: 0,
    owned_by: 'gryphgen',
    gryphgen: {
      nodes: m.nodes,
      loaded_on: m.loadedOn,
      ...(m.quantization === undefined ? {} : { quantization: m.quantization }),
      ...(m.contextLength === undefined ? {} : { context_length: m.contextLength }),
      ...(m.sizeMb === undefined ? {} : { size_mb: m.sizeMb }),
      ...(m.generationTokensPerSecond === undefined ? {} : { generation_tokens_per_second: m.generationTokensPerSecond }),
    },
  }
}
