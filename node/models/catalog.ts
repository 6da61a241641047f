/**
 * ModelCatalog: what this node can serve. The models of its store (re-read whenever the
 * store's manifest changes, so `gryphgen model add` on a running node is picked up within a
 * poll) joined with what its model worker reports with every result (which models are
 * loaded, their measured speeds). Speeds are remembered by file digest after an unload, so
 * the advert keeps them. `events` emits `change` when what the advert would say changes.
 */
import { EventEmitter } from 'node:events'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ModelNotFoundError, ModelStore, type ModelEntry } from '../../models/index.js'
import type { ModelCapability, HostSettings, HostStatus, ModelFile } from '../../protocols/index.js'
import type { Logger } from '../../base/index.js'

export interface ModelCatalogInit {
  dataDir: string
  settings: HostSettings
  logger: Logger
  /** How often the store's manifest is checked for changes. Default 1000 ms. */
  pollMs?: number
}

interface Speeds { promptTokensPerSecond: number, generationTokensPerSecond: number }

export class ModelCatalog {
  readonly settings: HostSettings
  readonly #store: ModelStore
  readonly #manifest: string
  readonly #log: Logger
  readonly #pollMs: number
  #entries: ModelEntry[] = []
  #manifestStamp = ''
  #loaded = new Set<string>()
  readonly #speeds = new Map<string, Speeds>()
  #timer: NodeJS.Timeout | undefined
  #refreshing: Promise<void> | undefined
  #advertised = ''
  readonly events = new EventEmitter<{ change: [] }>()

  private constructor (store: ModelStore, init: ModelCatalogInit) {
    this.#store = store
    this.#manifest = join(store.root, 'index.json')
    this.settings = init.settings
    this.#log = init.logger
    this.#pollMs = init.pollMs ?? 1000
  }

  static async open (init: ModelCatalogInit): Promise<ModelCatalog> {
    const catalog = new ModelCatalog(await ModelStore.open({ dataDir: init.dataDir }), init)
    await catalog.refresh()
    return catalog
  }

  start (): void {
    this.#timer = setInterval(() => { void this.refresh().catch((err: Error) => { this.#log.warn({ err: err.message }, 'model store unreadable') }) }, this.#pollMs)
    this.#timer.unref()
  }

  stop (): void { clearInterval(this.#timer) }

  /** Re-read the store when its manifest changed (cheap otherwise: one stat). */
  async refresh (): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        const s = await stat(this.#manifest).catch(() => undefined)
        const stamp = s === undefined ? 'none' : `${s.mtimeMs}:${s.size}:${s.ino}`
        if (stamp === this.#manifestStamp) return
        this.#entries = await this.#store.list()
        this.#manifestStamp = stamp
        this.#log.info({ models: this.#entries.map(m => m.name) }, 'model store read')
        this.#changed()
      } finally {
        this.#refreshing = undefined
      }
    })()
    return this.#refreshing
  }

  list (): readonly ModelEntry[] { return this.#entries }

  /** The file behind a name for the worker; ModelNotFoundError when this node has no such usable model. */
  async resolve (name: string): Promise<ModelFile> {
    let entry = this.#entries.find(m => m.name === name)
    if (entry === undefined) {
      await this.refresh()
      entry = this.#entries.find(m => m.name === name)
    }
    if (entry === undefined || !entry.available) throw new ModelNotFoundError(`this node has no usable model ${name}`)
    return { name: entry.name, path: entry.path, digest: entry.digest, bytes: entry.bytes }
  }

  /** The worker's state after a request: which models are loaded, their speeds. */
  observe (host: HostStatus): void {
    this.#loaded = new Set(host.loaded.map(m => m.digest))
    for (const m of host.loaded) {
      if (m.generationTokensPerSecond > 0) this.#speeds.set(m.digest, { promptTokensPerSecond: m.promptTokensPerSecond, generationTokensPerSecond: m.generationTokensPerSecond })
    }
    this.#changed()
  }

  /** The usable models of the store as the capability advert carries them (as many as fit its budget). */
  capabilities (): ModelCapability[] {
    return advertisedModels(this.#entries.filter(m => m.available).map(m => {
      const speeds = this.#speeds.get(m.digest)
      return {
        name: m.name,
        digest: m.digest,
        sizeMb: Math.ceil(m.bytes / (1024 * 1024)),
        quantization: m.quantization.slice(0, 32),
        ...(m.contextLength === null ? {} : { contextLength: m.contextLength }),
        loaded: this.#loaded.has(m.digest),
        ...(speeds === undefined ? {} : { promptTokensPerSecond: round(speeds.promptTokensPerSecond), generationTokensPerSecond: round(speeds.generationTokensPerSecond) }),
      }
    }))
  }

  #changed (): void {
    const now = JSON.stringify(this.capabilities())
    if (now === this.#advertised) return
    this.#advertised = now
    this.events.emit('change')
  }
}

const round = (n: number): number => Math.round(n * 10) / 10

/** What the models may take of an advert (whose whole limit is ADVERT_MAX_BYTES, 8 KiB). */
export const ADVERT_MODELS_BYTES = 4096

/**
 * The models an advert carries: loaded ones first, then by name, as many as fit `maxBytes` of
 * JSON (at most 64). A node with more models still serves them all; peers just do not see
 * the rest in its advert, so they place requests for those elsewhere. Pure.
 */
export function advertisedModels (models: readonly ModelCapability[], maxBytes = ADVERT_MODELS_BYTES): ModelCapability[] {
  const ordered = [...models].sort((a, b) => Number(b.loaded) - Number(a.loaded) || a.name.localeCompare(b.name))
  const out: ModelCapability[] = []
  let bytes = 2
  for (const m of ordered) {
    const size = JSON.stringify(m).length + 1
    if (out.length >= 64 || bytes + size > maxBytes) break
    out.push(m)
    bytes += size
  }
  return out
}
