/** A least-recently-used map bounded by a total weight (postings by their length, chunks by their text). */
export class WeightedLru<K, V> {
  readonly #entries = new Map<K, { value: V, weight: number }>()
  readonly #maxWeight: number
  readonly #weigh: (value: V) => number
  #weight = 0

  constructor (maxWeight: number, weigh: (value: V) => number) {
    this.#maxWeight = maxWeight
    this.#weigh = weigh
  }

  get (key: K): V | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    this.#entries.delete(key) // re-insert: Map order is the recency order
    this.#entries.set(key, entry)
    return entry.value
  }

  set (key: K, value: V): void {
    this.delete(key)
    const weight = this.#weigh(value)
    if (weight > this.#maxWeight) return
    this.#entries.set(key, { value, weight })
    this.#weight += weight
    for (const [oldest, entry] of this.#entries) {
      if (this.#weight <= this.#maxWeight) break
      this.#entries.delete(oldest)
      this.#weight -= entry.weight
    }
  }

  delete (key: K): void {
    const entry = this.#entries.get(key)
    if (entry === undefined) return
    this.#entries.delete(key)
    this.#weight -= entry.weight
  }

  /** Drops every entry whose key matches. */
  deleteWhere (match: (key: K) => boolean): void {
    for (const key of [...this.#entries.keys()]) if (match(key)) this.delete(key)
  }
}
