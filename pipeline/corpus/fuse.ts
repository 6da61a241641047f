/**
 * Hybrid ranking: reciprocal rank fusion of several rankings, and the cosine side of it
 * (unit vectors, stored as base64 little-endian float32). Pure.
 */

/** RRF's constant: how much the top few ranks dominate (60, as in Cormack et al. 2009). */
export const RRF_K = 60

export interface Fused<K> {
  key: K
  score: number
  /** 1-based rank in each input ranking, undefined where the key is not in it. */
  ranks: Array<number | undefined>
}

/**
 * Fuses rankings (each best first) by reciprocal rank: score = sum of 1 / (k + rank). Ties go
 * to the key with the best single rank, then to the earlier ranking's order.
 */
export function fuse<K> (rankings: ReadonlyArray<readonly K[]>, options: { k?: number } = {}): Array<Fused<K>> {
  const k = options.k ?? RRF_K
  const byKey = new Map<K, Fused<K> & { order: number }>()
  rankings.forEach((ranking, list) => {
    ranking.forEach((key, index) => {
      let entry = byKey.get(key)
      if (entry === undefined) {
        entry = { key, score: 0, ranks: rankings.map(() => undefined), order: byKey.size }
        byKey.set(key, entry)
      }
      if (entry.ranks[list] !== undefined) return // a key listed twice counts once, at its best rank
      entry.ranks[list] = index + 1
      entry.score += 1 / (k + index + 1)
    })
  })
  const best = (f: Fused<K>): number => Math.min(...f.ranks.map(r => r ?? Infinity))
  return [...byKey.values()]
    .sort((a, b) => b.score - a.score || best(a) - best(b) || a.order - b.order)
    .map(({ key, score, ranks }) => ({ key, score, ranks }))
}

/** The vector scaled to length 1 (a zero vector stays zero), as float32. */
export function unitVector (values: readonly number[]): Float32Array {
  let norm = 0
  for (const v of values) norm += v * v
  norm = Math.sqrt(norm)
  const out = new Float32Array(values.length)
  if (norm > 0) for (let i = 0; i < values.length; i++) out[i] = values[i] / norm
  return out
}

export function encodeVector (vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4)
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i], i * 4)
  return bytes.toString('base64')
}

export function decodeVector (text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64')
  const out = new Float32Array(bytes.length >> 2)
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4)
  return out
}

/** Rows of a row-major matrix of unit vectors, with the number each row stands for. */
export interface VectorTable { dims: number, keys: Uint32Array, matrix: Float32Array }

/** Cosine similarity (a dot product: all are unit vectors) of `query` with every row, as [key, similarity]. */
export function * cosineScores (table: VectorTable, query: Float32Array): Generator<[number, number]> {
  const { dims, keys, matrix } = table
  for (let row = 0; row < keys.length; row++) {
    let dot = 0
    const base = row * dims
    for (let i = 0; i < dims; i++) dot += matrix[base + i] * query[i]
    yield [keys[row], dot]
  }
}
