/**
 * ModelHost: runs local models for one worker process. Models load on demand by their file
 * (one load per digest, however many requests ask at once), under the memory budget of the
 * latest settings (see memory.ts), and serve generate and embed requests concurrently
 * through their context's sequences (more requests than sequences wait in order). Every call
 * takes a signal: an abort ends the call with AbortedError promptly and frees what it held.
 *
 * Settings come with every request: the budget applies from the next load (a smaller one
 * unloads idle models then); threads, sequences, context size and GPU layers apply to models
 * loaded after they change; the Llama's thread cap is the first request's `threads` for the
 * life of the host.
 */
import type { LlamaGrammar } from 'node-llama-cpp'
import { AbortedError, silentLogger, type Logger } from '../../base/index.js'
import type { EmbedInput, EmbedResult, GenerateInput, GenerateResult, HostSettings, HostStatus, ModelFile } from '../../protocols/index.js'
import { abortable, abortError } from './abort.js'
import { embedTexts } from './embed.js'
import { InvalidJsonSchemaProblemsError } from './errors.js'
import { generateOnSequence, preparePrompt, type OnToken } from './generate.js'
import { ModelLoader, type Lease } from './loader.js'
import { ModelMemory } from './memory.js'
import { resolveGenerateRequest } from './request.js'
import { createLlamaRuntime, type LlamaRuntime } from './runtime.js'

export interface ModelHostInit { logger?: Logger }
export interface GenerateCallOptions { signal: AbortSignal, onToken?: OnToken }
export interface EmbedCallOptions { signal: AbortSignal }

export class ModelHost {
  readonly #log: Logger
  readonly #stop = new AbortController()
  readonly #memory: ModelMemory
  readonly #loader: ModelLoader
  #runtime: Promise<LlamaRuntime> | undefined
  #ready: LlamaRuntime | undefined
  #settings: HostSettings | undefined

  constructor (init: ModelHostInit = {}) {
    this.#log = (init.logger ?? silentLogger()).child({ component: 'gryphgen:model-host' })
    this.#memory = new ModelMemory(this.#log)
    this.#loader = new ModelLoader(this.#memory, this.#log)
  }

