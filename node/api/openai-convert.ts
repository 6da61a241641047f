/**
 * OpenAI-compatible requests and replies (pure): a chat completion or embeddings request is
 * checked (every problem named, unknown or unsupported parameters refused rather than
 * ignored) and turned into a gryphgen task body; a finished task becomes the OpenAI reply.
 */
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { GryphgenError } from '../../base/index.js'
import type { MeshModel } from '../models/index.js'

/** A request OpenAI's API would refuse as an `invalid_request_error`; `param` names the field. */
export class InvalidRequestError extends GryphgenError {
  readonly param: string | null
  readonly code: string | null
  constructor (message: string, options: { param?: string, code?: string, details?: string[] } = {}) {
    super(message, { details: options.details })
    this.param = options.param ?? null
    this.code = options.code ?? null
  }
}

const Text = Type.String({ maxLength: 4_194_304 })
const ContentPart = Type.Object({ type: Type.Literal('text'), text: Text }, { additionalProperties: false })
const Message = Type.Object({
  role: Type.Enum(['system', 'developer', 'user', 'assistant']),
  content: Type.Union([Text, Type.Array(ContentPart, { maxItems: 256 }), Type.Null()]),
  name: Type.Optional(Type.String({ maxLength: 256 })),
}, { additionalProperties: false })
const ChatRequest = Type.Object({
  model: Type.String({ minLength: 1, maxLength: 128 }),
  messages: Type.Array(Message, { minItems: 1, maxItems: 1024 }),
  max_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 131_072 }), Type.Null()])),
  max_completion_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 131_072 }), Type.Null()])),
  temperature: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 2 }), Type.Null()])),
  top_p: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()])),
  seed: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 4_294_967_295 }), Type.Null()])),
  stop: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 16 }), Type.Null()])),
  stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  stream_options: Type.Optional(Type.Union([Type.Object({ include_usage: Type.Optional(Type.Boolean()) }, { additionalProperties: false }), Type.Null()])),
  response_format: Type.Optional(Type.Union([
    Type.Object({ type: Type.Literal('text') }, { additionalProperties: false }),
    Type.Object({ type: Type.Literal('json_object') }, { additionalProperties: false }),
    Type.Object({
      type: Type.Literal('json_schema'),
      json_schema: Type.Object({
        name: Type.String({ minLength: 1, maxLength: 64 }),
        description: Type.Optional(Type.String({ maxLength: 4096 })),
        schema: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        strict: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
      }, { additionalProperties: false }),
    }, { additionalProperties: false }),
  ])),
  n: Type.Optional(Type.Union([Type.Literal(1), Type.Null()])),
  user: Type.Optional(Type.String({ maxLength: 256 })),
  frequency_penalty: Type.Optional(Type.Union([Type.Literal(0), Type.Null()])),
  presence_penalty: Type.Optional(Type.Union([Type.Literal(0), Type.Null()])),
  logprobs: Type.Optional(Type.Union([Type.Literal(false), Type.Null()])),
}, { additionalProperties: false })

const EmbeddingsRequest = Type.Object({
  model: Type.String({ minLength: 1, maxLength: 128 }),
  input: Type.Union([Type.String({ maxLength: 1_048_576 }), Type.Array(Type.String({ maxLength: 1_048_576 }), { minItems: 1, maxItems: 2048 })]),
  encoding_format: Type.Optional(Type.Enum(['float', 'base64'])),
  user: Type.Optional(Type.String({ maxLength: 256 })),
}, { additionalProperties: false })

export type ChatRequestT = Type.Static<typeof ChatRequest>
export type EmbeddingsRequestT = Type.Static<typeof EmbeddingsRequest>

const checkChat = Compile(ChatRequest)
const checkEmbeddings = Compile(EmbeddingsRequest)

