/**
 * The read side of the corpus store: postings, chunk records and vector tables, cached in
 * memory after their first read (postings and chunks in bounded LRUs, a corpus's vectors as
 * one table). A write bumps its corpus's generation and refreshes or drops what it changed;
 * a read that began before that write does not cache what it read.
 */
import type { ClassicLevel } from 'classic-level'
import { decodePostings } from './bm25.js'
import { WeightedLru } from './cache.js'
import { checkAborted } from './errors.js'
import { decodeVector, type VectorTable } from './fuse.js'
import { corpusKeys, numberOfKey, type ChunkRecord } from './layout.js'
import type { Pause } from './pause.js'

export interface ReaderLimits {
  /** Posting entries (triples) cached, all corpora together. */
  postings: number
  /** Chunk text characters cached. */
  chunkChars: number
}

/** Keys a write reads at once (postingsForWrite). */
const WRITE_READ_SLICE = 1024

export const DEFAULT_READER_LIMITS: Readonly<ReaderLimits> = Object.freeze({ postings: 4_000_000, chunkChars: 16_000_000 })

export class CorpusReader {
  readonly #db: ClassicLevel<string, string>
  readonly #postings: WeightedLru<string, Uint32Array>
  readonly #chunks: WeightedLru<string, ChunkRecord>
  readonly #vectors = new Map<string, Promise<VectorTable>>()
  readonly #generation = new Map<string, number>()

  constructor (db: ClassicLevel<string, string>, limits: ReaderLimits = DEFAULT_READER_LIMITS) {
    this.#db = db
    this.#postings = new WeightedLru(limits.postings * 3, p => p.length + 8)
    this.#chunks = new WeightedLru(limits.chunkChars, c => c.text.length + 64)
  }

  #gen = (name: string): number => this.#generation.get(name) ?? 0

  /** The postings of each term (empty when the term is not in the corpus), in the terms' order. */
  async postings (name: string, terms: readonly string[], signal?: AbortSignal): Promise<Uint32Array[]> {
    const keys = terms.map(corpusKeys(name).term)
    return this.#cached(name, keys, this.#postings, text => text === undefined ? new Uint32Array(0) : decodePostings(text), signal)
  }

