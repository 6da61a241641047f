/**
 * Turns the tar stream of /work that the sandbox sends back into the result's `files`: only
 * regular files matched by the spec's globs, each with its size and sha256, and its text when
 * it is small UTF-8. Bounded: at most COLLECT_BOUNDS.maxFiles files and maxStreamBytes of
 * stream are read; anything beyond, or a malformed stream, sets `truncated`. Pure.
 */
import { createHash, type Hash } from 'node:crypto'
import { globMatcher } from '../protocols/index.js'
import { TarReader, type TarEntry, type TarEntrySink } from './tar.js'

export interface CollectedFile {
  path: string
  size: number
  sha256: string
  /** The file's text, for UTF-8 files of at most COLLECT_BOUNDS.contentBytes without NUL. */
  content?: string
}

export const COLLECT_BOUNDS = Object.freeze({
  maxFiles: 1000,
  contentBytes: 64 * 1024,
  totalContentBytes: 8 * 1024 * 1024,
})

const utf8 = new TextDecoder('utf-8', { fatal: true })

export class FileCollector {
  readonly files: CollectedFile[] = []
  truncated = false
  /** The largest regular file seen in /work, collected or not (to tell an fsize hit). */
  largestFileSize = 0
  readonly #reader: TarReader
  readonly #matches: (path: string) => boolean
  readonly #maxStreamBytes: number
  #streamBytes = 0
  #contentBytes = 0
  #failed = false

  constructor (globs: readonly string[], maxStreamBytes: number) {
    this.#matches = globMatcher(globs)
    this.#maxStreamBytes = maxStreamBytes
    this.#reader = new TarReader(entry => this.#onEntry(entry))
  }

  write (chunk: Buffer): void {
    if (this.#failed || this.#reader.done) return
    this.#streamBytes += chunk.length
    if (this.#streamBytes > this.#maxStreamBytes) { this.#fail(); return }
    try {
      this.#reader.write(chunk)
    } catch {
      this.#fail()
    }
  }

  end (): void {
    if (this.#failed) return
    try {
      this.#reader.end()
    } catch {
      this.#fail()
    }
    this.files.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
  }

  #fail (): void {
    this.#failed = true
    this.truncated = true
  }

  #onEntry (entry: TarEntry): TarEntrySink | null {
    if (entry.type !== 'file') return null
    this.largestFileSize = Math.max(this.largestFileSize, entry.size)
    if (!this.#matches(entry.path)) return null
    if (this.files.length >= COLLECT_BOUNDS.maxFiles) { this.truncated = true; return null }
    const wantContent = entry.size <= COLLECT_BOUNDS.contentBytes &&
      this.#contentBytes + entry.size <= COLLECT_BOUNDS.totalContentBytes
    return fileSink(entry, wantContent, file => {
      if (file.content !== undefined) this.#contentBytes += file.size
      this.files.push(file)
    })
  }
}

function fileSink (entry: TarEntry, wantContent: boolean, done: (file: CollectedFile) => void): TarEntrySink {
  const hash: Hash = createHash('sha256')
  const parts: Buffer[] = []
  return {
    write: chunk => {
      hash.update(chunk)
      if (wantContent) parts.push(Buffer.from(chunk))
    },
    end: () => {
      const file: CollectedFile = { path: entry.path, size: entry.size, sha256: hash.digest('hex') }
      const content = wantContent ? textOf(Buffer.concat(parts)) : null
      if (content !== null) file.content = content
      done(file)
    },
  }
}

function textOf (bytes: Buffer): string | null {
  if (bytes.includes(0)) return null
  try {
    return utf8.decode(bytes)
  } catch {
    return null
  }
}
