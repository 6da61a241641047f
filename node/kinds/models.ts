/**
 * The model task kinds. Each names its model (`model`, which becomes `requirements.model`, so
 * only nodes that have it bid) and runs on the node's model worker:
 * - `generate`: messages (chat template) or a prompt (with `suffix`: fill-in-the-middle); maxTokens, temperature, topP, seed,
 *   stop, and an optional JSON schema the output is held to by a grammar; tools, toolChoice and
 *   parallelToolCalls (node/kinds/tools.ts); logprobs/topLogprobs; penalties, topK, minP.
 *   Text streams as `token` task events; the result is `{ text, finishReason, usage, timings,
 *   model }` plus `toolCalls` and `logprobs` when there are any.
 * - `analyze`: code and a question; the model answers, held by a grammar, with
 *   `{ issues: [{ severity, line, message }], summary }`, which is the result.
 * - `embed`: texts to vectors, `{ vectors, dimensions, usage, model }`.
 * A failure the worker reports keeps its name (PromptTooLongError, ModelTooLargeError...) in
 * `result.error`, so the API can answer with the right status.
 */
import Type from 'typebox'
import { normalizeJsonSchema } from '../../models/grammar/index.js'
import { checkEmbedResult, checkGenerateResult, EmbedParamsProperties, GenerateParamsProperties, MODEL_TASK_TYPES, TOKEN_STAGE, type GenerateInput } from '../../protocols/index.js'
import { AbortedError } from '../../base/index.js'
import { admitModel, inlineText, InvalidTaskError, type KindContext, type KindOutcome, type ModelAccess, type TaskKind, type TaskSpec } from '../../tasks/index.js'
import { packFloat32 } from './vectors.js'
import { ANALYZE_SCHEMA, analysisMessages, parseAnalysis } from './analyze.js'
import { checkToolFields } from './tools.js'

const ModelName = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' })
const GENERATE_KEYS = [
  'messages', 'prompt', 'suffix', 'maxTokens', 'temperature', 'topP', 'seed', 'stop', 'jsonSchema', 'tools', 'toolChoice', 'parallelToolCalls',
  'logprobs', 'topLogprobs', 'presencePenalty', 'frequencyPenalty', 'repeatPenalty', 'topK', 'minP',
] as const
const DEFAULT_MAX_TOKENS = 256
/** Rough prompt size for placement: ~4 characters a token. */
const CHARS_PER_TOKEN = 4

const defaults = { cpus: 1, memoryMb: 0 }

function need (models: ModelAccess | undefined): ModelAccess {
  if (models === undefined) throw new Error('this node serves no models')
  return models
}

/** `model` becomes the requirement; `work` (prompt and output tokens) sizes the task for bids. */
function placed (spec: TaskSpec, promptChars: number, outputTokens: number): TaskSpec {
  const model = spec.model as string
  if (spec.requirements.model !== undefined && spec.requirements.model !== model) {
    throw new InvalidTaskError(`requirements.model (${spec.requirements.model}) differs from model (${model})`, { details: ['requirements.model: must equal model or be left out'] })
  }
  return { ...spec, requirements: { ...spec.requirements, model }, work: { promptTokens: Math.ceil(promptChars / CHARS_PER_TOKEN), outputTokens } }
}

function textLength (spec: TaskSpec): number {
  const messages = spec.messages as Array<{ content: string }> | undefined
  const prompt = spec.prompt as string | undefined
  return prompt === undefined ? messages?.reduce((n, m) => n + m.content.length, 0) ?? 0 : prompt.length + ((spec.suffix as string | undefined)?.length ?? 0)
}

/** A worker failure as a task outcome that keeps the error's own name; an abort stays an abort. */
function failure (err: unknown, signal: AbortSignal): KindOutcome {
  if (signal.aborted) throw err instanceof AbortedError ? err : new AbortedError('task aborted', { cause: err })
  const e = err as Error & { remoteName?: string, details?: unknown }
  const name = e.remoteName ?? e.name
  // TaskFailedError's message starts with the worker's error name: said once.
  const message = e.message.startsWith(`${name}: `) ? e.message.slice(name.length + 2) : e.message
  const details = e.details === undefined ? {} : { details: e.details }
  return { outcome: 'failed', error: `${name}: ${message}`, result: { error: { name, message: message.slice(0, 2048), ...details } } }
}

/** Runs a generate request on the model worker, relaying text as it comes. */
async function runGenerate (params: Partial<GenerateInput>, modelName: string, context: KindContext): Promise<ReturnType<typeof checkGenerateResult>> {
  const models = need(context.models)
  const model = await models.resolve(modelName)
  let offset = 0
  const value = await context.workers.submit('model', { type: MODEL_TASK_TYPES.generate, input: { ...params, model, settings: models.settings } }, {
    signal: context.signal,
    onLog: context.onLog,
    onProgress: p => {
      if (p.stage !== TOKEN_STAGE) { context.onProgress(p); return }
      const text = p.message ?? ''
      context.onToken(text, offset, p.done ?? 0)
      offset += text.length
    },
  })
  const result = checkGenerateResult(value)
  models.observe(result.host)
  return result
}

