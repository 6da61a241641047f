/**
 * The node's corpora: the CorpusStore with the mesh's help.
 * - Embeddings: with `models.embeddingModel` configured, chunks and queries are embedded by
 *   `embed` tasks placed by the auction like any other (on whichever node serves the model);
 *   the corpus records its model, and a query is embedded by that model, whatever the config
 *   says now.
 * - Sharing: a build task naming a corpus carries a reference to it as one blob (`share`,
 *   on the node the task is submitted to); the node that coordinates the build fetches the
 *   blob once, imports it as `<name>.shared-<digest>` and queries that copy (`retrieve`), so
 *   generation anywhere has the same context. Older copies of the same corpus are dropped.
 */
import type { ApiCorpora } from './api/corpora.js'
import { type Logger, GryphgenError } from '../base/index.js'
import { type CorpusRef, runToEnd, type TaskOps } from '../tasks/index.js'
import { vectorsOfResult } from './kinds/vectors.js'
import type { AddOptions, AddResult, CorpusStore, CorpusSummary, EmbedFunction, QueryResult } from '../pipeline/corpus/index.js'

export interface CorporaBlobs {
  put: (bytes: Uint8Array, options: { signal?: AbortSignal }) => Promise<{ digest: string, size: number }>
  get: (digest: string, options: { signal?: AbortSignal, hints?: readonly string[] }) => Promise<Uint8Array>
  has: (digest: string, options: { signal?: AbortSignal }) => Promise<boolean>
}

export interface NodeCorporaInit {
  store: CorpusStore
  /** Tasks of the mesh (the embed tasks go there); read when first needed. */
  tasks: () => TaskOps
  blobs: () => CorporaBlobs
  peerId: () => string
  embeddingModel?: string
  logger: Logger
}

/** An `embed` task for a corpus did not end with vectors. */
export class EmbeddingFailedError extends GryphgenError {}

const SHARED = '.shared-'
const sharedName = (name: string, digest: string): string => `${name.slice(0, 100)}${SHARED}${digest.slice(0, 16)}`

export class NodeCorpora implements ApiCorpora {
  readonly #c: NodeCorporaInit
  /** The blob of each corpus shared from here, while the corpus is unchanged. */
  readonly #shared = new Map<string, { updatedAt: string, ref: CorpusRef }>()
  readonly #importing = new Map<string, Promise<string>>()

  constructor (init: NodeCorporaInit) {
    this.#c = init
  }

  list (): CorpusSummary[] { return this.#c.store.list() }

  /** An upload's raw JSON body, parsed and prepared on the store's indexing worker thread. */
  async addBody (name: string, body: Uint8Array, options: { signal?: AbortSignal }): Promise<AddResult> {
    return this.#c.store.addBody(name, body, this.#addOptions(options))
  }

  #addOptions (options: { signal?: AbortSignal }): AddOptions {
    const model = this.#c.embeddingModel
    return { signal: options.signal, ...(model === undefined ? {} : { embed: this.#embedder(model), embedModel: model }) }
  }

  /** Hybrid when the corpus has vectors; BM25 alone (logged; results carry no vectorRank) when its model cannot embed the query now. */
  async query (name: string, text: string, options: { k?: number, signal?: AbortSignal }): Promise<QueryResult[]> {
    const { embedModel } = this.#c.store.get(name)
    if (embedModel === null) return this.#c.store.query(name, text, options)
    try {
      return await this.#c.store.query(name, text, { ...options, embed: this.#embedder(embedModel) })
    } catch (err) {
      if ((err as Error).name !== 'EmbeddingFailedError') throw err
      this.#c.logger.warn({ corpus: name, model: embedModel, err: (err as Error).message }, 'cannot embed the query: ranking by BM25 alone')
      return this.#c.store.query(name, text, options)
    }
  }

  async remove (name: string, options: { signal?: AbortSignal }): Promise<void> {
    this.#shared.delete(name)
    await this.#c.store.remove(name, options)
  }

  /** The corpus as a blob others can fetch (CorpusNotFoundError when there is none). */
  async share (name: string, options: { signal?: AbortSignal } = {}): Promise<CorpusRef> {
    const { updatedAt } = this.#c.store.get(name)
    const known = this.#shared.get(name)
    // Unchanged and still stored (blob garbage collection may have removed it): the same ref.
    if (known?.updatedAt === updatedAt && await this.#c.blobs().has(known.ref.digest, options)) return known.ref
    const bytes = await this.#c.store.export(name, options)
    const { digest, size } = await this.#c.blobs().put(bytes, options)
    const ref = { name, digest, size, from: this.#c.peerId() }
    this.#shared.set(name, { updatedAt, ref })
    return ref
  }

  /** The top chunks of a shared corpus (its local copy, fetched and imported on first use). */
  async retrieve (ref: CorpusRef, query: string, options: { k: number, signal: AbortSignal }): Promise<QueryResult[]> {
    return this.query(await this.#localCopy(ref, options.signal), query, options)
  }

  async #localCopy (ref: CorpusRef, signal: AbortSignal): Promise<string> {
    if (this.#shared.get(ref.name)?.ref.digest === ref.digest) return ref.name // shared from here, unchanged since
    const copy = sharedName(ref.name, ref.digest)
    if (this.list().some(c => c.name === copy)) return copy
    let importing = this.#importing.get(copy)
    if (importing === undefined) {
      importing = this.#import(ref, copy, signal).finally(() => this.#importing.delete(copy))
      this.#importing.set(copy, importing)
    }
    return importing
  }

  async #import (ref: CorpusRef, copy: string, signal: AbortSignal): Promise<string> {
    const bytes = await this.#c.blobs().get(ref.digest, { signal, hints: [ref.from] })
    const added = await this.#c.store.import(copy, bytes, { signal })
    this.#c.logger.info({ corpus: ref.name, copy, chunks: added.chunks, from: ref.from }, 'shared corpus imported')
    const prefix = `${ref.name.slice(0, 100)}${SHARED}`
    for (const old of this.list().filter(c => c.name.startsWith(prefix) && c.name !== copy)) {
      await this.#c.store.remove(old.name, { signal }).catch(err => { this.#c.logger.warn({ corpus: old.name, err: (err as Error).message }, 'cannot drop an older shared copy') })
    }
    return copy
  }

  /** Texts to vectors through one `embed` task on the mesh per call (the store calls it in batches of EMBED_BATCH). */
  #embedder (model: string): EmbedFunction {
    return async (texts, signal) => {
      const running = await runToEnd(this.#c.tasks(), { kind: 'embed', model, texts }, { signal })
      const view = await running.done
      if (view.blocked?.verdict === 'impossible') running.cancel() // no node can: do not leave it pending
      if (view.state !== 'succeeded' || view.result === undefined) {
        throw new EmbeddingFailedError(`embedding with ${model} failed: ${view.error ?? view.blocked?.reasons.map(r => r.reason).join('; ') ?? view.state}`, { details: { task: view.id, model } })
      }
      return vectorsOfResult(view.result, this.#c.blobs(), signal)
    }
  }
}
