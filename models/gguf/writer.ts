/**
 * Streams a GGUF file to disk: the header (encode.ts), then each tensor's data as its
 * generator yields it, each padded to the alignment. Memory stays bounded by one write buffer
 * plus whatever chunk a generator yields, so a file of any size can be written.
 * The file appears at `path` only when complete (written to a temporary name beside it, synced,
 * then renamed); on an error or an abort the temporary file is removed and `path` is untouched.
 */
import { randomBytes } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'
import { ModelOptionsError, checkAborted } from '../errors.js'
import { encodeGgufHeader, type GgufTensorInfo } from './encode.js'
import type { GgufValue } from './types.js'

export interface GgufTensor extends GgufTensorInfo {
  /** The tensor's bytes in order, in chunks of any size, together exactly its size. Called once, in file order. */
  data: () => Iterable<Uint8Array>
}

export interface GgufContents {
  /** Key/value pairs in file order; `general.alignment` (uint32), when present, sets the alignment. */
  metadata: ReadonlyArray<readonly [key: string, value: GgufValue]>
  tensors: readonly GgufTensor[]
}

const WRITE_BUFFER_BYTES = 4 << 20

/** Writes `contents` as a GGUF v3 file at `path`; resolves with the file's size in bytes. */
export async function writeGgufFile (path: string, contents: GgufContents, options: { signal?: AbortSignal } = {}): Promise<{ bytes: number }> {
  const { signal } = options
  checkAborted(signal, 'writing a GGUF file')
  const layout = encodeGgufHeader(contents.metadata, contents.tensors)
  const temporary = `${path}.${randomBytes(4).toString('hex')}.partial`
  const file = await open(temporary, 'wx')
  let closed = false
  try {
    const buffer = Buffer.alloc(WRITE_BUFFER_BYTES)
    let filled = 0
    let written = 0
    const flush = async (): Promise<void> => {
      checkAborted(signal, 'writing a GGUF file')
      if (filled > 0) await file.write(buffer, 0, filled)
      written += filled
      filled = 0
    }
    const append = async (bytes: Uint8Array): Promise<void> => {
      let from = 0
      while (from < bytes.length) {
        const n = Math.min(bytes.length - from, buffer.length - filled)
        buffer.set(bytes.subarray(from, from + n), filled)
        filled += n
        from += n
        if (filled === buffer.length) await flush()
      }
    }
    await append(layout.header)
    for (const [i, tensor] of contents.tensors.entries()) {
      const { bytes, offset } = layout.tensors[i]
      let produced = 0
      for (const chunk of tensor.data()) {
        produced += chunk.length
        if (produced > bytes) break
        await append(chunk)
      }
      if (produced !== bytes) {
        throw new ModelOptionsError(`tensor ${tensor.name}: its data came to ${produced} bytes, its shape needs ${bytes}`, { details: [`tensor ${tensor.name}: wrong data size`] })
      }
      const next = i + 1 < layout.tensors.length ? layout.tensors[i + 1].offset : layout.dataBytes
      await append(new Uint8Array(next - offset - bytes))
    }
    await flush()
    await file.sync()
    await file.close()
    closed = true
    await rename(temporary, path)
    return { bytes: written }
  } catch (err) {
    if (!closed) await file.close().catch(() => {})
    await rm(temporary, { force: true })
    throw err
  }
}
