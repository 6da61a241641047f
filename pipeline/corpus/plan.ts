/**
 * What adding documents to a corpus writes, as one batch: the new chunks (numbered on from
 * `nextChunk`), their vectors, every affected term's postings rewritten without the replaced
 * chunks and with the new ones, the source records and the corpus meta. A source given again
 * replaces all its chunks; a source given with no chunks is removed. Pure; `pause` lets a
 * large plan yield to the event loop between chunks and terms (pause.ts).
 */
import { encodePostingsBytes } from './bm25.js'
import { encodeVector } from './fuse.js'
import { NEVER_PAUSE, type Pause } from './pause.js'
import type { BatchOp, CorpusKeys, CorpusMeta, SourceRecord } from './layout.js'

/** A chunk ready to index: its stored record, term frequencies, length in tokens and, in hybrid corpora, unit vector. */
export interface IndexedChunk {
  source: string
  /** The ChunkRecord as stored: its JSON, as text or as UTF-8 bytes (prepare.ts). */
  record: string | Uint8Array
  /** Each term once, with its frequency; may be iterated more than once. */
  terms: Iterable<readonly [string, number]>
  length: number
  vector?: Float32Array
}

export interface SourceChange {
  old: SourceRecord | undefined
  chunks: IndexedChunk[]
  /** The new chunks' terms, each once, in first-seen order, when known already (else read from the chunks). */
  terms?: readonly string[]
}

export interface AddPlanInput {
  keys: CorpusKeys
  meta: CorpusMeta
  /** By source path: what it had, what it gets. */
  sources: ReadonlyMap<string, SourceChange>
  /** The current postings of every term in affectedTerms(sources); a missing term has none. */
  postings: ReadonlyMap<string, Uint32Array>
  now: string
}

export interface AddPlan extends SourcesPlan {
  /** The new postings of every affected term (empty: the term is gone). */
  postings: Map<string, Uint32Array>
}

/** The terms whose postings an add rewrites: the replaced chunks' and the new chunks'. */
export function affectedTerms (sources: ReadonlyMap<string, SourceChange>): Set<string> {
  const terms = new Set<string>()
  for (const { old, chunks } of sources.values()) {
    for (const term of old?.terms ?? []) terms.add(term)
    for (const chunk of chunks) for (const [term] of chunk.terms) terms.add(term)
  }
  return terms
}

export interface SourcesPlan {
  /** Every op but the postings' and the meta's (the caller writes those). */
  ops: BatchOp[]
  /** The meta after the change. */
  meta: CorpusMeta
  removedChunks: number[]
  added: number
  sources: number
}

/**
 * The chunk, vector and source ops of an add, the postings left to the caller: new chunks are
 * numbered on from `meta.nextChunk` in the order given (sources in map order, each source's
 * chunks in order), and `onChunk` sees each with its number.
 */
export async function planSources (input: Omit<AddPlanInput, 'postings'>, pause: Pause = NEVER_PAUSE, onChunk?: (n: number, chunk: IndexedChunk) => void): Promise<SourcesPlan> {
  const { keys, meta } = input
  const ops: BatchOp[] = []
  const removed = new Set<number>()
  let next = meta.nextChunk
  let { chunks, sources, totalLength, dims } = meta
  let added = 0
  let addedSources = 0
  for (const [path, { old, chunks: fresh, terms: known }] of input.sources) {
    if (old !== undefined) {
      for (const n of old.chunks) {
        removed.add(n)
        ops.push({ type: 'del', key: keys.chunk(n) }, { type: 'del', key: keys.vector(n) })
      }
      chunks -= old.chunks.length
      totalLength -= old.length
      sources--
    }
    if (fresh.length === 0) {
      if (old !== undefined) ops.push({ type: 'del', key: keys.source(path) })
      continue
    }
    const record: SourceRecord = { chunks: [], terms: [], length: 0 }
    const terms = new Set<string>()
    for (const chunk of fresh) {
      await pause()
      const n = next++
      const { terms: frequencies, length, vector, record: value } = chunk
      ops.push({ type: 'put', key: keys.chunk(n), value })
      if (vector !== undefined) {
        ops.push({ type: 'put', key: keys.vector(n), value: encodeVector(vector) })
        dims = vector.length
      }
      if (known === undefined) for (const [term] of frequencies) terms.add(term)
      onChunk?.(n, chunk)
      record.chunks.push(n)
      record.length += length
    }
    record.terms = known === undefined ? [...terms] : [...known]
    ops.push({ type: 'put', key: keys.source(path), value: JSON.stringify(record) })
    chunks += fresh.length
    totalLength += record.length
    sources++
    added += fresh.length
    addedSources++
  }
  return { ops, meta: { ...meta, chunks, sources, totalLength, nextChunk: next, dims, updatedAt: input.now }, removedChunks: [...removed], added, sources: addedSources }
}

export async function planAdd (input: AddPlanInput, pause: Pause = NEVER_PAUSE): Promise<AddPlan> {
  const appended = new Map<string, number[]>()
  const plan = await planSources(input, pause, (n, { terms, length }) => {
    for (const [term, tf] of terms) {
      let list = appended.get(term)
      if (list === undefined) appended.set(term, list = [])
      list.push(n, tf, length)
    }
  })
  const { keys } = input
  const removed = new Set(plan.removedChunks)
  const postings = new Map<string, Uint32Array>()
  for (const term of affectedTerms(input.sources)) {
    await pause()
    const merged = mergePostings(input.postings.get(term), removed, appended.get(term))
    postings.set(term, merged)
    plan.ops.push(merged.length === 0 ? { type: 'del', key: keys.term(term) } : { type: 'put', key: keys.term(term), value: encodePostingsBytes(merged) })
  }
  plan.ops.push({ type: 'put', key: keys.meta, value: JSON.stringify(plan.meta) })
  return { ...plan, postings }
}

/** Old postings without the removed chunks, then the new ones (numbered above all old ones, so the order holds). */
export function mergePostings (old: Uint32Array | undefined, removed: ReadonlySet<number>, fresh: ArrayLike<number> | undefined): Uint32Array {
  let kept = old ?? new Uint32Array(0)
  if (removed.size > 0 && kept.length > 0) {
    const out = new Uint32Array(kept.length)
    let n = 0
    for (let i = 0; i < kept.length; i += 3) {
      if (removed.has(kept[i])) continue
      out[n++] = kept[i]; out[n++] = kept[i + 1]; out[n++] = kept[i + 2]
    }
    kept = out.subarray(0, n)
  }
  if (fresh === undefined || fresh.length === 0) return kept
  const merged = new Uint32Array(kept.length + fresh.length)
  merged.set(kept)
  merged.set(fresh, kept.length)
  return merged
}
