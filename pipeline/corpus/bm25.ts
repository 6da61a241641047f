/**
 * BM25 (k1 1.2, b 0.75) over postings, and the top of a ranking. Pure.
 *
 * A term's postings are one flat Uint32Array of triples (chunk number, term frequency, chunk
 * length in tokens), ascending by chunk number. Carrying the length in the postings means a
 * query reads nothing but its own terms' postings. Stored as text: the numbers in decimal,
 * comma-separated (no byte order to agree on, and peers never see it: exports carry chunks).
 */

export const K1 = 1.2
export const B = 0.75

export interface CorpusStats {
  /** Chunks in the corpus. */
  chunks: number
  /** Sum of all chunks' lengths in tokens. */
  totalLength: number
}

export function encodePostings (postings: Uint32Array): string {
  return postings.join(',')
}

/** The same text as encodePostings, as ASCII bytes: written as they are, no string on the heap. */
export function encodePostingsBytes (postings: Uint32Array): Uint8Array {
  let size = Math.max(0, postings.length - 1) // the commas
  for (const n of postings) for (let m = n, digits = 1; ; m = Math.floor(m / 10), digits++) if (m < 10) { size += digits; break }
  const out = new Uint8Array(size)
  let at = size
  for (let i = postings.length - 1; i >= 0; i--) { // backwards: each number's digits from its last
    let n = postings[i]
    do { out[--at] = 48 + n % 10; n = Math.floor(n / 10) } while (n > 0)
    if (i > 0) out[--at] = 44
  }
  return out
}

/** Postings from their stored text, given as a string or its ASCII bytes. */
export function decodePostings (text: string | Uint8Array): Uint32Array {
  if (typeof text !== 'string') return decodeWith(text.length, i => text[i])
  return decodeWith(text.length, i => text.charCodeAt(i))
}

function decodeWith (length: number, codeAt: (i: number) => number): Uint32Array {
  if (length === 0) return new Uint32Array(0)
  let count = 1
  for (let i = 0; i < length; i++) if (codeAt(i) === 44) count++
  const out = new Uint32Array(count)
  let n = 0
  let value = 0
  for (let i = 0; i < length; i++) {
    const c = codeAt(i)
    if (c === 44) { out[n++] = value; value = 0 } else value = value * 10 + (c - 48)
  }
  out[n] = value
  return out
}

/** Inverse document frequency, the non-negative form (Lucene's): a term in every chunk still counts a little. */
export function idf (chunks: number, documentFrequency: number): number {
  return Math.log(1 + (chunks - documentFrequency + 0.5) / (documentFrequency + 0.5))
}

/** BM25 score of every chunk that has at least one of the terms whose postings are given. */
export function scoreBm25 (postingsOfTerms: readonly Uint32Array[], stats: CorpusStats): Map<number, number> {
  const scores = new Map<number, number>()
  if (stats.chunks === 0) return scores
  const averageLength = stats.totalLength / stats.chunks || 1
  for (const postings of postingsOfTerms) {
    const weight = idf(stats.chunks, postings.length / 3)
    for (let i = 0; i < postings.length; i += 3) {
      const tf = postings[i + 1]
      const norm = K1 * (1 - B + B * postings[i + 2] / averageLength)
      const chunk = postings[i]
      scores.set(chunk, (scores.get(chunk) ?? 0) + weight * tf * (K1 + 1) / (tf + norm))
    }
  }
  return scores
}

/** Ranks before: a higher score, then the lower chunk number (the one indexed first). */
const before = (a: [number, number], b: [number, number]): boolean => a[1] > b[1] || (a[1] === b[1] && a[0] < b[0])

/** The best `k` of `scores` (chunk number to score), best first. A bounded heap: O(n log k). */
export function topK (scores: Iterable<[number, number]>, k: number): Array<[number, number]> {
  const heap: Array<[number, number]> = [] // worst at the root
  const sink = (at: number): void => {
    for (;;) {
      const l = 2 * at + 1
      const r = l + 1
      let worst = at
      if (l < heap.length && before(heap[worst], heap[l])) worst = l
      if (r < heap.length && before(heap[worst], heap[r])) worst = r
      if (worst === at) return
      ;[heap[at], heap[worst]] = [heap[worst], heap[at]]
      at = worst
    }
  }
  for (const entry of scores) {
    if (heap.length < k) {
      heap.push(entry)
      for (let at = heap.length - 1; at > 0;) {
        const parent = (at - 1) >> 1
        if (!before(heap[parent], heap[at])) break
        ;[heap[at], heap[parent]] = [heap[parent], heap[at]]
        at = parent
      }
    } else if (k > 0 && before(entry, heap[0])) {
      heap[0] = entry
      sink(0)
    }
  }
  return heap.sort((a, b) => before(a, b) ? -1 : before(b, a) ? 1 : 0)
}
