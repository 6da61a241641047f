/**
 * A generate request resolved into what the engine runs: chat or raw completion, sampling
 * with the defaults filled in, the JSON schema checked against node-llama-cpp's subset. Pure.
 */
import type { ChatHistoryItem } from 'node-llama-cpp'
import type { ChatMessage, FinishReason, GenerateInput } from '../../protocols/index.js'
import { normalizeJsonSchema } from '../grammar/index.js'
import { InvalidModelRequestError } from './errors.js'
import { historyWithTools, resolveToolMode, type ToolMode } from './tools.js'

export const GENERATE_DEFAULTS = { maxTokens: 256, temperature: 0.7 } as const

export interface GenerateRequest {
  /** `suffix`: fill in between `prompt` and it (the model's FIM tokens). */
  input: { kind: 'chat', messages: ChatMessage[] } | { kind: 'completion', prompt: string, suffix?: string }
  maxTokens: number
  /** 0: greedy. */
  temperature: number
  topP?: number
  seed?: number
  stop: string[]
  /** Normalized; absent for free text. */
  jsonSchema?: Record<string, unknown>
  tools: ToolMode
  /** Alternatives per token when log probabilities are asked for; absent otherwise. */
  topLogprobs?: number
  sampling: { topK?: number, minP?: number, presencePenalty?: number, frequencyPenalty?: number, repeatPenalty?: number }
}

/** Throws InvalidModelRequestError (not exactly one of messages and prompt) or InvalidJsonSchemaError. */
export function resolveGenerateRequest (input: GenerateInput): GenerateRequest {
  const { messages, prompt } = input
  if ((messages === undefined) === (prompt === undefined)) {
    throw new InvalidModelRequestError('a generate request needs exactly one of messages and prompt', { details: ['messages', 'prompt'] })
  }
  if (input.suffix !== undefined && prompt === undefined) {
    throw new InvalidModelRequestError('suffix (fill-in-the-middle) goes with a prompt, not with messages', { details: ['suffix'] })
  }
  return {
    input: messages !== undefined ? { kind: 'chat', messages } : { kind: 'completion', prompt: prompt ?? '', ...(input.suffix === undefined ? {} : { suffix: input.suffix }) },
    maxTokens: input.maxTokens ?? GENERATE_DEFAULTS.maxTokens,
    temperature: input.temperature ?? GENERATE_DEFAULTS.temperature,
    ...(input.topP === undefined ? {} : { topP: input.topP }),
    ...(input.seed === undefined ? {} : { seed: input.seed }),
    stop: input.stop ?? [],
    ...(input.jsonSchema === undefined ? {} : { jsonSchema: normalizeJsonSchema(input.jsonSchema) }),
    tools: toolMode(input),
    ...(input.logprobs === true ? { topLogprobs: input.topLogprobs ?? 0 } : {}),
    sampling: Object.fromEntries((['topK', 'minP', 'presencePenalty', 'frequencyPenalty', 'repeatPenalty'] as const).filter(k => input[k] !== undefined).map(k => [k, input[k]])),
  }
}

function toolMode (input: GenerateInput): ToolMode {
  const mode = resolveToolMode(input.tools, input.toolChoice, input.parallelToolCalls, input.messages !== undefined)
  if (mode.kind !== 'none' && input.jsonSchema !== undefined) throw new InvalidModelRequestError('jsonSchema and tools cannot be used together (unless toolChoice is none)', { details: ['jsonSchema', 'tools'] })
  return mode
}

/**
 * Messages as node-llama-cpp's chat history, ending with the model's turn: a trailing
 * assistant message is the start of the answer, which the model continues.
 */
export function toChatHistory (messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history = historyWithTools(messages)
  if (history.at(-1)?.type !== 'model') history.push({ type: 'model', response: [] })
  return history
}

/** node-llama-cpp's stop reasons: only running out of tokens is `length`. */
export function finishReasonOf (stopReason: string): FinishReason {
  return stopReason === 'maxTokens' ? 'length' : stopReason === 'functionCalls' ? 'tool_calls' : 'stop'
}

/** Tokens the answer may take: what was asked, capped by the room left in the context. */
export function tokenAllowance (maxTokens: number, promptTokens: number, contextSize: number): number {
  return Math.max(1, Math.min(maxTokens, contextSize - promptTokens))
}