  async generate (input: GenerateInput, options: GenerateCallOptions): Promise<GenerateResult> {
    const started = performance.now()
    const request = resolveGenerateRequest(input)
    const signal = this.#signal(options.signal)
    const { outcome, loadMs, generationStarted } = await this.#withModel(input.model, input.settings, signal, async ({ runtime, hosted, loadMs }) => {
      const prompt = preparePrompt(runtime, hosted, request)
      const grammar = request.jsonSchema === undefined ? undefined : await jsonGrammar(runtime, request.jsonSchema)
      const forcedGrammar = request.tools.kind === 'forced' ? await jsonGrammar(runtime, request.tools.schema) : undefined
      await hosted.slots.acquire(signal)
      try {
        const sequence = hosted.context.getSequence()
        const generationStarted = performance.now()
        try {
          return { outcome: await generateOnSequence(runtime, hosted, sequence, request, prompt, { grammar, forcedGrammar, signal, onToken: request.tools.kind === 'forced' ? undefined : options.onToken }), loadMs, generationStarted }
        } finally {
          await sequence.dispose()
        }
      } finally {
        hosted.slots.release()
      }
    })
    const ended = performance.now()
    const firstTokenAt = outcome.firstTokenAt ?? ended
    return {
      text: outcome.text,
      finishReason: outcome.finishReason,
      ...(outcome.toolCalls === undefined ? {} : { toolCalls: outcome.toolCalls }),
      ...(outcome.logprobs === undefined ? {} : { logprobs: outcome.logprobs }),
      usage: { promptTokens: outcome.promptTokens, completionTokens: outcome.completionTokens },
      timings: { loadMs: ms(loadMs), promptMs: ms(firstTokenAt - generationStarted), firstTokenMs: ms(firstTokenAt - started), totalMs: ms(ended - started) },
      host: this.#status(),
    }
  }

  async embed (input: EmbedInput, options: EmbedCallOptions): Promise<EmbedResult> {
    const started = performance.now()
    const signal = this.#signal(options.signal)
    const { embeddings, loadMs } = await this.#withModel(input.model, input.settings, signal, async ({ hosted, loadMs }) => {
      const embedding = await this.#loader.embeddingContext(hosted, input.settings, signal)
      const shape = { contextSize: hosted.context.contextSize, dimensions: hosted.model.embeddingVectorSize, bos: hosted.model.tokens.bos }
      return { embeddings: await embedTexts(embedding, shape, input.texts, signal), loadMs }
    })
    return {
      vectors: embeddings.vectors,
      dimensions: embeddings.dimensions,
      usage: { promptTokens: embeddings.promptTokens },
      timings: { loadMs: ms(loadMs), totalMs: ms(performance.now() - started) },
      host: this.#status(),
    }
  }

  /** With settings, the budget is updated and llama.cpp started (so the GPU is known). */
  async status (settings?: HostSettings, options: { signal?: AbortSignal } = {}): Promise<HostStatus> {
    if (settings !== undefined) {
      this.#applySettings(settings)
      await this.#runtimeFor(settings, this.#signal(options.signal))
    }
    return this.#status()
  }

  /**
   * Aborts every request, unloads every model and frees llama.cpp. Bounded: llama.cpp's own
   * dispose once hung past 2 minutes in a test run (node-llama-cpp 3.21.1, cause not found);
   * after `DISPOSE_MS` the host logs it and returns, leaving the rest to the process's exit
   * (a model worker exits after this; nothing of the node's state lives in llama.cpp).
   */
  async dispose (): Promise<void> {
    if (this.#stop.signal.aborted) return
    this.#stop.abort(new AbortedError('the model host stopped'))
    const deadline = AbortSignal.timeout(DISPOSE_MS)
    try {
      await abortable((async () => {
        await this.#loader.settled()
        await this.#memory.unloadAll()
        const runtime = await this.#runtime?.catch(() => undefined)
        await runtime?.llama.dispose()
      })(), deadline)
    } catch (err) {
      if (!deadline.aborted) throw err
      this.#log.error({ afterMs: DISPOSE_MS }, 'llama.cpp did not free its models in time; leaving them to the process exit')
    }
  }

  async [Symbol.asyncDispose] (): Promise<void> { await this.dispose() }

  /**
   * Runs `use` with the model loaded and held (never unloaded meanwhile). `loadMs` is the time
   * this request spent starting llama.cpp and loading the model, when it was the one to do so.
   */
  async #withModel<T> (file: ModelFile, settings: HostSettings, signal: AbortSignal, use: (lease: Lease) => Promise<T>): Promise<T> {
    if (signal.aborted) throw abortError(signal)
    this.#applySettings(settings)
    const { runtime, startMs } = await this.#runtimeFor(settings, signal)
    return await this.#loader.withModel(runtime, startMs, file, settings, signal, use)
  }

  #status (): HostStatus {
    return {
      loaded: this.#memory.loaded().map(h => h.status()),
      memoryBudgetMb: this.#memory.budgetMb,
      threads: this.#ready?.llama.maxThreads ?? this.#settings?.threads ?? 0,
      gpu: this.#ready?.llama.gpu ?? false,
    }
  }

  #signal (signal: AbortSignal | undefined): AbortSignal {
    return signal === undefined ? this.#stop.signal : AbortSignal.any([signal, this.#stop.signal])
  }

  #applySettings (settings: HostSettings): void {
    this.#settings = settings
    this.#memory.setBudgetMb(settings.memoryBudgetMb)
  }

  /** The runtime, and how long this call spent starting it (0 when it was started or being started by another). */
  async #runtimeFor (settings: HostSettings, signal: AbortSignal): Promise<{ runtime: LlamaRuntime, startMs: number }> {
    if (this.#ready !== undefined) return { runtime: this.#ready, startMs: 0 }
    const starts = this.#runtime === undefined
    const started = performance.now()
    this.#runtime ??= createLlamaRuntime(settings.threads, this.#log).then(
      runtime => (this.#ready = runtime),
      err => { this.#runtime = undefined; throw err },
    )
    const runtime = await abortable(this.#runtime, signal)
    return { runtime, startMs: starts ? performance.now() - started : 0 }
  }
}

async function jsonGrammar (runtime: LlamaRuntime, schema: Record<string, unknown>): Promise<LlamaGrammar> {
  try {
    // Checked by normalizeJsonSchema; the method's type would want a literal schema to infer from.
    return await runtime.llama.createGrammarForJsonSchema(schema as never)
  } catch (err) {
    throw new InvalidJsonSchemaProblemsError([`/: ${(err as Error).message}`])
  }
}

/** How long `dispose` waits for llama.cpp to free everything (see there). */
const DISPOSE_MS = 30_000
const ms = (value: number): number => Math.max(0, Math.round(value * 10) / 10)
