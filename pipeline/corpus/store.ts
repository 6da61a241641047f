/**
 * CorpusStore: named corpora of text and code in the node's LevelDB, ranked by BM25 and, when
 * an embedding function is given, by reciprocal rank fusion of BM25 and cosine similarity.
 *
 * Guarantees: every change (add, import, remove) is one atomic batch written with `sync`, so
 * once it returns it survives a crash, and a crash before leaves the corpus as it was.
 * Changes to one corpus run one at a time; a query racing a change may see either state.
 * Keep exactly one CorpusStore per database (its caches assume no other writer).
 * Limits: a query reads only its own terms' postings (cached after the first read); an add
 * rewrites the postings of every term it touches, so many small adds to a large corpus cost
 * more than one large add (addDir batches for this).
 */
import type { ClassicLevel } from 'classic-level'
import { silentLogger, type Logger } from '../../base/index.js'
import { scoreBm25, topK } from './bm25.js'
import { DEFAULT_CHUNK_LIMITS, type Chunk, type ChunkLimits } from './chunk.js'
import { decodeCorpusBlob, encodeCorpusBlob } from './blob.js'
import { embedTexts, type EmbedFunction } from './embed.js'
import { checkAborted, CorpusNotFoundError, CorpusOptionsError, EmptyQueryError } from './errors.js'
import { readTextFiles, type SkipReason, type TextFileOptions } from './files.js'
import { cosineScores, decodeVector } from './fuse.js'
import { rankChunks } from './rank.js'
import { assertCorpusName, corpusKeys, END, nameOfKey, numberOfKey, ROOT, type ChunkRecord, type CorpusMeta } from './layout.js'
import type { IndexedChunk } from './plan.js'
import { indexedOfPrepared, prepareDocuments, textsOfPrepared, type PreparedDocuments } from './prepare.js'
import { DocumentIndexer } from './indexer.js'
import { CorpusReader, type ReaderLimits } from './reader.js'
import { pauseEvery } from './pause.js'
import { serialByKey } from './serial.js'
import { writeCorpus, type WriteOptions } from './write.js'
import { queryTerms, termFrequencies } from './tokenize.js'

export interface CorpusStoreInit {
  logger?: Logger
  cache?: ReaderLimits
  signal?: AbortSignal
  /** Indexing yields to the event loop after this much work (default 10 ms; Infinity: never, the old behaviour). */
  yieldEveryMs?: number
}
export interface AddOptions {
  signal?: AbortSignal
  embed?: EmbedFunction
  /** The model behind `embed`, recorded in the corpus: vectors of another model are refused. */
  embedModel?: string
  limits?: ChunkLimits
}
export interface AddResult { chunks: number, sources: number }
export interface AddDirOptions extends AddOptions, TextFileOptions {}
export interface AddDirResult extends AddResult { skipped: Record<SkipReason, number> }
export interface QueryOptions { k?: number, signal?: AbortSignal, embed?: EmbedFunction }
export interface QueryResult {
  chunk: Chunk
  /** BM25 score, or the fused RRF score when ranked with vectors too. */
  score: number
  /** 1-based rank by BM25; absent when no query term is in the chunk. */
  bm25Rank?: number
  /** 1-based rank by cosine similarity; present only in hybrid queries. */
  vectorRank?: number
}
export interface CorpusSummary { name: string, chunks: number, sources: number, dims: number | null, embedModel: string | null, updatedAt: string }

export const MAX_K = 100
const DEFAULT_K = 8
/** How deep each ranking goes before fusion. */
const FUSION_DEPTH = 50
/** addDir adds in batches of about this much text, so memory stays bounded. */
const ADD_DIR_BATCH_CHARS = 8 * 1024 * 1024
/** Indexing yields to the event loop after this much work, so a large add never stalls the node. */
const DEFAULT_SLICE_MS = 10

const summaryOf = (name: string, m: CorpusMeta): CorpusSummary =>
  ({ name, chunks: m.chunks, sources: m.sources, dims: m.dims, embedModel: m.embedModel ?? null, updatedAt: m.updatedAt })

export class CorpusStore {
  readonly #db: ClassicLevel<string, string>
  readonly #log: Logger
  readonly #reader: CorpusReader
  readonly #catalog = new Map<string, CorpusMeta>()
  /** Runs changes to one corpus one at a time. */
  readonly #locked = serialByKey()
  readonly #sliceMs: number
  #indexer: DocumentIndexer | undefined

  private constructor (db: ClassicLevel<string, string>, init: CorpusStoreInit) {
    this.#db = db
    this.#log = init.logger ?? silentLogger()
    this.#reader = new CorpusReader(db, init.cache)
    this.#sliceMs = init.yieldEveryMs ?? DEFAULT_SLICE_MS
  }

