/**
 * The loaded models and the memory budget they share. Memory is reserved before a model (or
 * an embedding context) is created: least recently used idle models are unloaded to make
 * room; when only models in use stand in the way, the reservation waits until one is released
 * (bounded by the caller's signal); what cannot fit even alone is ModelTooLargeError. A model in
 * use is never unloaded. Estimates, not measurements: llama.cpp's own allocations may differ.
 */
import type { Logger } from '../../base/index.js'
import { abortable } from './abort.js'
import { planAdmission, type ResidentModel } from './admission.js'
import { ModelTooLargeError } from './errors.js'
import { bytesToMb, mbToBytes, type HostedModel } from './hosted-model.js'

export interface ReserveOptions {
  /** For the error message. */
  name: string
  /** A model that must stay (the one the reservation adds to). */
  pinned?: string
  signal: AbortSignal
}

export class ModelMemory {
  readonly #models = new Map<string, HostedModel>()
  readonly #reservations = new Map<string, ResidentModel>()
  readonly #log: Logger
  #budgetBytes = 0
  /** Orders uses exactly (two in the same millisecond are still ordered). */
  #uses = 0
  #changed = changeSignal()

  constructor (log: Logger) {
    this.#log = log
  }

  get budgetMb (): number { return bytesToMb(this.#budgetBytes) }

  /** A new budget applies to the next reservation; a larger one wakes the waiting ones. */
  setBudgetMb (mb: number): void {
    if (mbToBytes(mb) === this.#budgetBytes) return
    this.#budgetBytes = mbToBytes(mb)
    this.#notify()
  }

  loaded (): HostedModel[] { return [...this.#models.values()] }

  /** The model, now held by the caller (release it), or undefined when it is not loaded. */
  acquire (digest: string): HostedModel | undefined {
    const hosted = this.#models.get(digest)
    if (hosted === undefined) return undefined
    hosted.active++
    this.#used(hosted)
    return hosted
  }

  release (hosted: HostedModel): void {
    hosted.active--
    this.#used(hosted)
    this.#notify()
  }

  add (hosted: HostedModel): void {
    this.#used(hosted)
    this.#models.set(hosted.file.digest, hosted)
  }

  /** Holds `bytes` under `key` until `unreserve(key)`, unloading idle models as needed. */
  async reserve (key: string, bytes: number, options: ReserveOptions): Promise<void> {
    for (;;) {
      const plan = planAdmission(this.#resident(options.pinned), bytes, this.#budgetBytes)
      switch (plan.kind) {
        case 'too-large':
          throw new ModelTooLargeError(`${options.name} needs ${bytesToMb(bytes)} MB more; the memory budget is ${this.budgetMb} MB`, {
            details: { name: options.name, neededMb: bytesToMb(bytes), budgetMb: this.budgetMb },
          })
        case 'fits':
          this.#reservations.set(key, { key, bytes, lastUsed: ++this.#uses, active: 1 })
          // An unload that fails still took the model out of the map; llama.cpp's own error is logged.
          for (const failed of (await Promise.allSettled(plan.evict.map(async digest => await this.unload(digest)))).filter(r => r.status === 'rejected')) {
            this.#log.warn({ err: failed.reason }, 'unloading a model failed')
          }
          return
        case 'wait':
          this.#log.debug({ name: options.name, neededMb: bytesToMb(bytes) }, 'waiting for models in use to become idle')
          await abortable(this.#changed.promise, options.signal)
          break
        default: plan satisfies never
      }
    }
  }

  unreserve (key: string): void {
    if (this.#reservations.delete(key)) this.#notify()
  }

  async unload (digest: string): Promise<void> {
    const hosted = this.#models.get(digest)
    if (hosted === undefined) return
    this.#models.delete(digest)
    this.#log.info({ name: hosted.file.name, digest, memoryMb: bytesToMb(hosted.bytes) }, 'unloading model')
    try {
      await hosted.dispose()
    } finally {
      this.#notify()
    }
  }

  async unloadAll (): Promise<void> {
    await Promise.allSettled([...this.#models.keys()].map(async digest => await this.unload(digest)))
  }

  #resident (pinned: string | undefined): ResidentModel[] {
    const models = [...this.#models.values()].map(h => ({
      key: h.file.digest, bytes: h.bytes, lastUsed: h.lastUse, active: h.active, pinned: h.file.digest === pinned,
    }))
    return [...models, ...this.#reservations.values()]
  }

  #used (hosted: HostedModel): void {
    hosted.lastUsedAt = Date.now()
    hosted.lastUse = ++this.#uses
  }

  #notify (): void {
    const changed = this.#changed
    this.#changed = changeSignal()
    changed.resolve()
  }
}

function changeSignal (): { promise: Promise<void>, resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>(r => { resolve = r })
  return { promise, resolve }
}
