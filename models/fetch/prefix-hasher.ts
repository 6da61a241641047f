/**
 * The running SHA-256 of one download (its verified prefix), kept in a worker thread: hashing
 * (one pass over the bytes, ~0.6 CPU-s per GiB) runs on another core while the main thread goes
 * on receiving, deciphering and writing. `extend(chunk, expected)` hashes `chunk` onto the
 * running hash and keeps the result when, finalized, it is `expected` (true); otherwise the
 * running hash stays as it was (false). Calls are answered in order. A chunk backed by a
 * SharedArrayBuffer is read where it lies (the caller leaves it untouched until the answer);
 * any other is copied to the worker once. The worker is code in this module (no file to find
 * under tsx, vitest or the bundle), unref'd, and ended by `close`; if it dies, every pending
 * and later call fails.
 */
import { Worker } from 'node:worker_threads'

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
let whole = createHash('sha256')
parentPort.on('message', ({ id, chunk, expected }) => {
  const next = whole.copy().update(chunk)
  const ok = next.copy().digest('hex') === expected
  if (ok) whole = next
  parentPort.postMessage({ id, ok })
})
`

interface Pending { resolve: (ok: boolean) => void, reject: (err: Error) => void }

export class PrefixHasher {
  readonly #worker: Worker
  readonly #pending = new Map<number, Pending>()
  #next = 0
  #failure: Error | undefined

  constructor () {
    this.#worker = new Worker(WORKER_SOURCE, { eval: true })
    this.#worker.unref()
    this.#worker.on('message', ({ id, ok }: { id: number, ok: boolean }) => {
      const pending = this.#pending.get(id)
      this.#pending.delete(id)
      pending?.resolve(ok)
    })
    const fail = (err: Error): void => {
      this.#failure ??= err
      for (const pending of this.#pending.values()) pending.reject(this.#failure)
      this.#pending.clear()
    }
    this.#worker.on('error', fail)
    this.#worker.on('exit', code => { fail(new Error(`the download's hashing thread ended (exit code ${code})`)) })
  }

  /** True (and hashed onto the running hash) when the running hash with `chunk` is `expected`. */
  async extend (chunk: Uint8Array, expected: string): Promise<boolean> {
    if (this.#failure !== undefined) throw this.#failure
    const id = this.#next++
    return new Promise<boolean>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.#worker.postMessage({ id, chunk, expected })
    })
  }

  async close (): Promise<void> {
    this.#failure ??= new Error('the download\'s hasher is closed')
    await this.#worker.terminate()
  }
}

/** A chunk buffer the hashing thread reads in place. */
export function sharedChunkBuffer (bytes: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(bytes))
}
