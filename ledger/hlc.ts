/**
 * Hybrid logical clock: wall time in ms plus a logical counter. Local events tick it;
 * received entries advance it, so an entry's HLC is always above those of the entries its
 * author had seen: ordering by HLC respects causality. A remote clock more than
 * `maxDriftMs` ahead of ours is refused (a peer cannot drag every clock into the future).
 */
import type { Hlc } from '../protocols/index.js'
import { InvalidMessageError } from '../base/index.js'

export const DEFAULT_MAX_DRIFT_MS = 60_000

export function compareHlc (a: Hlc, b: Hlc): number {
  return a.wall !== b.wall ? a.wall - b.wall : a.logical - b.logical
}

/** Sortable text form: 15-digit wall, 7-digit logical. */
export function hlcKey (h: Hlc): string {
  return `${String(h.wall).padStart(15, '0')}.${String(h.logical).padStart(7, '0')}`
}

export class HybridClock {
  #last: Hlc = { wall: 0, logical: 0 }
  constructor (readonly now: () => number = Date.now, readonly maxDriftMs = DEFAULT_MAX_DRIFT_MS) {}

  /** A timestamp for a local event, above every one seen so far. */
  tick (): Hlc {
    const wall = Math.max(this.#last.wall, this.now())
    this.#last = { wall, logical: wall === this.#last.wall ? this.#last.logical + 1 : 0 }
    return this.#last
  }

  /** Check a remote timestamp against the drift bound (throws) without advancing. */
  check (remote: Hlc): void {
    if (remote.wall > this.now() + this.maxDriftMs) {
      throw new InvalidMessageError(`entry clock ${remote.wall} is more than ${this.maxDriftMs} ms ahead of ours`)
    }
  }

  /** Advance past a received timestamp. */
  observe (remote: Hlc): void {
    if (compareHlc(remote, this.#last) > 0) this.#last = { ...remote }
  }
}
