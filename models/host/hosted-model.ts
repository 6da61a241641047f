/**
 * One model in memory: its weights, its context (a fixed number of sequences, handed out in
 * request order), an embedding context made on first use, the self-benchmark's rates and
 * the bookkeeping the memory budget needs (bytes held, requests running, last use).
 */
import type { ChatWrapper, GgufInsights, LlamaContext, LlamaEmbeddingContext, LlamaModel } from 'node-llama-cpp'
import type { LoadedModel, ModelFile } from '../../protocols/index.js'
import { AbortedError } from '../../base/index.js'
import type { BenchmarkResult } from './benchmark.js'
import type { LlamaRuntime } from './runtime.js'
import { SlotQueue } from './slots.js'

const MB = 1024 * 1024

export class HostedModel {
  readonly file: ModelFile
  readonly model: LlamaModel
  readonly context: LlamaContext
  readonly slots: SlotQueue
  readonly loadedAt = Date.now()
  readonly benchmark: BenchmarkResult
  bytes: number
  lastUsedAt = Date.now()
  /** The memory's use counter at the last use: orders uses within a millisecond. */
  lastUse = 0
  /** Requests holding it; it is never unloaded while this is above 0. */
  active = 0
  unloaded = false
  /** Created by the first embed request (its memory is added to `bytes` then). */
  embedding: Promise<LlamaEmbeddingContext> | undefined
  #chatWrapper: ChatWrapper | undefined

  constructor (init: { file: ModelFile, model: LlamaModel, context: LlamaContext, benchmark: BenchmarkResult, bytes: number }) {
    this.file = init.file
    this.model = init.model
    this.context = init.context
    this.benchmark = init.benchmark
    this.bytes = init.bytes
    this.slots = new SlotQueue(init.context.totalSequences)
  }

  get insights (): GgufInsights { return this.model.fileInsights }

  /** The chat template's wrapper, resolved once from the model's metadata. */
  chatWrapper (runtime: LlamaRuntime): ChatWrapper {
    return (this.#chatWrapper ??= runtime.lib.resolveChatWrapper(this.model))
  }

  status (): LoadedModel {
    return {
      name: this.file.name,
      digest: this.file.digest,
      memoryMb: bytesToMb(this.bytes),
      promptTokensPerSecond: this.benchmark.promptTokensPerSecond,
      generationTokensPerSecond: this.benchmark.generationTokensPerSecond,
      gpuLayers: this.model.gpuLayers,
      loadedAt: this.loadedAt,
      lastUsedAt: this.lastUsedAt,
      active: this.active,
    }
  }

  /** Fails the requests waiting for a sequence, then frees the contexts and the weights. */
  async dispose (): Promise<void> {
    this.unloaded = true
    this.slots.close(new AbortedError(`model ${this.file.name} was unloaded`))
    const embedding = await this.embedding?.catch(() => undefined)
    await embedding?.dispose()
    await this.context.dispose()
    await this.model.dispose()
  }
}

export const bytesToMb = (bytes: number): number => Math.round(bytes / MB * 1000) / 1000
export const mbToBytes = (mb: number): number => mb * MB