/** Schema problems in OpenAI's words: the parameter each is about, unknown ones called unsupported. */
function validate<T> (check: ReturnType<typeof Compile>, body: unknown, known: readonly string[]): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidRequestError('the request body must be a JSON object')
  const unknown = Object.keys(body).filter(k => !known.includes(k))
  if (unknown.length > 0) {
    throw new InvalidRequestError(`unsupported parameter${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (gryphgen supports ${known.join(', ')})`, { param: unknown[0], code: 'unsupported_parameter' })
  }
  if (check.Check(body)) return body as T
  const errors = [...check.Errors(body)].slice(0, 10)
  const param = (path: string): string => path.split('/').filter(p => p !== '').join('.') || 'body'
  const problems = errors.map(e => `${param(e.instancePath)}: ${e.message}`)
  throw new InvalidRequestError(`invalid request: ${problems.join('; ')}`, { param: param(errors[0]?.instancePath ?? ''), details: problems })
}

export function parseChatRequest (body: unknown): ChatRequestT {
  return validate<ChatRequestT>(checkChat, body, Object.keys(ChatRequest.properties))
}

export function parseEmbeddingsRequest (body: unknown): EmbeddingsRequestT {
  return validate<EmbeddingsRequestT>(checkEmbeddings, body, Object.keys(EmbeddingsRequest.properties))
}

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

/** The chat request as a `generate` task body. */
export function chatTaskBody (request: ChatRequestT): Record<string, unknown> {
  const messages = request.messages.map(m => ({
    role: m.role === 'developer' ? 'system' : m.role,
    content: typeof m.content === 'string' ? m.content : m.content === null ? '' : m.content.map(p => p.text).join(''),
  }))
  const format = request.response_format
  const jsonSchema = format?.type === 'json_object'
    ? { type: 'object', additionalProperties: true }
    : format?.type === 'json_schema' ? format.json_schema.schema ?? { type: 'object', additionalProperties: true } : undefined
  const maxTokens = request.max_completion_tokens ?? request.max_tokens
  const stop = request.stop === undefined || request.stop === null ? undefined : typeof request.stop === 'string' ? [request.stop] : request.stop
  return {
    kind: 'generate',
    model: request.model,
    messages,
    ...(maxTokens === undefined || maxTokens === null ? {} : { maxTokens }),
    ...(request.temperature === undefined || request.temperature === null ? {} : { temperature: request.temperature }),
    ...(request.top_p === undefined || request.top_p === null ? {} : { topP: request.top_p }),
    ...(request.seed === undefined || request.seed === null ? {} : { seed: request.seed }),
    ...(stop === undefined || stop.length === 0 ? {} : { stop }),
    ...(jsonSchema === undefined ? {} : { jsonSchema }),
  }
}

export function embedTaskBody (request: EmbeddingsRequestT): Record<string, unknown> {
  return { kind: 'embed', model: request.model, texts: typeof request.input === 'string' ? [request.input] : request.input }
}

export interface GenerateOutcome { text: string, finishReason: 'stop' | 'length', usage: { promptTokens: number, completionTokens: number } }

const usage = (u: GenerateOutcome['usage']): Record<string, number> => ({ prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.promptTokens + u.completionTokens })

export function chatCompletion (id: string, model: string, created: number, out: GenerateOutcome): Record<string, unknown> {
  return {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: out.text, refusal: null }, finish_reason: out.finishReason, logprobs: null }],
    usage: usage(out.usage),
  }
}

/** One streamed chunk: a delta of text, or (with finishReason) the last one, or (usage) the usage-only one. */
export function chatChunk (id: string, model: string, created: number, part: { content?: string, role?: 'assistant', finishReason?: 'stop' | 'length', usage?: GenerateOutcome['usage'] }): Record<string, unknown> {
  const choices = part.usage !== undefined
    ? []
    : [{ index: 0, delta: { ...(part.role === undefined ? {} : { role: part.role }), ...(part.content === undefined ? {} : { content: part.content }) }, finish_reason: part.finishReason ?? null, logprobs: null }]
  return { id, object: 'chat.completion.chunk', created, model, choices, ...(part.usage === undefined ? {} : { usage: usage(part.usage) }) }
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