  /** Opens the corpora in `db` (an open database): reads each corpus's meta, nothing more. */
  static async open (db: ClassicLevel<string, string>, init: CorpusStoreInit = {}): Promise<CorpusStore> {
    const store = new CorpusStore(db, init)
    // Corpora lie in contiguous key ranges: read one key, then skip past that corpus.
    for (let after = ROOT; ;) {
      checkAborted(init.signal, 'opening the corpora')
      const [key] = await db.keys({ gt: after, lt: ROOT + END, limit: 1 }).all()
      if (key === undefined) break
      const name = nameOfKey(key)
      const meta = await db.get(corpusKeys(name).meta)
      if (meta === undefined) store.#log.warn({ corpus: name }, 'corpus keys without a meta record; ignored')
      else store.#catalog.set(name, JSON.parse(meta) as CorpusMeta)
      after = `${ROOT}${name};` // ';' sorts right after ':'
    }
    store.#log.debug({ corpora: store.#catalog.size }, 'corpora opened')
    return store
  }

  list (): CorpusSummary[] {
    return [...this.#catalog].sort(([a], [b]) => a < b ? -1 : 1).map(([name, m]) => summaryOf(name, m))
  }

  /** Adds documents (chunked here, yielding to the event loop); a path already in the corpus has its chunks replaced. Creates the corpus if needed. */
  async add (name: string, documents: ReadonlyArray<{ path: string, text: string }>, options: AddOptions = {}): Promise<AddResult> {
    assertCorpusName(name)
    const bad = documents.flatMap((d, i) => typeof d?.path !== 'string' || d.path === '' || typeof d.text !== 'string' ? [`documents[${i}]: needs a path and a text`] : [])
    if (bad.length > 0) throw new CorpusOptionsError(bad[0], { details: bad })
    return this.addPrepared(name, await prepareDocuments(documents, options.limits ?? DEFAULT_CHUNK_LIMITS, pauseEvery(this.#sliceMs)), options)
  }

  /**
   * Adds an upload's raw body, `{ documents: [{ path, text }] }` as UTF-8 JSON: parsed, checked
   * (InvalidDocumentsError) and prepared on the indexing worker thread (indexer.ts), inserted
   * here in yielding steps. Takes ownership of `body` (its buffer is transferred).
   */
  async addBody (name: string, body: Uint8Array, options: AddOptions = {}): Promise<AddResult> {
    assertCorpusName(name)
    this.#indexer ??= new DocumentIndexer({ logger: this.#log })
    return this.addPrepared(name, await this.#indexer.prepare(body, { limits: options.limits ?? DEFAULT_CHUNK_LIMITS, signal: options.signal }), options, true)
  }

  /** Adds a prepared batch (prepare.ts), embedding its chunks first when `embed` is given; `onWorker`: its postings are merged on the indexing worker thread. */
  async addPrepared (name: string, prepared: PreparedDocuments, options: AddOptions = {}, onWorker = false): Promise<AddResult> {
    assertCorpusName(name)
    const vectors = options.embed === undefined
      ? undefined
      : await embedTexts(options.embed, textsOfPrepared(prepared), { signal: options.signal, dims: this.#catalog.get(name)?.dims })
    return this.#write(name, indexedOfPrepared(prepared, vectors), { replace: false, signal: options.signal, embedModel: options.embed === undefined ? undefined : options.embedModel, ...(onWorker ? { prepared } : {}) })
  }

  /** Stops the indexing worker thread, if one was started. */
  async close (): Promise<void> {
    await this.#indexer?.stop()
    this.#indexer = undefined
  }

  /** The summary of one corpus; CorpusNotFoundError when there is none. */
  get (name: string): CorpusSummary {
    assertCorpusName(name)
    return summaryOf(name, this.#meta(name))
  }

  /** Adds the text files of a directory (see files.ts for what is skipped), in batches. */
  async addDir (name: string, dir: string, options: AddDirOptions = {}): Promise<AddDirResult> {
    assertCorpusName(name)
    const result: AddDirResult = { chunks: 0, sources: 0, skipped: { binary: 0, 'too-large': 0, 'not-included': 0, unreadable: 0, limit: 0 } }
    let batch: Array<{ path: string, text: string }> = []
    let chars = 0
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return
      const added = await this.add(name, batch, options)
      result.chunks += added.chunks
      result.sources += added.sources
      batch = []
      chars = 0
    }
    for await (const file of readTextFiles([dir], options)) {
      if ('skipped' in file) { result.skipped[file.skipped]++; this.#log.debug({ corpus: name, path: file.path, skipped: file.skipped }, 'file skipped'); continue }
      batch.push(file)
      chars += file.text.length
      if (chars >= ADD_DIR_BATCH_CHARS) await flush()
    }
    await flush()
    return result
  }

  async query (name: string, text: string, options: QueryOptions = {}): Promise<QueryResult[]> {
    assertCorpusName(name)
    const k = options.k ?? DEFAULT_K
    if (!Number.isInteger(k) || k < 1 || k > MAX_K) throw new CorpusOptionsError(`k must be a whole number from 1 to ${MAX_K}, got ${k}`, { details: [`k: ${k}`] })
    const meta = this.#meta(name)
    if (typeof text !== 'string' || text.trim() === '') throw new EmptyQueryError('the query is empty')
    const terms = queryTerms(text)
    const embed = meta.dims === null ? undefined : options.embed // a corpus without vectors ranks by BM25 alone
    if (terms.length === 0 && embed === undefined) throw new EmptyQueryError(`the query ${JSON.stringify(text.slice(0, 80))} has no searchable term (only stop words or punctuation)`)
    const depth = embed === undefined ? k : Math.max(k, FUSION_DEPTH)
    const bm25 = topK(scoreBm25(await this.#reader.postings(name, terms, options.signal), meta), depth)
    let cosine: Array<[number, number]> | undefined
    if (embed !== undefined && meta.dims !== null) {
      const [vector] = await embedTexts(embed, [text], { signal: options.signal, dims: meta.dims })
      cosine = topK(cosineScores(await this.#reader.vectors(name, meta.dims, options.signal), vector), depth)
    }
    const ranked = rankChunks(bm25, cosine, k)
    const records = await this.#reader.chunks(name, ranked.map(r => r.n), options.signal)
    return ranked.flatMap(({ n, ...ranks }, i) => {
      const record = records[i]
      if (record === undefined) return [] // removed by a change racing this query
      const { length: _, ...chunk } = record
      return [{ chunk, ...ranks }]
    })
  }

  async remove (name: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    assertCorpusName(name)
    await this.#locked(name, async () => {
      this.#meta(name)
      checkAborted(options.signal, 'removing the corpus')
      const keys = await this.#db.keys(corpusKeys(name).all).all()
      await this.#db.batch(keys.map(key => ({ type: 'del' as const, key })), { sync: true })
      this.#catalog.delete(name)
      this.#reader.written(name, { all: true })
      this.#log.debug({ corpus: name, keys: keys.length }, 'corpus removed')
    })
  }

  /** The corpus as one blob (blob.ts), to share with peers. */
  async export (name: string, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    assertCorpusName(name)
    return this.#locked(name, async () => {
      const meta = this.#meta(name)
      const keys = corpusKeys(name)
      const chunks = await this.#db.iterator(keys.chunks).all()
      checkAborted(options.signal, 'exporting the corpus')
      const vectors = new Map((await this.#db.iterator(keys.vectors).all()).map(([key, value]) => [numberOfKey(key), value]))
      return encodeCorpusBlob(meta.dims, meta.embedModel, chunks.map(([key, value]) => {
        const { length: _, ...chunk } = JSON.parse(value) as ChunkRecord
        const vector = vectors.get(numberOfKey(key))
        return vector === undefined ? chunk : { ...chunk, vector }
      }))
    })
  }

  /** Replaces the corpus `name` (or creates it) with an exported blob's chunks. */
  async import (name: string, bytes: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<AddResult> {
    assertCorpusName(name)
    const blob = decodeCorpusBlob(bytes)
    const sources = new Map<string, IndexedChunk[]>()
    const pause = pauseEvery(this.#sliceMs)
    for (const { vector, ...chunk } of blob.chunks) {
      await pause()
      let list = sources.get(chunk.source)
      if (list === undefined) sources.set(chunk.source, list = [])
      const { terms, length } = termFrequencies(chunk.text)
      list.push({ source: chunk.source, record: JSON.stringify({ ...chunk, length } satisfies ChunkRecord), terms, length, ...(vector === undefined ? {} : { vector: decodeVector(vector) }) })
    }
    return this.#write(name, sources, { replace: true, signal: options.signal, embedModel: blob.embedModel })
  }

  #meta (name: string): CorpusMeta {
    const meta = this.#catalog.get(name)
    if (meta === undefined) throw new CorpusNotFoundError(`no corpus ${JSON.stringify(name)}`, { details: { name } })
    return meta
  }

  /** One batch: the sources' new chunks (replacing their old ones), or with `replace` the whole corpus (write.ts). */
  async #write (name: string, fresh: Map<string, IndexedChunk[]>, options: WriteOptions): Promise<AddResult> {
    return this.#locked(name, async () => writeCorpus({ db: this.#db, reader: this.#reader, catalog: this.#catalog, log: this.#log, sliceMs: this.#sliceMs, indexer: () => this.#indexer ??= new DocumentIndexer({ logger: this.#log }) }, name, fresh, options))
  }
}
