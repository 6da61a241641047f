/**
 * One model's download in progress, in the store's download dir:
 *   `<digest>.part`           the bytes received so far, written chunk by chunk in order
 *   `<digest>.manifest.json`  the chunk manifest the download follows (written durably first)
 * Resumable: `open` re-reads the part file, keeps the prefix of whole chunks that match the
 * manifest (a crash may have left a torn or unsynced tail) and cuts the rest, so a fetch goes
 * on from there, from any holder whose manifest agrees with the verified part. Verified, each
 * byte hashed once: one running SHA-256 over the chunks in order, in a thread of its own
 * (prefix-hasher.ts); `append` refuses a chunk unless the running hash with it (a copy,
 * finalized) is the manifest's prefix digest, before writing it. The manifest's last prefix is
 * the model's digest (`adopt` takes no other), so the hash that verified the last chunk is the
 * whole file's; `finish` fsyncs and checks that once more. `close` ends the thread.
 * Pipelined: `append` returns once the chunk is verified and its write has started; the write
 * of one chunk overlaps the receipt of the next (at most one write in flight, so the caller may
 * refill a chunk's buffer after the following `append` returned). A failed write surfaces at the
 * next `append` and at every call after it, `finish` included (the failed promise is kept), so
 * a download with a hole never completes; the next `open` re-verifies what is on disk. Nothing
 * counts as received before `finish` fsynced it.
 */
