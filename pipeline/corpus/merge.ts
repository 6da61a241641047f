/**
 * The postings half of an upload's write, on the indexing worker thread (indexer.ts): every
 * affected term's stored postings text, read by the main thread as raw bytes, is merged here
 * with the batch's new chunks (prepare.ts) and the replaced chunks taken out, and comes back as
 * one byte array of the new texts plus their ends, so the main thread builds no per-term lists.
 * Pure, and it writes exactly what planAdd (plan.ts) writes for the same change.
 */
import { decodePostings, encodePostingsBytes } from './bm25.js'
import { mergePostings } from './plan.js'

export interface MergeRequest {
  /** The affected terms: the batch's terms first (in its `terms` order), then those only replaced chunks had. */
  termCount: number
  /** The number of the batch's first chunk; the others follow in order. */
  firstChunk: number
  /** The batch's (term index, frequency) pairs, their ends per chunk, and each chunk's length (prepare.ts). */
  termPairs: Uint32Array
  termEnds: Uint32Array
  chunkLength: Uint32Array
  /** Chunks the change removes (the replaced sources'). */
  removed: Uint32Array
  /** Each affected term's stored postings text (empty: it has none), one after another; term t's ends at oldEnds[t]. */
  old: Uint8Array
  oldEnds: Uint32Array
}

/** The new postings text of each affected term (empty: the term is gone); term t's ends at ends[t]. */
export interface MergedPostings { bytes: Uint8Array, ends: Uint32Array }

export function mergeStoredPostings (r: MergeRequest): MergedPostings {
  // The new chunks' triples grouped by term, in chunk order (a counting sort).
  const starts = new Uint32Array(r.termCount + 1)
  for (let i = 0; i < r.termPairs.length; i += 2) starts[r.termPairs[i] + 1] += 3
  for (let t = 0; t < r.termCount; t++) starts[t + 1] += starts[t]
  const fresh = new Uint32Array(starts[r.termCount])
  const fill = starts.slice(0, r.termCount)
  for (let c = 0, i = 0; c < r.termEnds.length; c++) {
    for (; i < r.termEnds[c]; i += 2) {
      const at = fill[r.termPairs[i]]
      fresh[at] = r.firstChunk + c
      fresh[at + 1] = r.termPairs[i + 1]
      fresh[at + 2] = r.chunkLength[c]
      fill[r.termPairs[i]] = at + 3
    }
  }
  const removed = new Set(r.removed)
  const pieces: Uint8Array[] = []
  const ends = new Uint32Array(r.termCount)
  let size = 0
  for (let t = 0; t < r.termCount; t++) {
    const old = decodePostings(r.old.subarray(t === 0 ? 0 : r.oldEnds[t - 1], r.oldEnds[t]))
    const text = encodePostingsBytes(mergePostings(old, removed, fresh.subarray(starts[t], starts[t + 1])))
    pieces.push(text)
    ends[t] = size += text.length
  }
  const bytes = new Uint8Array(size)
  for (const [t, piece] of pieces.entries()) bytes.set(piece, t === 0 ? 0 : ends[t - 1])
  return { bytes, ends }
}
