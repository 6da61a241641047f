/**
 * One generation on one context sequence: a chat through the model's chat template
 * (LlamaChat) or a raw completion (LlamaCompletion). The prompt is tokenized first, so a prompt
 * that does not fit is refused with PromptTooLongError before anything runs, and the answer is
 * capped to the room left in the context: the context never shifts (nothing of the prompt is
 * silently dropped) and running out of room ends with `length`, like `maxTokens`.
 * Sampling: temperature 0 is greedy; no repeat penalty (as OpenAI and llama.cpp's server).
 * A completion with a suffix is fill-in-the-middle (LlamaCompletion's infill: the model's FIM
 * prefix/suffix/middle tokens around prompt and suffix); a model without FIM tokens refuses it
 * with InfillNotSupportedError before anything runs.
 */
import type { ChatHistoryItem, LlamaContextSequence, LlamaGrammar, Token } from 'node-llama-cpp'
import type { FinishReason, TokenLogprob, ToolCall } from '../../protocols/index.js'
import { abortError } from './abort.js'
import { InfillNotSupportedError, PromptTooLongError } from './errors.js'
import type { HostedModel } from './hosted-model.js'
import { finishReasonOf, toChatHistory, tokenAllowance, type GenerateRequest } from './request.js'
import type { LlamaRuntime } from './runtime.js'
import { scoreGenerated } from './logprobs.js'
import { newToolCallId, parseForcedCalls } from './tools.js'

/** The prompt as the engine will evaluate it. */
export type PreparedPrompt =
  | { kind: 'chat', history: ChatHistoryItem[], tokens: number }
  | { kind: 'completion', input: Token[], tokens: number }
  | { kind: 'infill', prefix: Token[], suffix: Token[], tokens: number }

export interface GenerationOutcome {
  text: string
  finishReason: FinishReason
  promptTokens: number
  completionTokens: number
  toolCalls?: ToolCall[]
  logprobs?: TokenLogprob[]
  /** performance.now() of the first generated token, if any. */
  firstTokenAt?: number
}

export type OnToken = (text: string, tokensSoFar: number) => void

/** Tokenizes the prompt; throws PromptTooLongError when it leaves no room for one token. */
export function preparePrompt (runtime: LlamaRuntime, hosted: HostedModel, request: GenerateRequest): PreparedPrompt {
  const { model, context } = hosted
  let prompt: PreparedPrompt
  if (request.input.kind === 'chat') {
    const wrapper = hosted.chatWrapper(runtime)
    const tools = request.tools
    const plain = toChatHistory(request.input.messages)
    // Forced calls: the functions documented as the template does, the answer held by a grammar.
    const history = tools.kind === 'forced' ? wrapper.addAvailableFunctionsSystemMessageToHistory(plain, tools.functions, { documentParams: true }) as ChatHistoryItem[] : plain
    const state = wrapper.generateContextState({ chatHistory: history, ...(tools.kind === 'auto' ? { availableFunctions: tools.functions, documentFunctionParams: true } : {}) })
    prompt = { kind: 'chat', history, tokens: state.contextText.tokenize(model.tokenizer).length }
  } else {
    const bos = beginningToken(runtime, hosted)
    const input = model.tokenize(request.input.prompt, false, bos === undefined ? undefined : 'trimLeadingSpace')
    prompt = { kind: 'completion', input, tokens: input.length + (bos === undefined ? 0 : 1) }
    if (request.input.suffix !== undefined) prompt = infillPrompt(hosted, input, request.input.suffix, bos)
  }
  if (prompt.tokens + 1 > context.contextSize) {
    throw new PromptTooLongError(`the prompt has ${prompt.tokens} tokens; the context holds ${context.contextSize}, one of them for the answer`, {
      details: { promptTokens: prompt.tokens, contextSize: context.contextSize },
    })
  }
  return prompt
}

export interface GenerateOnSequenceOptions {
  grammar?: LlamaGrammar
  /** The grammar of the calls when tools are forced. */
  forcedGrammar?: LlamaGrammar
  signal: AbortSignal
  onToken?: OnToken
}

