/**
 * Models on demand: a request holds its model (loaded first if need be) while it runs, so the
 * memory budget never unloads it meanwhile. One load per digest: requests that find a load
 * running wait for it (each bounded by its own signal); if the request that started it aborts,
 * a waiter starts another. A load fails as a whole, leaving nothing allocated and nothing
 * reserved. Embedding contexts are made the same way, by the first embed request per model.
 */
import type { LlamaEmbeddingContext } from 'node-llama-cpp'
import { AbortedError, type Logger } from '../../base/index.js'
import type { HostSettings, ModelFile } from '../../protocols/index.js'
import { abortable, abortError } from './abort.js'
import { selfBenchmark } from './benchmark.js'
import { ModelHostError, ModelLoadError } from './errors.js'
import { HostedModel } from './hosted-model.js'
import { heldBytes, openModel, planLoad } from './load.js'
import type { ModelMemory } from './memory.js'
import type { LlamaRuntime } from './runtime.js'

export interface Lease { runtime: LlamaRuntime, hosted: HostedModel, loadMs: number }

export class ModelLoader {
  readonly #memory: ModelMemory
  readonly #log: Logger
  readonly #loading = new Map<string, Promise<HostedModel>>()

  constructor (memory: ModelMemory, log: Logger) {
    this.#memory = memory
    this.#log = log
  }

  /** Resolves when no load is running (each ends or fails). */
  async settled (): Promise<void> {
    await Promise.allSettled([...this.#loading.values()])
  }

  /** Runs `use` with the model loaded and held; `loadMs` adds the load's time when this call loaded it. */
  async withModel<T> (runtime: LlamaRuntime, loadMs: number, file: ModelFile, settings: HostSettings, signal: AbortSignal, use: (lease: Lease) => Promise<T>): Promise<T> {
    for (;;) {
      const hosted = this.#memory.acquire(file.digest)
      if (hosted !== undefined) {
        try {
          return await use({ runtime, hosted, loadMs })
        } finally {
          this.#memory.release(hosted)
        }
      }
      const started = performance.now()
      if (await this.#loadOnce(runtime, file, settings, signal)) loadMs += performance.now() - started
    }
  }

  /** The model's embedding context, made by the first request that needs it. */
  async embeddingContext (hosted: HostedModel, settings: HostSettings, signal: AbortSignal): Promise<LlamaEmbeddingContext> {
    for (;;) {
      const pending = hosted.embedding ?? this.#createEmbedding(hosted, settings, signal)
      hosted.embedding = pending
      try {
        return await abortable(pending, signal)
      } catch (err) {
        // Made by another request that gave up (it cleared `embedding`): make it again.
        if (signal.aborted || !(err instanceof AbortedError) || hosted.embedding === pending) throw err
      }
    }
  }

  /** Loads the model (true), or waits for the load already running (false). */
  async #loadOnce (runtime: LlamaRuntime, file: ModelFile, settings: HostSettings, signal: AbortSignal): Promise<boolean> {
    const pending = this.#loading.get(file.digest)
    if (pending !== undefined) {
      try {
        await abortable(pending, signal)
      } catch (err) {
        // Its own requester aborted it: the caller tries again.
        if (signal.aborted || !(err instanceof AbortedError)) throw err
      }
      return false
    }
    const load = this.#load(runtime, file, settings, signal)
    this.#loading.set(file.digest, load)
    try {
      await load
      return true
    } finally {
      this.#loading.delete(file.digest)
    }
  }

  async #load (runtime: LlamaRuntime, file: ModelFile, settings: HostSettings, signal: AbortSignal): Promise<HostedModel> {
    const started = performance.now()
    const plan = await planLoad(runtime, file, settings, signal)
    const reservation = `load:${file.digest}`
    try {
      await this.#memory.reserve(reservation, plan.estimatedBytes, { name: file.name, signal })
      const opened = await openModel(runtime, file, settings, plan, signal)
      try {
        const benchmark = await selfBenchmark(opened.model, opened.context)
        if (signal.aborted) throw abortError(signal, `loading model ${file.name}`)
        const hosted = new HostedModel({ file, ...opened, benchmark, bytes: heldBytes(opened) })
        this.#memory.add(hosted)
        this.#log.info({ ...hosted.status(), loadMs: Math.round(performance.now() - started) }, 'model loaded')
        return hosted
      } catch (err) {
        await opened.context.dispose()
        await opened.model.dispose()
        throw asLoadError(err, file, 'loaded but cannot run')
      }
    } finally {
      this.#memory.unreserve(reservation)
    }
  }

  async #createEmbedding (hosted: HostedModel, settings: HostSettings, signal: AbortSignal): Promise<LlamaEmbeddingContext> {
    const { file, model } = hosted
    const contextSize = hosted.context.contextSize
    const reservation = `embed:${file.digest}`
    try {
      const estimate = await hosted.insights.estimateContextResourceRequirementsV2({ contextSize, sequences: 1, modelGpuLayers: model.gpuLayers, isEmbeddingContext: true })
      const bytes = estimate.cpuRam + estimate.gpuVram
      await this.#memory.reserve(reservation, bytes, { name: `${file.name} (embeddings)`, pinned: file.digest, signal })
      const embedding = await model.createEmbeddingContext({ contextSize, threads: settings.threads, createSignal: signal })
      hosted.bytes += bytes
      return embedding
    } catch (err) {
      hosted.embedding = undefined
      if (signal.aborted) throw abortError(signal, 'creating an embedding context')
      throw asLoadError(err, file, 'has no embedding context')
    } finally {
      this.#memory.unreserve(reservation)
    }
  }
}

/** The host's own errors and aborts as they are; anything else (llama.cpp's) as ModelLoadError. */
function asLoadError (err: unknown, file: ModelFile, what: string): Error {
  if (err instanceof ModelHostError || err instanceof AbortedError) return err
  return new ModelLoadError(`model ${file.name} ${what}: ${(err as Error).message}`, { cause: err, details: { name: file.name, path: file.path } })
}
