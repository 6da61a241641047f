/**
 * Prepared documents: a batch chunked and tokenized into a compact form that crosses a thread
 * boundary cheaply and is inserted without parsing again. Each chunk's stored record is UTF-8
 * JSON bytes (so chunk texts never become strings on the thread that inserts them) and its
 * terms are indices into the batch's term list; everything but the two string lists is a typed
 * array that a worker transfers without copying. Pure: the same documents give the same batch
 * wherever they are prepared, so the worker path (indexer.ts) indexes exactly as `add` does.
 */
import { chunkDocument, type ChunkLimits } from './chunk.js'
import type { ChunkRecord } from './layout.js'
import { NEVER_PAUSE, type Pause } from './pause.js'
import type { IndexedChunk } from './plan.js'
import { termFrequencies } from './tokenize.js'

export interface PreparedDocuments {
  /** Document paths, each once, in first-given order (a path given twice keeps its last text). */
  paths: string[]
  /** Per chunk: its document, an index into `paths`. */
  chunkSource: Uint32Array
  /** Per chunk: its length in tokens. */
  chunkLength: Uint32Array
  /** The chunks' ChunkRecord JSON in UTF-8, one after another; chunk i's ends at recordEnds[i]. */
  records: Uint8Array
  recordEnds: Uint32Array
  /** The batch's distinct terms. */
  terms: string[]
  /** Per chunk: (index into `terms`, frequency) pairs; chunk i's end at termEnds[i]. */
  termPairs: Uint32Array
  termEnds: Uint32Array
  /** Per document: its chunks' terms, each once, in first-seen order (its source record's); document p's end at sourceTermEnds[p]. */
  sourceTerms: Uint32Array
  sourceTermEnds: Uint32Array
}

/** The buffers of a batch, for a worker's transfer list. */
export const transferablesOf = (p: PreparedDocuments): ArrayBuffer[] =>
  [p.chunkSource, p.chunkLength, p.records, p.recordEnds, p.termPairs, p.termEnds, p.sourceTerms, p.sourceTermEnds].map(a => a.buffer as ArrayBuffer)

/** Chunks and tokenizes `documents`; `pause` lets work on the event loop yield (pause.ts). */
export async function prepareDocuments (documents: ReadonlyArray<{ path: string, text: string }>, limits: ChunkLimits, pause: Pause = NEVER_PAUSE): Promise<PreparedDocuments> {
  const byPath = new Map(documents.map(d => [d.path, d.text]))
  const paths = [...byPath.keys()]
  const termIndex = new Map<string, number>()
  const sources: number[] = []
  const lengths: number[] = []
  const records: Uint8Array[] = []
  const pairs: number[] = []
  const termEnds: number[] = []
  const sourceTerms: number[] = []
  const sourceTermEnds: number[] = []
  /** By term index: 1 + the last document whose terms list it. */
  const listedIn: number[] = []
  const encoder = new TextEncoder()
  for (const [p, path] of paths.entries()) {
    await pause()
    for (const chunk of chunkDocument(path, byPath.get(path) ?? '', limits)) {
      await pause()
      const { terms, length } = termFrequencies(chunk.text)
      sources.push(p)
      lengths.push(length)
      records.push(encoder.encode(JSON.stringify({ ...chunk, length } satisfies ChunkRecord)))
      for (const [term, tf] of terms) {
        let t = termIndex.get(term)
        if (t === undefined) termIndex.set(term, t = termIndex.size)
        pairs.push(t, tf)
        if (listedIn[t] !== p + 1) { listedIn[t] = p + 1; sourceTerms.push(t) }
      }
      termEnds.push(pairs.length)
    }
    sourceTermEnds.push(sourceTerms.length)
  }
  const recordEnds = new Uint32Array(records.length)
  const bytes = new Uint8Array(records.reduce((sum, r) => sum + r.length, 0))
  let at = 0
  for (const [i, record] of records.entries()) {
    bytes.set(record, at)
    recordEnds[i] = at += record.length
  }
  return {
    paths,
    chunkSource: Uint32Array.from(sources),
    chunkLength: Uint32Array.from(lengths),
    records: bytes,
    recordEnds,
    terms: [...termIndex.keys()],
    termPairs: Uint32Array.from(pairs),
    termEnds: Uint32Array.from(termEnds),
    sourceTerms: Uint32Array.from(sourceTerms),
    sourceTermEnds: Uint32Array.from(sourceTermEnds),
  }
}

/** Document p's distinct terms in first-seen order: its source record's `terms`. */
export const sourceTermsOf = (prepared: PreparedDocuments, p: number): string[] =>
  Array.from(prepared.sourceTerms.subarray(p === 0 ? 0 : prepared.sourceTermEnds[p - 1], prepared.sourceTermEnds[p]), t => prepared.terms[t])

/** The chunks of a batch as the planner takes them, by document (every path, those without chunks too: they are removed). */
export function indexedOfPrepared (p: PreparedDocuments, vectors?: readonly Float32Array[]): Map<string, IndexedChunk[]> {
  const sources = new Map<string, IndexedChunk[]>(p.paths.map(path => [path, []]))
  for (let i = 0; i < p.chunkSource.length; i++) {
    const source = p.paths[p.chunkSource[i]]
    const vector = vectors?.[i]
    sources.get(source)?.push({
      source,
      record: p.records.subarray(i === 0 ? 0 : p.recordEnds[i - 1], p.recordEnds[i]),
      terms: new PreparedTerms(p, i === 0 ? 0 : p.termEnds[i - 1], p.termEnds[i]),
      length: p.chunkLength[i],
      ...(vector === undefined ? {} : { vector }),
    })
  }
  return sources
}

/** The chunk texts of a batch (to embed them), decoded one record at a time. */
export function textsOfPrepared (p: PreparedDocuments): string[] {
  const decoder = new TextDecoder()
  return Array.from(p.recordEnds, (end, i) => (JSON.parse(decoder.decode(p.records.subarray(i === 0 ? 0 : p.recordEnds[i - 1], end))) as ChunkRecord).text)
}

/** One chunk's (term, frequency) pairs, read from the batch each time they are iterated. */
class PreparedTerms implements Iterable<readonly [string, number]> {
  readonly #p: PreparedDocuments
  readonly #start: number
  readonly #end: number
  constructor (p: PreparedDocuments, start: number, end: number) { this.#p = p; this.#start = start; this.#end = end }
  * [Symbol.iterator] (): Iterator<readonly [string, number]> {
    for (let i = this.#start; i < this.#end; i += 2) yield [this.#p.terms[this.#p.termPairs[i]], this.#p.termPairs[i + 1]]
  }
}