  /**
   * The postings of each term for a write that rewrites them: cached ones as they are, the rest
   * read as bytes (no strings on the heap) in slices of WRITE_READ_SLICE keys, with `pause`
   * between slices, and not cached (the write caches what it writes).
   */
  async postingsForWrite (name: string, terms: readonly string[], pause: Pause, signal?: AbortSignal): Promise<Uint32Array[]> {
    const keys = terms.map(corpusKeys(name).term)
    const values = keys.map(key => this.#postings.get(key))
    const missing = keys.flatMap((key, i) => values[i] === undefined ? [i] : [])
    for (let from = 0; from < missing.length; from += WRITE_READ_SLICE) {
      checkAborted(signal, 'reading the corpus')
      const slice = missing.slice(from, from + WRITE_READ_SLICE)
      const read = await this.#db.getMany(slice.map(i => keys[i]), { valueEncoding: 'view' }) as Array<Uint8Array | undefined>
      for (const [j, i] of slice.entries()) {
        await pause()
        const bytes = read[j]
        values[i] = bytes === undefined ? new Uint32Array(0) : decodePostings(bytes)
      }
    }
    return values as Uint32Array[]
  }

  /**
   * The stored postings text of each key as it is (ASCII bytes, empty when there is none), one
   * after another, key i's ending at ends[i]: read in slices of WRITE_READ_SLICE keys with
   * `pause` between them, past the cache (what the store caches is what it stored).
   */
  async storedPostings (keys: readonly string[], pause: Pause, signal?: AbortSignal): Promise<{ bytes: Uint8Array, ends: Uint32Array }> {
    const ends = new Uint32Array(keys.length)
    const slices: Uint8Array[] = []
    let size = 0
    for (let from = 0; from < keys.length; from += WRITE_READ_SLICE) {
      checkAborted(signal, 'reading the corpus')
      const read = await this.#db.getMany(keys.slice(from, from + WRITE_READ_SLICE), { valueEncoding: 'view' }) as Array<Uint8Array | undefined>
      await pause()
      const slice = new Uint8Array(read.reduce((sum, bytes) => sum + (bytes?.length ?? 0), 0))
      let at = 0
      for (const [j, bytes] of read.entries()) {
        if (bytes !== undefined) { slice.set(bytes, at); at += bytes.length }
        ends[from + j] = size + at
      }
      slices.push(slice)
      size += at
    }
    const bytes = new Uint8Array(size)
    for (let i = 0, at = 0; i < slices.length; at += slices[i].length, i++) bytes.set(slices[i], at)
    return { bytes, ends }
  }

  /** The records of the numbered chunks, in that order. */
  async chunks (name: string, numbers: readonly number[], signal?: AbortSignal): Promise<Array<ChunkRecord | undefined>> {
    const keys = numbers.map(corpusKeys(name).chunk)
    return this.#cached(name, keys, this.#chunks, text => text === undefined ? undefined : JSON.parse(text) as ChunkRecord, signal)
  }

  async #cached<V, D extends V | undefined> (name: string, keys: string[], cache: WeightedLru<string, V>, decode: (text: string | undefined) => D, signal: AbortSignal | undefined): Promise<Array<V | D>> {
    const values: Array<V | D | undefined> = keys.map(key => cache.get(key))
    const missing = keys.filter((_, i) => values[i] === undefined)
    if (missing.length === 0) return values as V[]
    checkAborted(signal, 'reading the corpus')
    const generation = this.#gen(name)
    const read = await this.#db.getMany(missing)
    const fresh = generation === this.#gen(name)
    let m = 0
    for (let i = 0; i < keys.length; i++) {
      if (values[i] !== undefined) continue
      const value = decode(read[m++])
      values[i] = value
      if (fresh && value !== undefined) cache.set(keys[i], value as V)
    }
    return values as Array<V | D>
  }

  /** Every vector of the corpus as one table, read once per generation. */
  async vectors (name: string, dims: number, signal?: AbortSignal): Promise<VectorTable> {
    let table = this.#vectors.get(name)
    if (table === undefined) {
      checkAborted(signal, 'reading the corpus')
      table = this.#loadVectors(name, dims)
      this.#vectors.set(name, table)
      table.catch(() => { if (this.#vectors.get(name) === table) this.#vectors.delete(name) })
    }
    return table
  }

  async #loadVectors (name: string, dims: number): Promise<VectorTable> {
    const entries = await this.#db.iterator(corpusKeys(name).vectors).all()
    const keys = new Uint32Array(entries.length)
    const matrix = new Float32Array(entries.length * dims)
    entries.forEach(([key, value], row) => {
      keys[row] = numberOfKey(key)
      const vector = decodeVector(value)
      if (vector.length === dims) matrix.set(vector, row * dims) // another dimension cannot happen unless damaged: leave that row zero
    })
    return { dims, keys, matrix }
  }

  /** After a write to `name`: new postings of the terms it touched (or their keys, to read again), chunks gone, vectors to reload. */
  written (name: string, change: { postings?: ReadonlyMap<string, Uint32Array>, stalePostings?: readonly string[], removedChunks?: readonly number[], all?: boolean }): void {
    this.#generation.set(name, this.#gen(name) + 1)
    this.#vectors.delete(name)
    const keys = corpusKeys(name)
    if (change.all === true) {
      this.#postings.deleteWhere(key => key.startsWith(keys.prefix))
      this.#chunks.deleteWhere(key => key.startsWith(keys.prefix))
    }
    for (const n of change.removedChunks ?? []) this.#chunks.delete(keys.chunk(n))
    for (const [term, postings] of change.postings ?? []) this.#postings.set(keys.term(term), postings)
    for (const key of change.stalePostings ?? []) this.#postings.delete(key)
  }
}
