/**
 * Pinned blobs: digests that garbage collection never removes, whatever their age, the size
 * cap or the ledger say. Kept in the node's LevelDB (keys `B:pin:<digest>` -> pin time, ms);
 * `pin` and `unpin` resolve once the change is fsynced (`sync: true`), so an acknowledged pin
 * survives a crash. The set is also held in memory (loaded at `open`), bounded by MAX_PINS:
 * a pin beyond it is refused with TooManyPinsError.
 */
import type { ClassicLevel } from 'classic-level'
import { assertDigest } from './digest.js'
import { BlobStoreError, TooManyPinsError } from './errors.js'
import { checkAborted } from './signals.js'

export const MAX_PINS = 100_000
const PREFIX = 'B:pin:'
const END = '\uffff'

export type PinDb = Pick<ClassicLevel<string, string>, 'put' | 'del' | 'iterator'>

export class BlobPins {
  readonly #db: PinDb
  readonly #pins = new Map<string, number>()

  private constructor (db: PinDb) {
    this.#db = db
  }

  static async open (db: PinDb, options: { signal?: AbortSignal } = {}): Promise<BlobPins> {
    const pins = new BlobPins(db)
    try {
      for await (const [key, value] of db.iterator({ gt: PREFIX, lt: PREFIX + END })) {
        checkAborted(options.signal, 'loading blob pins')
        pins.#pins.set(key.slice(PREFIX.length), Number(value))
      }
    } catch (err) {
      if ((err as Error).name === 'AbortedError') throw err
      throw new BlobStoreError(`cannot load blob pins: ${(err as Error).message}`, { cause: err })
    }
    return pins
  }

  get size (): number { return this.#pins.size }

  has (digest: string): boolean { return this.#pins.has(digest) }

  /** When the digest was pinned (ms since the epoch), or undefined when it is not. */
  pinnedAt (digest: string): number | undefined { return this.#pins.get(digest) }

  digests (): ReadonlySet<string> { return new Set(this.#pins.keys()) }

  /** Pins the digest (idempotent: a second pin keeps the first time); durable once resolved. */
  async pin (digest: string, options: { signal?: AbortSignal, now?: number } = {}): Promise<number> {
    assertDigest(digest)
    const known = this.#pins.get(digest)
    if (known !== undefined) return known
    if (this.#pins.size >= MAX_PINS) throw new TooManyPinsError(`at most ${MAX_PINS} blobs can be pinned; unpin some first`, { details: { max: MAX_PINS } })
    checkAborted(options.signal, 'blob pin')
    const at = options.now ?? Date.now()
    await this.#write(async () => { await this.#db.put(PREFIX + digest, String(at), { sync: true }) })
    this.#pins.set(digest, at)
    return at
  }

  /** Unpins the digest; false when it was not pinned. Durable once resolved. */
  async unpin (digest: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    assertDigest(digest)
    if (!this.#pins.has(digest)) return false
    checkAborted(options.signal, 'blob unpin')
    await this.#write(async () => { await this.#db.del(PREFIX + digest, { sync: true }) })
    this.#pins.delete(digest)
    return true
  }

  async #write (change: () => Promise<void>): Promise<void> {
    try {
      await change()
    } catch (err) {
      throw new BlobStoreError(`cannot record a blob pin: ${(err as Error).message}`, { cause: err })
    }
  }
}
