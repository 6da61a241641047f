/** A generated model file of a chosen size, for model fetch tests and benchmarks. */
import { appendFile, readFile } from 'node:fs/promises'
import { createHash, randomBytes } from 'node:crypto'
import { writeTestModel } from '../../models/index.js'
import { MODEL_CHUNK_BYTES } from '../../protocols/index.js'

/** A tiny test model padded with random bytes to `chunks` chunks and a bit (the GGUF reader allows trailing bytes). */
export async function paddedTestModel (path: string, chunks: number, seed = 1): Promise<{ path: string, digest: string, bytes: number, name: string }> {
  const info = await writeTestModel({ path, seed })
  await appendFile(path, randomBytes(chunks * MODEL_CHUNK_BYTES - info.bytes + 12_345))
  const bytes = await readFile(path)
  return { path, digest: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength, name: info.name }
}

