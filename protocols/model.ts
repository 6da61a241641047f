/**
 * Model worker protocol: the task types of the `model` worker kind, their inputs and results.
 * The node resolves a model name to its file (the model store) and sends the worker the file
 * and the host settings with every task, so the worker reads no config and no manifest: the
 * node decides, the worker executes. Both sides validate: the worker checks inputs before it
 * runs anything, the node checks results before it records them. Pure: no I/O.
 *
 * Token streaming: while `generate` runs, the worker reports each piece of text as a progress
 * frame `{ stage: 'token', done: <tokens so far>, message: <text> }` (see TOKEN_STAGE).
 */
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { InvalidMessageError } from '../base/index.js'

export const MODEL_TASK_TYPES = { generate: 'generate', embed: 'embed', status: 'status' } as const
/** The progress stage that carries generated text. */
export const TOKEN_STAGE = 'token'

const strict = { additionalProperties: false } as const
const Str = (max: number, min = 0) => Type.String({ minLength: min, maxLength: max })

/** The file behind a model name, as the node's store knows it. */
export const ModelFileSchema = Type.Object({
  name: Str(128, 1),
  path: Str(4096, 1),
  /** SHA-256 hex of the file: a re-added file under the same name is another model. */
  digest: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  bytes: Type.Integer({ minimum: 0 }),
}, strict)

/** How the worker runs models; sent with every task (the node's config may change). */
export const HostSettingsSchema = Type.Object({
  /** llama.cpp threads per context; never above the machine's physical cores. */
  threads: Type.Integer({ minimum: 1, maximum: 1024 }),
  /** Loaded models (weights plus contexts) are kept under this; least recently used unloaded first. */
  memoryBudgetMb: Type.Integer({ minimum: 1, maximum: 1_073_741_824 }),
  /** Context sequences per loaded model: how many requests share it at once. */
  sequences: Type.Integer({ minimum: 1, maximum: 64 }),
  /** Tokens of context per sequence (capped by what the model was trained for). */
  contextSize: Type.Integer({ minimum: 64, maximum: 1_048_576 }),
  /** 'auto': offload what fits to a GPU where one exists; 0: CPU only. */
  gpuLayers: Type.Union([Type.Literal('auto'), Type.Integer({ minimum: 0, maximum: 10_000 })]),
}, strict)

export const ChatRoleSchema = Type.Enum(['system', 'user', 'assistant', 'tool'])
/** A function call the model made: `arguments` is its JSON text (as OpenAI carries it). */
export const ToolCallSchema = Type.Object({ id: Str(128, 1), name: Str(64, 1), arguments: Str(1_048_576) }, strict)
/** An assistant turn may carry its tool calls; a `tool` turn answers the call `toolCallId` names. */
export const ChatMessageSchema = Type.Object({
  role: ChatRoleSchema,
  content: Str(1_048_576),
  toolCalls: Type.Optional(Type.Array(ToolCallSchema, { maxItems: 64 })),
  toolCallId: Type.Optional(Str(128, 1)),
}, strict)
/** A function the model may call; `parameters` is a JSON schema (the grammar subset of jsonSchema). */
export const ToolSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]{1,64}$' }),
  description: Type.Optional(Str(8192)),
  parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
}, strict)
/** auto: the model decides (its chat template's function syntax); none: text only; required / { name }: a call, held by a grammar. */
export const ToolChoiceSchema = Type.Union([Type.Enum(['auto', 'none', 'required']), Type.Object({ name: Str(64, 1) }, strict)])

