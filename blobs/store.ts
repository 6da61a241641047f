/**
 * BlobStore: content-addressed files under `<dataDir>/blobs/<first two hex chars>/<digest>`.
 * - Durable: `put` writes a temporary file in the blob's directory, fsyncs it, renames it over
 *   the final name and fsyncs the directory before it resolves; after a crash a blob is there
 *   whole or not at all (a crash can leave a `.tmp` file behind, never a partial blob).
 * - Idempotent: a `put` of a digest already stored at the same size writes nothing.
 * - Verified: `get` hashes what it read; a file that no longer matches its digest is removed
 *   and reported as BlobCorruptError, never returned. `has`/`size` only look at the file.
 * - Bounded: blobs over `maxBytes` (default 64 MiB) are refused, and never read into memory.
 * - Aged: a blob's file time is when it was last put (a repeated put refreshes it), which is
 *   what garbage collection (gc.ts) calls its age. `remove` deletes one blob, durably.
 */
import { mkdir, open, readdir, readFile, rename, stat, unlink, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { BlobRef } from '../protocols/index.js'
import { assertDigest, sha256Hex } from './digest.js'
import { BlobCorruptError, BlobOptionsError, BlobStoreError, BlobTooLargeError } from './errors.js'
import { checkAborted } from './signals.js'

export const DEFAULT_MAX_BLOB_BYTES = 64 * 1024 * 1024

export interface BlobStoreInit {
  dataDir: string
  /** Largest blob accepted, in bytes (default 64 MiB). */
  maxBytes?: number
}

export interface BlobOptions { signal?: AbortSignal }

/** One stored blob as listed: its size and when it was last put (ms since the epoch). */
export interface StoredBlob { digest: string, size: number, storedAt: number }

const BLOB_FILE = /^[0-9a-f]{64}$/
const TMP_FILE = /^\.[0-9a-f]{64}\.[0-9a-f]{8}\.tmp$/

export class BlobStore {
  readonly root: string
  readonly maxBytes: number
  /** Told the size of every blob written (not of a repeated put): the collector counts with it. */
  onStored: ((size: number) => void) | undefined
  #closed = false

  private constructor (root: string, maxBytes: number) {
    this.root = root
    this.maxBytes = maxBytes
  }

  /** Creates `<dataDir>/blobs` (mode 0700) when missing. */
  static async open (init: BlobStoreInit): Promise<BlobStore> {
    const maxBytes = init.maxBytes ?? DEFAULT_MAX_BLOB_BYTES
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new BlobOptionsError(`maxBytes must be an integer >= 1, not ${maxBytes}`, { details: [`maxBytes must be an integer >= 1, not ${maxBytes}`] })
    const root = join(init.dataDir, 'blobs')
    await mkdir(root, { recursive: true, mode: 0o700 }).catch(err => { throw storeError(`cannot create ${root}`, err) })
    return new BlobStore(root, maxBytes)
  }

  async close (): Promise<void> { this.#closed = true }

  /** Where the blob with this digest lives (whether or not it is there). */
  path (digest: string): string {
    assertDigest(digest)
    return join(this.root, digest.slice(0, 2), digest)
  }

  async put (bytes: Uint8Array, options: BlobOptions = {}): Promise<BlobRef> {
    this.#checkOpen()
    if (bytes.byteLength > this.maxBytes) throw tooLarge(bytes.byteLength, this.maxBytes)
    checkAborted(options.signal, 'blob put')
    const ref = { digest: sha256Hex(bytes), size: bytes.byteLength }
    const path = this.path(ref.digest)
    if (await this.size(ref.digest) === ref.size) {
      const now = new Date()
      await utimes(path, now, now).catch(() => {})
      return ref
    }
    const dir = join(this.root, ref.digest.slice(0, 2))
    const tmp = join(dir, `.${ref.digest}.${randomBytes(4).toString('hex')}.tmp`)
    try {
      // A new prefix directory is itself an entry of the root: make that durable too.
      if (await mkdir(dir, { recursive: true, mode: 0o700 }) !== undefined) await syncDir(this.root)
      const handle = await open(tmp, 'wx', 0o600)
      try {
        await handle.writeFile(bytes, { signal: options.signal })
        await handle.sync()
      } finally {
        await handle.close()
      }
      checkAborted(options.signal, 'blob put')
      await rename(tmp, path)
      await syncDir(dir)
      this.onStored?.(ref.size)
      return ref
    } catch (err) {
      await unlink(tmp).catch(() => {})
      checkAborted(options.signal, 'blob put')
      throw storeError(`cannot write blob ${ref.digest}`, err)
    }
  }

  /** The blob's bytes, verified against the digest; undefined when not stored. */
  async get (digest: string, options: BlobOptions = {}): Promise<Uint8Array | undefined> {
    const path = this.path(digest)
    const size = await this.size(digest, options)
    if (size === undefined) return undefined
    if (size > this.maxBytes) throw tooLarge(size, this.maxBytes)
    let bytes: Buffer
    try {
      bytes = await readFile(path, { signal: options.signal })
    } catch (err) {
      checkAborted(options.signal, 'blob get')
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw storeError(`cannot read blob ${digest}`, err)
    }
    if (sha256Hex(bytes) !== digest) {
      // Removed so that a later put or fetch can store good bytes under this digest.
      await unlink(path).catch(() => {})
      throw new BlobCorruptError(`stored blob ${digest} does not match its digest; removed`, { details: { digest, size: bytes.byteLength } })
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  async has (digest: string, options: BlobOptions = {}): Promise<boolean> {
    return await this.size(digest, options) !== undefined
  }

  /** The stored file's size in bytes, or undefined when not stored (content not checked). */
  async size (digest: string, options: BlobOptions = {}): Promise<number | undefined> {
    this.#checkOpen()
    const path = this.path(digest)
    checkAborted(options.signal, 'blob read')
    try {
      return (await stat(path)).size
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw storeError(`cannot stat blob ${digest}`, err)
    }
  }

  /**
   * Every stored blob (file metadata only, contents not read), in no particular order.
   * Leftover `.tmp` files of a crashed put older than `staleTmpMs` are removed on the way.
   */
  async * list (options: BlobOptions & { staleTmpMs?: number } = {}): AsyncGenerator<StoredBlob> {
    this.#checkOpen()
    const staleBefore = Date.now() - (options.staleTmpMs ?? 3_600_000)
    for (const prefix of await readdir(this.root).catch(err => { throw storeError(`cannot list ${this.root}`, err) })) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue
      const dir = join(this.root, prefix)
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        checkAborted(options.signal, 'blob list')
        const file = join(dir, name)
        const info = await stat(file).catch(() => undefined)
        if (info === undefined || !info.isFile()) continue
        if (BLOB_FILE.test(name) && name.startsWith(prefix)) yield { digest: name, size: info.size, storedAt: info.mtimeMs }
        else if (TMP_FILE.test(name) && info.mtimeMs < staleBefore) await unlink(file).catch(() => {})
      }
    }
  }

  /** Deletes the blob (durably: the directory is fsynced); false when it was not stored. */
  async remove (digest: string): Promise<boolean> {
    this.#checkOpen()
    const path = this.path(digest)
    try {
      await unlink(path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
      throw storeError(`cannot remove blob ${digest}`, err)
    }
    await syncDir(join(this.root, digest.slice(0, 2))).catch(() => {})
    return true
  }

  #checkOpen (): void {
    if (this.#closed) throw new BlobStoreError('blob store is closed')
  }
}

async function syncDir (dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try { await handle.sync() } finally { await handle.close() }
}

function tooLarge (size: number, maxBytes: number): BlobTooLargeError {
  return new BlobTooLargeError(`blob of ${size} bytes exceeds the limit of ${maxBytes}`, { details: { size, maxBytes } })
}

function storeError (message: string, err: unknown): BlobStoreError {
  return new BlobStoreError(`${message}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
}
