/** A fixed-size ring of the latest items: pushing past the capacity drops the oldest. Pure. */
export class Ring<T> {
  readonly #items: T[] = []
  #next = 0

  constructor (readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, not ${capacity}`)
  }

  push (item: T): void {
    if (this.#items.length < this.capacity) this.#items.push(item)
    else this.#items[this.#next] = item
    this.#next = (this.#next + 1) % this.capacity
  }

  /** Oldest first. */
  toArray (): T[] {
    return this.#items.length < this.capacity ? [...this.#items] : [...this.#items.slice(this.#next), ...this.#items.slice(0, this.#next)]
  }

  get size (): number { return this.#items.length }
}
