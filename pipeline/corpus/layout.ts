/**
 * Where a corpus lives in the node's LevelDB: plain prefixed keys (cheaper in batches than
 * sublevels), every change one atomic batch:
 *   corpus:<name>:meta              -> CorpusMeta             counts, corpus stats, embedding dimension
 *   corpus:<name>:t:<term>          -> postings               "chunk,tf,length,..." (bm25.ts)
 *   corpus:<name>:c:<chunk:10>      -> ChunkRecord            the chunk and its length in tokens
 *   corpus:<name>:v:<chunk:10>      -> base64 float32         the chunk's unit vector (hybrid only)
 *   corpus:<name>:s:<source path>   -> SourceRecord           its chunks and terms (to replace it)
 * A name holds no `:`, so no corpus's keys lie inside another's range.
 */
import type { Chunk } from './chunk.js'
import { InvalidCorpusNameError } from './errors.js'
import { TOKENIZER_VERSION } from './tokenize.js'

/** A corpus name: a letter or digit, then up to 127 letters, digits, `.`, `_` or `-` (model names without `:`). */
export const CORPUS_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

export function assertCorpusName (name: unknown): asserts name is string {
  if (typeof name !== 'string' || !CORPUS_NAME_PATTERN.test(name)) {
    throw new InvalidCorpusNameError(`invalid corpus name ${JSON.stringify(name)}: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit`, { details: { name } })
  }
}

export const ROOT = 'corpus:'
/** Sorts after every key character we write. */
export const END = '\uffff'

export interface CorpusMeta {
  v: 1
  /** TOKENIZER_VERSION the terms were made with. */
  tokenizer: number
  chunks: number
  sources: number
  /** Sum of the chunks' lengths in tokens (BM25's average length). */
  totalLength: number
  /** The number the next chunk gets; numbers are never reused within a corpus. */
  nextChunk: number
  /** Embedding dimension, once a chunk has a vector. */
  dims: number | null
  /** The model that made the vectors (queries must be embedded by it too); absent when none was named. */
  embedModel?: string
  updatedAt: string
}

export interface ChunkRecord extends Chunk { length: number }
export interface SourceRecord { chunks: number[], terms: string[], length: number }

/** A put's value is text, or UTF-8 bytes written as they are (chunk records prepared off the main thread). */
export type BatchOp = { type: 'put', key: string, value: string | Uint8Array } | { type: 'del', key: string }

export const emptyMeta = (now: string): CorpusMeta => ({ v: 1, tokenizer: TOKENIZER_VERSION, chunks: 0, sources: 0, totalLength: 0, nextChunk: 0, dims: null, updatedAt: now })

const pad = (n: number): string => String(n).padStart(10, '0')

export function corpusKeys (name: string) {
  const prefix = `${ROOT}${name}:`
  return {
    prefix,
    meta: `${prefix}meta`,
    term: (term: string) => `${prefix}t:${term}`,
    chunk: (n: number) => `${prefix}c:${pad(n)}`,
    vector: (n: number) => `${prefix}v:${pad(n)}`,
    source: (path: string) => `${prefix}s:${path}`,
    chunks: { gt: `${prefix}c:`, lt: `${prefix}c:${END}` },
    vectors: { gt: `${prefix}v:`, lt: `${prefix}v:${END}` },
    all: { gte: prefix, lt: `${prefix}${END}` },
  }
}
export type CorpusKeys = ReturnType<typeof corpusKeys>

/** The chunk number in a `c:` or `v:` key. */
export const numberOfKey = (key: string): number => Number(key.slice(-10))

/** The corpus name in any of its keys. */
export const nameOfKey = (key: string): string => key.slice(ROOT.length, key.indexOf(':', ROOT.length))
