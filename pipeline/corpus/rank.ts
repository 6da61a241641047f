/** The final ranking of a query: BM25 alone, or fused with cosine similarity by RRF. Pure. */
import { fuse } from './fuse.js'

export interface Ranked {
  /** The chunk number. */
  n: number
  score: number
  bm25Rank?: number
  vectorRank?: number
}

/** `bm25` and `cosine` are [chunk number, score] lists, best first; without `cosine` the BM25 list is the ranking. */
export function rankChunks (bm25: ReadonlyArray<[number, number]>, cosine: ReadonlyArray<[number, number]> | undefined, k: number): Ranked[] {
  if (cosine === undefined) return bm25.slice(0, k).map(([n, score], i) => ({ n, score, bm25Rank: i + 1 }))
  return fuse([bm25.map(([n]) => n), cosine.map(([n]) => n)]).slice(0, k).map(({ key, score, ranks: [bm25Rank, vectorRank] }) => ({
    n: key,
    score,
    ...(bm25Rank === undefined ? {} : { bm25Rank }),
    ...(vectorRank === undefined ? {} : { vectorRank }),
  }))
}
