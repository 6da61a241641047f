/**
 * Streamed file work for the store: copy a file while hashing it (SHA-256), or hash it in place.
 * Memory stays at one 1 MiB buffer whatever the file's size; progress is reported per chunk.
 */
import { open, type FileHandle } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { AbortedError } from '../../base/index.js'
import { InvalidModelFileError } from '../errors.js'

const CHUNK_BYTES = 1 << 20

export interface ModelProgress { doneBytes: number, totalBytes: number }
export interface StreamOptions { signal?: AbortSignal, onProgress?: (progress: ModelProgress) => void }

/** Reads `source` once, hashing it and, with `copyTo` (open for writing), copying it; returns the bytes read and their digest. */
export async function hashFile (source: string, totalBytes: number, options: StreamOptions & { copyTo?: FileHandle } = {}): Promise<{ bytes: number, digest: string }> {
  const target = options.copyTo
  let file: FileHandle
  try {
    file = await open(source, 'r')
  } catch (err) {
    throw new InvalidModelFileError(`${source}: cannot open the model file`, { reason: 'unreadable', path: source, cause: err })
  }
  const hash = createHash('sha256')
  const buffer = Buffer.alloc(CHUNK_BYTES)
  let bytes = 0
  try {
    for (;;) {
      if (options.signal?.aborted === true) throw new AbortedError('adding a model aborted', { cause: options.signal.reason })
      let read: number
      try {
        ({ bytesRead: read } = await file.read(buffer, 0, CHUNK_BYTES, bytes))
      } catch (err) {
        throw new InvalidModelFileError(`${source}: cannot read the model file`, { reason: 'unreadable', path: source, cause: err })
      }
      if (read === 0) break
      const chunk = buffer.subarray(0, read)
      hash.update(chunk)
      if (target !== undefined) await writeAll(target, chunk)
      bytes += read
      options.onProgress?.({ doneBytes: bytes, totalBytes })
    }
  } finally {
    await file.close().catch(() => {})
  }
  return { bytes, digest: hash.digest('hex') }
}

async function writeAll (target: FileHandle, chunk: Uint8Array): Promise<void> {
  let written = 0
  while (written < chunk.length) {
    const { bytesWritten } = await target.write(chunk, written, chunk.length - written)
    written += bytesWritten
  }
}
