/**
 * Chunk manifests of local model files: the SHA-256 of the file's prefix up to the end of each
 * MODEL_CHUNK_BYTES chunk (protocols/model-fetch.ts), from one running hash over one read of
 * the file, a chunk at a time (memory: one chunk). A holder computes one per file it serves
 * and keeps the last few in memory (keyed by digest, size and modification time, so a changed
 * file gets a new one).
 */
import { open } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { MODEL_CHUNK_BYTES, type ChunkManifest } from '../../protocols/index.js'
import { checkAborted } from '../errors.js'

export async function chunkManifestOf (path: string, size: number, signal: AbortSignal): Promise<ChunkManifest> {
  const file = await open(path, 'r')
  const buffer = Buffer.allocUnsafe(MODEL_CHUNK_BYTES)
  const prefixes: string[] = []
  const running = createHash('sha256')
  try {
    for (let at = 0; at < size; at += MODEL_CHUNK_BYTES) {
      checkAborted(signal, 'chunk manifest')
      const want = Math.min(MODEL_CHUNK_BYTES, size - at)
      const { bytesRead } = await file.read(buffer, 0, want, at)
      if (bytesRead !== want) throw new Error(`${path} is shorter than ${size} bytes`)
      running.update(buffer.subarray(0, want))
      prefixes.push(running.copy().digest('hex'))
    }
  } finally {
    await file.close()
  }
  return { size, chunkBytes: MODEL_CHUNK_BYTES, prefixes }
}

/** The manifests of the last `max` files asked for; concurrent asks for one file share one read. */
export class ManifestCache {
  readonly #max: number
  readonly #entries = new Map<string, Promise<ChunkManifest>>()

  constructor (max = 8) { this.#max = max }

  async get (file: { path: string, digest: string, size: number, mtimeMs: number }, signal: AbortSignal): Promise<ChunkManifest> {
    const key = `${file.digest}:${file.size}:${file.mtimeMs}`
    let entry = this.#entries.get(key)
    if (entry === undefined) {
      entry = chunkManifestOf(file.path, file.size, signal)
      entry.catch(() => { this.#entries.delete(key) })
      this.#entries.set(key, entry)
      while (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value as string)
    } else {
      this.#entries.delete(key)
      this.#entries.set(key, entry)
    }
    return entry
  }
}