import { mkdir, open, readFile, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { chunkCount, type ChunkManifest } from '../../protocols/index.js'
import { checkAborted } from '../errors.js'
import { ModelDigestMismatchError } from './errors.js'
import { PrefixHasher, sharedChunkBuffer } from './prefix-hasher.js'

export class PartialModel {
  readonly digest: string
  readonly path: string
  readonly #manifestPath: string
  #manifest: ChunkManifest | undefined
  #file: FileHandle | undefined
  readonly #hasher = new PrefixHasher()
  /** The prefix digest of the last verified chunk. */
  #verifiedPrefix: string | undefined
  #verified = 0
  #doneBytes = 0
  #writing: Promise<void> = Promise.resolve()

  private constructor (dir: string, digest: string) {
    this.digest = digest
    this.path = join(dir, `${digest}.part`)
    this.#manifestPath = join(dir, `${digest}.manifest.json`)
  }

  /** Opens (or starts) the download of `digest` in `dir`, keeping what verifies of an earlier try. */
  static async open (dir: string, digest: string, signal: AbortSignal): Promise<PartialModel> {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const partial = new PartialModel(dir, digest)
    try {
      partial.#manifest = await readManifest(partial.#manifestPath, digest)
      await (await open(partial.path, 'a', 0o600)).close() // created when missing; positional writes need 'r+'
      const file = await open(partial.path, 'r+')
      partial.#file = file
      if (partial.#manifest !== undefined) await partial.#verifyPrefix(signal)
      await file.truncate(partial.#doneBytes)
      return partial
    } catch (err) {
      await partial.close() // its file and its hashing thread
      throw err
    }
  }

  get manifest (): ChunkManifest | undefined { return this.#manifest }
  /** Whole chunks received and verified: where the next request starts. */
  get verifiedChunks (): number { return this.#verified }
  get doneBytes (): number { return this.#doneBytes }
  get complete (): boolean { return this.#manifest !== undefined && this.#verified === this.#manifest.prefixes.length }

  /**
   * Follows `manifest` from now on (saved durably first) when it ends in the digest and agrees
   * with what is verified: the same size and the same prefix digests up to the last verified
   * chunk (those are facts about bytes on disk). Its later entries may differ from the manifest
   * followed so far: those were a holder's unverified claims, and a holder whose claim failed
   * must not lock the honest ones out. False (nothing changes) otherwise.
   */
  async adopt (manifest: ChunkManifest): Promise<boolean> {
    if (manifest.prefixes.at(-1) !== this.digest) return false
    const m = this.#manifest
    if (m !== undefined && !agreesUpTo(m, manifest, this.#verified)) return false
    if (m !== undefined && agreesUpTo(m, manifest, m.prefixes.length)) return true
    const tmp = `${this.#manifestPath}.${randomBytes(4).toString('hex')}.tmp`
    await writeFile(tmp, JSON.stringify(manifest), { mode: 0o600, flush: true })
    await rename(tmp, this.#manifestPath)
    this.#manifest = manifest
    return true
  }

  /** How long the next chunk is (0 when complete). */
  nextChunkBytes (): number {
    const m = this.#manifest
    if (m === undefined || this.complete) return 0
    return Math.min(m.chunkBytes, m.size - this.#verified * m.chunkBytes)
  }

  /**
   * Starts writing the next chunk if it matches its prefix digest; false (nothing written) when
   * it does not. Waits for the previous chunk's write first: `chunk` must stay untouched until
   * the following `append` (or `finish`) returned.
   */
  async append (chunk: Uint8Array): Promise<boolean> {
    if (this.#manifest === undefined || this.complete || chunk.byteLength !== this.nextChunkBytes()) return false
    if (!await this.#extend(chunk)) return false
    await this.#writing
    const file = this.#open()
    const position = this.#doneBytes
    this.#writing = writeAll(file, chunk, position)
    this.#writing.catch(() => {}) // surfaces at the next append or finish
    this.#verified++
    this.#doneBytes += chunk.byteLength
    return true
  }

  /** Fsyncs and closes the file, then checks that the hash that verified the last chunk is the digest; a mismatch discards everything. */
  async finish (): Promise<string> {
    const file = this.#open()
    await this.#writing
    await file.sync()
    await file.close()
    this.#file = undefined
    const digest = this.#verifiedPrefix ?? 'none'
    if (digest !== this.digest) {
      await this.discard()
      throw new ModelDigestMismatchError(`the hash that verified the download's last chunk is ${digest}, not the model's digest ${this.digest}; download discarded`, { details: { digest: this.digest, got: digest } })
    }
    return this.path
  }

  /** Closes the file, keeping what was received for the next try. */
  async close (): Promise<void> {
    await this.#hasher.close()
    await this.#writing.catch(() => {})
    await this.#file?.close().catch(() => {})
    this.#file = undefined
  }

  /** Removes the part file and the manifest (after the model was added, or when it is unusable). */
  async discard (): Promise<void> {
    await this.close()
    await unlink(this.path).catch(() => {})
    await unlink(this.#manifestPath).catch(() => {})
  }

  #open (): FileHandle {
    if (this.#file === undefined) throw new Error('partial model is closed')
    return this.#file
  }

  /** Hashes `chunk` onto the running hash when that gives the next chunk's prefix digest (false: the running hash is left as it was). */
  async #extend (chunk: Uint8Array): Promise<boolean> {
    const expected = this.#manifest?.prefixes[this.#verified]
    if (expected === undefined || !await this.#hasher.extend(chunk, expected)) return false
    this.#verifiedPrefix = expected
    return true
  }

  async #verifyPrefix (signal: AbortSignal): Promise<void> {
    const m = this.#manifest as ChunkManifest
    const buffer = sharedChunkBuffer(m.chunkBytes)
    for (let i = 0; i < m.prefixes.length; i++) {
      checkAborted(signal, 'resuming a model fetch')
      const want = Math.min(m.chunkBytes, m.size - i * m.chunkBytes)
      const { bytesRead } = await this.#open().read(buffer, 0, want, i * m.chunkBytes)
      if (bytesRead !== want || !await this.#extend(buffer.subarray(0, bytesRead))) return
      this.#verified++
      this.#doneBytes += want
    }
  }
}

/** Same size and chunking, and the same prefix digests for the first `chunks` chunks. */
function agreesUpTo (a: ChunkManifest, b: ChunkManifest, chunks: number): boolean {
  if (a.size !== b.size || a.chunkBytes !== b.chunkBytes || a.prefixes.length !== b.prefixes.length) return false
  for (let i = 0; i < chunks; i++) if (a.prefixes[i] !== b.prefixes[i]) return false
  return true
}

/**
 * The saved manifest, or undefined when there is none or it is unreadable (the download then
 * starts over; so does one saved by 1.0.0, whose manifest had `chunks`, not `prefixes`).
 */
async function readManifest (path: string, digest: string): Promise<ChunkManifest | undefined> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as ChunkManifest
    if (!Number.isSafeInteger(value.size) || !Number.isSafeInteger(value.chunkBytes) || !Array.isArray(value.prefixes)) return undefined
    if (value.prefixes.length !== chunkCount(value.size, value.chunkBytes) || !value.prefixes.every(c => typeof c === 'string')) return undefined
    if (value.prefixes.at(-1) !== digest) return undefined
    return value
  } catch {
    return undefined
  }
}

async function writeAll (file: FileHandle, chunk: Uint8Array, position: number): Promise<void> {
  let written = 0
  while (written < chunk.byteLength) {
    const { bytesWritten } = await file.write(chunk, written, chunk.byteLength - written, position + written)
    written += bytesWritten
  }
}