/** What a generate request asks for (a task body's fields; the worker input adds model and settings). */
export const GenerateParamsProperties = {
  /** A chat (formatted with the model's chat template)... */
  messages: Type.Optional(Type.Array(ChatMessageSchema, { minItems: 1, maxItems: 1024 })),
  /** ...or a raw prompt to complete: exactly one of the two. */
  prompt: Type.Optional(Str(4_194_304)),
  /** With `prompt`: the text after the insertion point (fill-in-the-middle; only on models with FIM tokens). */
  suffix: Type.Optional(Str(4_194_304)),
  maxTokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 131_072 })),
  /** 0: greedy (deterministic). Default 0.7. */
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
  topP: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  /** With temperature > 0, the same seed gives the same text on the same model and settings. */
  seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4_294_967_295 })),
  stop: Type.Optional(Type.Array(Str(256, 1), { maxItems: 16 })),
  /** Output constrained by grammar to JSON matching this schema (node-llama-cpp's subset; checked at submission). */
  jsonSchema: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  /** Functions the model may call (chat only); the answer's calls are in the result's `toolCalls`. */
  tools: Type.Optional(Type.Array(ToolSchema, { minItems: 1, maxItems: 128 })),
  /** Default 'auto' when tools are given. */
  toolChoice: Type.Optional(ToolChoiceSchema),
  /** Several calls in one answer (default true). */
  parallelToolCalls: Type.Optional(Type.Boolean()),
  /** Each generated token's log probability in the result's `logprobs`, with this many alternatives (0-20). */
  logprobs: Type.Optional(Type.Boolean()),
  topLogprobs: Type.Optional(Type.Integer({ minimum: 0, maximum: 20 })),
  /** Penalties over the recent tokens (OpenAI's meaning; 0 = off) and llama.cpp's repeat penalty (1 = off). */
  presencePenalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2 })),
  frequencyPenalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2 })),
  repeatPenalty: Type.Optional(Type.Number({ minimum: 0, maximum: 10 })),
  /** Sampling from the k most likely tokens only (0 = all) / tokens at least minP times the most likely one. */
  topK: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  minP: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
}

export const GenerateInputSchema = Type.Object({
  model: ModelFileSchema,
  settings: HostSettingsSchema,
  ...GenerateParamsProperties,
}, strict)

export const EmbedParamsProperties = {
  texts: Type.Array(Str(1_048_576), { minItems: 1, maxItems: 2048 }),
}
export const EmbedInputSchema = Type.Object({ model: ModelFileSchema, settings: HostSettingsSchema, ...EmbedParamsProperties }, strict)
export const StatusInputSchema = Type.Object({ settings: Type.Optional(HostSettingsSchema) }, strict)

const Rate = Type.Number({ minimum: 0 })
/** One model the worker holds in memory. */
export const LoadedModelSchema = Type.Object({
  name: Str(128, 1),
  digest: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  /** Estimated memory held: weights plus contexts. */
  memoryMb: Type.Number({ minimum: 0 }),
  /** Measured by the self-benchmark when loaded. */
  promptTokensPerSecond: Rate,
  generationTokensPerSecond: Rate,
  gpuLayers: Type.Integer({ minimum: 0 }),
  loadedAt: Type.Integer({ minimum: 0 }),
  lastUsedAt: Type.Integer({ minimum: 0 }),
  /** Requests running on it now. */
  active: Type.Integer({ minimum: 0 }),
}, strict)

/** The worker's state, returned with every result so the node's advert stays current. */
export const HostStatusSchema = Type.Object({
  loaded: Type.Array(LoadedModelSchema, { maxItems: 256 }),
  memoryBudgetMb: Type.Number({ minimum: 0 }),
  threads: Type.Integer({ minimum: 0 }),
  gpu: Type.Union([Type.Literal(false), Str(32)]),
}, strict)

