/**
 * The OpenAI routes' request schemas and their checking, in OpenAI's words: a parameter
 * gryphgen does not know (or knows and does not support) is `unsupported_parameter`, a value
 * outside what it supports is `unsupported_value`, each with `param` and a message saying what
 * is supported. No validator text ever reaches a client: every parameter's rule is described
 * here by hand. Pure.
 */
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { GryphgenError } from '../../base/index.js'

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
const Nullable = <T extends Type.TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]))
const ContentPart = Type.Object({ type: Type.Literal('text'), text: Text }, { additionalProperties: false })
const Content = Type.Union([Text, Type.Array(ContentPart, { maxItems: 256 }), Type.Null()])
const ToolCall = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128 }),
  type: Type.Literal('function'),
  function: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }), arguments: Type.String({ maxLength: 1_048_576 }) }),
})
const Message = Type.Union([
  Type.Object({ role: Type.Enum(['system', 'developer', 'user']), content: Content, name: Type.Optional(Type.String({ maxLength: 256 })) }, { additionalProperties: false }),
  Type.Object({
    role: Type.Literal('assistant'),
    content: Type.Optional(Content),
    name: Type.Optional(Type.String({ maxLength: 256 })),
    tool_calls: Type.Optional(Type.Array(ToolCall, { maxItems: 64 })),
    refusal: Nullable(Type.String()),
  }, { additionalProperties: false }),
  Type.Object({ role: Type.Literal('tool'), content: Content, tool_call_id: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }),
])
const Tool = Type.Object({
  type: Type.Literal('function'),
  function: Type.Object({
    name: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
    description: Type.Optional(Type.String({ maxLength: 8192 })),
    parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    strict: Nullable(Type.Boolean()),
  }, { additionalProperties: false }),
}, { additionalProperties: false })
const ToolChoice = Type.Union([
  Type.Enum(['auto', 'none', 'required']),
  Type.Object({ type: Type.Literal('function'), function: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }) }, { additionalProperties: false }),
])
const Stop = Nullable(Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 16 })]))
const Penalty = Nullable(Type.Number({ minimum: -2, maximum: 2 }))