export async function generateOnSequence (runtime: LlamaRuntime, hosted: HostedModel, sequence: LlamaContextSequence, request: GenerateRequest, prompt: PreparedPrompt, options: GenerateOnSequenceOptions): Promise<GenerationOutcome> {
  const { signal, grammar } = options
  const maxTokens = tokenAllowance(request.maxTokens, prompt.tokens, sequence.contextSize)
  let tokens = 0
  const all: Token[] = []
  let firstTokenAt: number | undefined
  const { sampling } = request
  const penalized = sampling.presencePenalty !== undefined || sampling.frequencyPenalty !== undefined || sampling.repeatPenalty !== undefined
  const common = {
    maxTokens,
    temperature: request.temperature,
    ...(request.topP === undefined ? {} : { topP: request.topP }),
    ...(request.seed === undefined ? {} : { seed: request.seed }),
    ...(request.stop.length === 0 ? {} : { customStopTriggers: request.stop }),
    ...(grammar === undefined ? {} : { grammar }),
    ...(sampling.topK === undefined ? {} : { topK: sampling.topK }),
    ...(sampling.minP === undefined ? {} : { minP: sampling.minP }),
    repeatPenalty: penalized ? { penalty: sampling.repeatPenalty ?? 1, presencePenalty: sampling.presencePenalty ?? 0, frequencyPenalty: sampling.frequencyPenalty ?? 0 } : false as const,
    signal,
    stopOnAbortSignal: false,
    onToken: (generated: Token[]) => {
      tokens += generated.length
      if (request.topLogprobs !== undefined) all.push(...generated)
      firstTokenAt ??= performance.now()
    },
    onTextChunk: (text: string) => { if (text !== '') options.onToken?.(text, tokens) },
  }
  let text: string
  let stopReason: string
  let toolCalls: ToolCall[] | undefined
  const tools = request.tools
  try {
    if (prompt.kind === 'chat') {
      const chat = new runtime.lib.LlamaChat({ contextSequence: sequence, chatWrapper: hosted.chatWrapper(runtime) })
      try {
        const toolOptions = tools.kind === 'auto'
          ? { functions: tools.functions, documentFunctionParams: true, ...(tools.parallel ? {} : { maxParallelFunctionCalls: 1 }) }
          : tools.kind === 'forced' ? { grammar: options.forcedGrammar } : {}
        // jsonSchema (common's grammar) and tools never come together (request.ts refuses it).
        const response = await chat.generateResponse(prompt.history, { ...common, ...toolOptions } as Parameters<typeof chat.generateResponse>[1])
        text = response.response
        stopReason = response.metadata.stopReason
        if (response.functionCalls !== undefined && response.functionCalls.length > 0) {
          toolCalls = response.functionCalls.map(c => ({ id: newToolCallId(), name: c.functionName, arguments: JSON.stringify(c.params ?? {}) }))
        } else if (tools.kind === 'forced' && stopReason !== 'maxTokens') {
          toolCalls = parseForcedCalls(text)
        }
        if (toolCalls !== undefined) { stopReason = 'functionCalls'; text = tools.kind === 'forced' ? '' : text }
      } finally {
        chat.dispose({ disposeSequence: false })
      }
    } else {
      const completion = new runtime.lib.LlamaCompletion({ contextSequence: sequence })
      try {
        // contextShiftSize 1: the whole context but one token is the prompt's (checked above).
        const noShift = { ...common, disableContextShift: true, contextShiftSize: 1 }
        const response = prompt.kind === 'infill'
          ? await completion.generateInfillCompletionWithMeta(prompt.prefix, prompt.suffix, noShift)
          : await completion.generateCompletionWithMeta(prompt.input, noShift)
        text = response.response
        stopReason = response.metadata.stopReason
      } finally {
        completion.dispose({ disposeSequence: false })
      }
    }
  } catch (err) {
    if (signal.aborted) throw abortError(signal, 'generation')
    throw err
  }
  const finishReason = finishReasonOf(stopReason)
  const logprobs = request.topLogprobs === undefined ? undefined : await scoreGenerated(hosted.model, sequence, all, request.topLogprobs)
  return {
    text,
    finishReason,
    ...(toolCalls === undefined ? {} : { toolCalls }),
    ...(logprobs === undefined ? {} : { logprobs }),
    promptTokens: prompt.tokens,
    // Tokens held back at the end (the start of a stop string) are not in the text but were
    // generated; at the limit at least `maxTokens` were (a token ending inside a character is
    // completed by the next ones before the limit is checked).
    completionTokens: finishReason === 'length' ? Math.max(tokens, maxTokens) : tokens,
    ...(firstTokenAt === undefined ? {} : { firstTokenAt }),
  }
}

/** Fill-in-the-middle: the prompt as node-llama-cpp's infill lays it out (its FIM tokens, BOS first when the model wants one). */
function infillPrompt (hosted: HostedModel, prefix: Token[], suffixText: string, bos: Token | undefined): PreparedPrompt {
  const { model } = hosted
  const fim = model.tokens.infill
  if (fim.prefix === null || fim.suffix === null) {
    throw new InfillNotSupportedError(`the model ${hosted.file.name} has no fill-in-the-middle tokens: \`suffix\` needs a model made for code infilling`, { details: { name: hosted.file.name } })
  }
  const suffix = model.tokenize(suffixText, false, 'trimLeadingSpace')
  return { kind: 'infill', prefix, suffix, tokens: prefix.length + suffix.length + 2 + (fim.middle === null ? 0 : 1) + (bos === undefined ? 0 : 1) }
}

/** The token llama.cpp puts before a prompt (llama_tokenize's rule, as node-llama-cpp applies it). */
function beginningToken (runtime: LlamaRuntime, hosted: HostedModel): Token | undefined {
  const { model } = hosted
  const type = runtime.lib.LlamaVocabularyType
  switch (model.vocabularyType) {
    case type.rwkv: case type.ugm: return undefined
    case type.wpm: return model.tokens.bos ?? undefined
    default: return model.tokens.shouldPrependBosToken ? model.tokens.bos ?? undefined : undefined
  }
}
