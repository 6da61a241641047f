/**
 * Hands out host uids from a reserved range, one per concurrent run, so that no two runs share
 * a uid (RLIMIT_NPROC and file ownership are per uid) and no run ever uses the node's own uid.
 * Round robin: a uid just released is the last to be reused, which gives the kernel time to
 * reap whatever the previous run left. Pure bookkeeping; `claim` lets the caller also skip
 * uids that another process holds (uid-locks.ts). The caller releases in `finally`.
 */
export const SANDBOX_UID_RANGE = Object.freeze({ first: 200_000, count: 1000 })

export class UidPool {
  readonly #first: number
  readonly #count: number
  readonly #inUse = new Set<number>()
  #next = 0

  constructor (first: number = SANDBOX_UID_RANGE.first, count: number = SANDBOX_UID_RANGE.count) {
    if (!Number.isInteger(first) || first <= 0 || !Number.isInteger(count) || count <= 0) {
      throw new RangeError('uid range must be positive integers')
    }
    this.#first = first
    this.#count = count
  }

  get inUse (): number { return this.#inUse.size }

  /** A free uid for which `claim` agrees, or null when every uid in the range is taken. */
  allocate (claim: (uid: number) => boolean = () => true): number | null {
    for (let i = 0; i < this.#count; i++) {
      const uid = this.#first + (this.#next + i) % this.#count
      if (!this.#inUse.has(uid) && claim(uid)) {
        this.#inUse.add(uid)
        this.#next = (uid - this.#first + 1) % this.#count
        return uid
      }
    }
    return null
  }

  release (uid: number): void {
    this.#inUse.delete(uid)
  }

  contains (uid: number): boolean {
    return uid >= this.#first && uid < this.#first + this.#count
  }
}