const generate: TaskKind = {
  name: 'generate',
  fields: { model: ModelName, ...GenerateParamsProperties },
  defaults,
  workerKind: 'model',
  needsSandbox: false,
  admit: admitModel,
  check: spec => {
    if ((spec.messages === undefined) === (spec.prompt === undefined)) {
      throw new InvalidTaskError('a generate task needs exactly one of messages and prompt', { details: ['body: give messages or prompt, not both'] })
    }
    if (spec.suffix !== undefined && spec.prompt === undefined) throw new InvalidTaskError('suffix (fill-in-the-middle) goes with a prompt, not with messages', { details: ['suffix: only with prompt'] })
    checkToolFields(spec)
  },
  prepare: spec => {
    let jsonSchema: Record<string, unknown> | undefined
    if (spec.jsonSchema !== undefined) {
      try {
        jsonSchema = normalizeJsonSchema(spec.jsonSchema)
      } catch (err) {
        const details = (err as { details?: string[] }).details ?? [(err as Error).message]
        throw new InvalidTaskError(`invalid jsonSchema: ${details.slice(0, 5).join('; ')}`, { details: details.map(d => `jsonSchema${d}`) })
      }
    }
    const maxTokens = (spec.maxTokens as number | undefined) ?? DEFAULT_MAX_TOKENS
    return placed({ ...spec, maxTokens, ...(jsonSchema === undefined ? {} : { jsonSchema }) }, textLength(spec), maxTokens)
  },
  execute: async (spec, context) => {
    try {
      const params = Object.fromEntries(GENERATE_KEYS.filter(k => spec[k] !== undefined).map(k => [k, spec[k]]))
      const { host: _host, text, ...rest } = await runGenerate(params, spec.model as string, context)
      const stored = await inlineText(text, context.blobs, context.signal, 64 * 1024)
      const whole = stored.blob === undefined ? (stored.cut ? { textTruncated: true } : {}) : { textBlob: stored.blob }
      return { outcome: 'succeeded', result: { ...rest, text: stored.text, ...whole, model: spec.model } }
    } catch (err) {
      return failure(err, context.signal)
    }
  },
}

const analyze: TaskKind = {
  name: 'analyze',
  fields: {
    model: ModelName,
    code: Type.String({ minLength: 1, maxLength: 1_048_576 }),
    question: Type.Optional(Type.String({ maxLength: 8192 })),
    language: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    maxTokens: GenerateParamsProperties.maxTokens,
    temperature: GenerateParamsProperties.temperature,
    seed: GenerateParamsProperties.seed,
  },
  defaults,
  workerKind: 'model',
  needsSandbox: false,
  admit: admitModel,
  prepare: spec => {
    const maxTokens = (spec.maxTokens as number | undefined) ?? 1024
    return placed({ ...spec, maxTokens }, (spec.code as string).length + ((spec.question as string | undefined)?.length ?? 0) + 400, maxTokens)
  },
  execute: async (spec, context) => {
    try {
      const messages = analysisMessages(spec.code as string, spec.question as string | undefined, spec.language as string | undefined)
      const params = { messages, jsonSchema: ANALYZE_SCHEMA, maxTokens: spec.maxTokens as number, temperature: (spec.temperature as number | undefined) ?? 0, ...(spec.seed === undefined ? {} : { seed: spec.seed as number }) }
      const result = await runGenerate(params, spec.model as string, context)
      const spent = { usage: result.usage, timings: result.timings, model: spec.model }
      try {
        return { outcome: 'succeeded', result: { ...parseAnalysis(result.text, result.finishReason), ...spent } }
      } catch (err) {
        // The tokens were spent all the same: the failure says how many (budgets count them).
        const failed = failure(err, context.signal)
        return { ...failed, result: { ...failed.result, ...spent } }
      }
    } catch (err) {
      return failure(err, context.signal)
    }
  },
}

/** Vectors beyond this (as JSON) go to the blob store as little-endian float32, row after row. */
const INLINE_VECTOR_BYTES = 128 * 1024

const embed: TaskKind = {
  name: 'embed',
  fields: { model: ModelName, ...EmbedParamsProperties },
  defaults,
  workerKind: 'model',
  needsSandbox: false,
  admit: admitModel,
  prepare: spec => placed(spec, (spec.texts as string[]).reduce((n, t) => n + t.length, 0), 0),
  execute: async (spec, context) => {
    try {
      const models = need(context.models)
      const model = await models.resolve(spec.model as string)
      const value = await context.workers.submit('model', { type: MODEL_TASK_TYPES.embed, input: { model, settings: models.settings, texts: spec.texts } }, { signal: context.signal, onLog: context.onLog })
      const { host, vectors, ...rest } = checkEmbedResult(value)
      models.observe(host)
      const json = JSON.stringify(vectors)
      if (json.length <= INLINE_VECTOR_BYTES || context.blobs === undefined) return { outcome: 'succeeded', result: { ...rest, vectors, model: spec.model } }
      const blob = await context.blobs.put(packFloat32(vectors), { signal: context.signal })
      return { outcome: 'succeeded', result: { ...rest, count: vectors.length, vectorsBlob: { ...blob, format: 'float32le' }, model: spec.model } }
    } catch (err) {
      return failure(err, context.signal)
    }
  },
}

export const MODEL_KINDS: readonly TaskKind[] = [generate, analyze, embed]