export const FinishReasonSchema = Type.Enum(['stop', 'length', 'tool_calls'])
const Logprob = Type.Number({ maximum: 0 })
/** One generated token: its text, UTF-8 bytes, log probability and the most likely alternatives. */
export const TokenLogprobSchema = Type.Object({
  token: Type.String(),
  bytes: Type.Array(Type.Integer({ minimum: 0, maximum: 255 })),
  logprob: Logprob,
  top: Type.Array(Type.Object({ token: Type.String(), bytes: Type.Array(Type.Integer({ minimum: 0, maximum: 255 })), logprob: Logprob }, strict), { maxItems: 20 }),
}, strict)
export const GenerateResultSchema = Type.Object({
  text: Type.String(),
  finishReason: FinishReasonSchema,
  toolCalls: Type.Optional(Type.Array(ToolCallSchema)),
  logprobs: Type.Optional(Type.Array(TokenLogprobSchema)),
  usage: Type.Object({ promptTokens: Type.Integer({ minimum: 0 }), completionTokens: Type.Integer({ minimum: 0 }) }, strict),
  /** ms: loading the model (0 when it was loaded), the prompt, to the first token, the whole generation. */
  timings: Type.Object({ loadMs: Rate, promptMs: Rate, firstTokenMs: Rate, totalMs: Rate }, strict),
  host: HostStatusSchema,
}, strict)

export const EmbedResultSchema = Type.Object({
  vectors: Type.Array(Type.Array(Type.Number())),
  dimensions: Type.Integer({ minimum: 0 }),
  usage: Type.Object({ promptTokens: Type.Integer({ minimum: 0 }) }, strict),
  timings: Type.Object({ loadMs: Rate, totalMs: Rate }, strict),
  host: HostStatusSchema,
}, strict)

export type ModelFile = Type.Static<typeof ModelFileSchema>
export type HostSettings = Type.Static<typeof HostSettingsSchema>
export type ChatMessage = Type.Static<typeof ChatMessageSchema>
export type ToolCall = Type.Static<typeof ToolCallSchema>
export type Tool = Type.Static<typeof ToolSchema>
export type ToolChoice = Type.Static<typeof ToolChoiceSchema>
export type TokenLogprob = Type.Static<typeof TokenLogprobSchema>
export type GenerateInput = Type.Static<typeof GenerateInputSchema>
export type EmbedInput = Type.Static<typeof EmbedInputSchema>
export type StatusInput = Type.Static<typeof StatusInputSchema>
export type LoadedModel = Type.Static<typeof LoadedModelSchema>
export type HostStatus = Type.Static<typeof HostStatusSchema>
export type FinishReason = Type.Static<typeof FinishReasonSchema>
export type GenerateResult = Type.Static<typeof GenerateResultSchema>
export type EmbedResult = Type.Static<typeof EmbedResultSchema>

type Validator = ReturnType<typeof Compile>
const validators = {
  GenerateInput: Compile(GenerateInputSchema),
  EmbedInput: Compile(EmbedInputSchema),
  StatusInput: Compile(StatusInputSchema),
  GenerateResult: Compile(GenerateResultSchema),
  EmbedResult: Compile(EmbedResultSchema),
  HostStatus: Compile(HostStatusSchema),
} satisfies Record<string, Validator>

function check<T> (name: keyof typeof validators, value: unknown): T {
  const validator = validators[name]
  if (!validator.Check(value)) {
    const first = validator.Errors(value)[0]
    throw new InvalidMessageError(`${name} fails schema at ${first?.instancePath === '' || first === undefined ? '/' : first.instancePath}: ${first?.message ?? 'invalid'}`)
  }
  return value as T
}

/** Each throws InvalidMessageError; never returns an unvalidated value. */
export const checkGenerateInput = (value: unknown): GenerateInput => check('GenerateInput', value)
export const checkEmbedInput = (value: unknown): EmbedInput => check('EmbedInput', value)
export const checkStatusInput = (value: unknown): StatusInput => check('StatusInput', value)
export const checkGenerateResult = (value: unknown): GenerateResult => check('GenerateResult', value)
export const checkEmbedResult = (value: unknown): EmbedResult => check('EmbedResult', value)
export const checkHostStatus = (value: unknown): HostStatus => check('HostStatus', value)