/** Sampling parameters shared by chat and completions. */
const Sampling = {
  max_tokens: Nullable(Type.Integer({ minimum: 1, maximum: 131_072 })),
  temperature: Nullable(Type.Number({ minimum: 0, maximum: 2 })),
  top_p: Nullable(Type.Number({ minimum: 0, maximum: 1 })),
  seed: Nullable(Type.Integer({ minimum: 0, maximum: 4_294_967_295 })),
  stop: Stop,
  stream: Nullable(Type.Boolean()),
  stream_options: Nullable(Type.Object({ include_usage: Type.Optional(Type.Boolean()) }, { additionalProperties: false })),
  n: Nullable(Type.Literal(1)),
  user: Type.Optional(Type.String({ maxLength: 256 })),
  frequency_penalty: Penalty,
  presence_penalty: Penalty,
  repeat_penalty: Nullable(Type.Number({ minimum: 0, maximum: 10 })),
  top_k: Nullable(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  min_p: Nullable(Type.Number({ minimum: 0, maximum: 1 })),
  logit_bias: Nullable(Type.Object({}, { additionalProperties: false })),
}

export const ChatRequest = Type.Object({
  model: Type.String({ minLength: 1, maxLength: 128 }),
  messages: Type.Array(Message, { minItems: 1, maxItems: 1024 }),
  ...Sampling,
  max_completion_tokens: Sampling.max_tokens,
  response_format: Type.Optional(Type.Union([
    Type.Object({ type: Type.Literal('text') }, { additionalProperties: false }),
    Type.Object({ type: Type.Literal('json_object') }, { additionalProperties: false }),
    Type.Object({
      type: Type.Literal('json_schema'),
      json_schema: Type.Object({
        name: Type.String({ minLength: 1, maxLength: 64 }),
        description: Type.Optional(Type.String({ maxLength: 4096 })),
        schema: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        strict: Nullable(Type.Boolean()),
      }, { additionalProperties: false }),
    }, { additionalProperties: false }),
  ])),
  logprobs: Nullable(Type.Boolean()),
  top_logprobs: Nullable(Type.Integer({ minimum: 0, maximum: 20 })),
  tools: Type.Optional(Type.Array(Tool, { minItems: 1, maxItems: 128 })),
  tool_choice: Type.Optional(ToolChoice),
  parallel_tool_calls: Nullable(Type.Boolean()),
}, { additionalProperties: false })

export const CompletionRequest = Type.Object({
  model: Type.String({ minLength: 1, maxLength: 128 }),
  prompt: Type.Union([Type.String({ maxLength: 4_194_304 }), Type.Array(Type.String({ maxLength: 4_194_304 }), { minItems: 1, maxItems: 16 })]),
  ...Sampling,
  logprobs: Nullable(Type.Integer({ minimum: 0, maximum: 20 })),
  echo: Nullable(Type.Literal(false)),
  suffix: Nullable(Type.String({ maxLength: 4_194_304 })),
  best_of: Nullable(Type.Literal(1)),
}, { additionalProperties: false })

export const EmbeddingsRequest = Type.Object({
  model: Type.String({ minLength: 1, maxLength: 128 }),
  input: Type.Union([Type.String({ maxLength: 1_048_576 }), Type.Array(Type.String({ maxLength: 1_048_576 }), { minItems: 1, maxItems: 2048 })]),
  encoding_format: Type.Optional(Type.Enum(['float', 'base64'])),
  user: Type.Optional(Type.String({ maxLength: 256 })),
}, { additionalProperties: false })

export type ChatRequestT = Type.Static<typeof ChatRequest>
export type CompletionRequestT = Type.Static<typeof CompletionRequest>
export type EmbeddingsRequestT = Type.Static<typeof EmbeddingsRequest>

/** What gryphgen supports of each parameter, in words (the message of an `unsupported_value`). */
const SUPPORTED: Record<string, string> = {
  model: 'a model name (GET /v1/models lists them)',
  messages: 'a non-empty array of messages: system, developer and user (content a string or text parts), assistant (content and/or tool_calls) and tool (content and tool_call_id)',
  prompt: 'a string or an array of up to 16 strings (token arrays are not supported)',
  max_tokens: 'an integer from 1 to 131072',
  max_completion_tokens: 'an integer from 1 to 131072',
  temperature: 'a number from 0 to 2',
  top_p: 'a number from 0 to 1',
  seed: 'an integer from 0 to 4294967295',
  stop: 'a string or up to 16 strings of 1 to 256 characters',
  stream: 'true or false',
  stream_options: '{ include_usage: boolean }',
  n: 'only 1 (one choice per request; send several requests for several samples)',
  user: 'a string of up to 256 characters',
  frequency_penalty: 'a number from -2 to 2',
  presence_penalty: 'a number from -2 to 2',
  repeat_penalty: 'a number from 0 to 10 (1 is off)',
  top_k: 'an integer of at least 0 (0 is off)',
  min_p: 'a number from 0 to 1',
  logit_bias: 'only an empty object (token biases are not supported)',
  response_format: '{type: "text"}, {type: "json_object"} or {type: "json_schema", json_schema: {name, schema}}',
  logprobs: 'true or false on chat, an integer from 0 to 20 on completions',
  top_logprobs: 'an integer from 0 to 20, with logprobs: true',
  tools: 'an array of {type: "function", function: {name, description, parameters}} (names of letters, digits, _ and -)',
  tool_choice: '"auto", "none", "required" or {type: "function", function: {name}}',
  parallel_tool_calls: 'true or false',
  echo: 'only false (the prompt is not echoed back)',
  suffix: 'a string (fill-in-the-middle, on models with FIM tokens)',
  best_of: 'only 1',
  input: 'a string or an array of up to 2048 strings',
  encoding_format: '"float" or "base64"',
}

/** OpenAI parameters gryphgen knows of and does not support (any other unknown one is refused the same way). */
const NOT_SUPPORTED = ['audio', 'modalities', 'prediction', 'service_tier', 'store', 'metadata', 'reasoning_effort', 'web_search_options', 'functions', 'function_call', 'verbosity', 'dimensions']

/** The body checked against `schema`; throws InvalidRequestError in OpenAI's shape. */
export function checkOpenAiBody<T> (schema: Type.TObject, check: ReturnType<typeof Compile>, body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidRequestError('the request body must be a JSON object')
  const known = Object.keys(schema.properties)
  const unknown = Object.keys(body).filter(k => !known.includes(k))
  if (unknown.length > 0) {
    const first = unknown[0]
    const why = NOT_SUPPORTED.includes(first) ? 'is an OpenAI parameter gryphgen does not support' : 'is not a parameter gryphgen knows'
    throw new InvalidRequestError(`\`${first}\` ${why} (supported: ${known.join(', ')})`, { param: first, code: 'unsupported_parameter' })
  }
  if (check.Check(body)) return body as T
  const error = [...check.Errors(body)][0]
  const path = (error?.instancePath ?? '').split('/').filter(p => p !== '')
  const param = path[0] ?? 'body'
  const value = (body as Record<string, unknown>)[param]
  const part = param === 'messages' ? contentPartProblem(value) : undefined
  if (part !== undefined) throw new InvalidRequestError(`${part.param}: content parts of type \`${part.type}\` are not supported (only text parts)`, { param: part.param, code: 'unsupported_value' })
  throw new InvalidRequestError(`\`${param}\`: gryphgen supports ${SUPPORTED[param] ?? 'a valid value here'}`, { param, code: 'unsupported_value' })
}

/** The first content part of a type other than text (image_url, input_audio, file...). */
function contentPartProblem (messages: unknown): { type: string, param: string } | undefined {
  if (!Array.isArray(messages)) return undefined
  for (const [i, m] of messages.entries()) {
    const content = (m as { content?: unknown } | null)?.content
    if (!Array.isArray(content)) continue
    for (const [j, p] of content.entries()) {
      const type = (p as { type?: unknown } | null)?.type
      if (type !== 'text') return { type: String(type), param: `messages[${i}].content[${j}].type` }
    }
  }
  return undefined
}

const checks = { chat: Compile(ChatRequest), completion: Compile(CompletionRequest), embeddings: Compile(EmbeddingsRequest) }
export const parseChatRequest = (body: unknown): ChatRequestT => checkOpenAiBody(ChatRequest, checks.chat, body)
export const parseCompletionRequest = (body: unknown): CompletionRequestT => checkOpenAiBody(CompletionRequest, checks.completion, body)
export const parseEmbeddingsRequest = (body: unknown): EmbeddingsRequestT => checkOpenAiBody(EmbeddingsRequest, checks.embeddings, body)
