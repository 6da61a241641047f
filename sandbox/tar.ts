/**
 * A streaming reader for the tar stream (POSIX pax or ustar, as GNU tar writes with
 * `--format=posix`) that the sandbox sends back with the files it produced. Pure: bytes in,
 * callbacks out; it never touches the host's file system, so names in a forged stream cannot
 * point anywhere. Entries with unsafe names are skipped; a malformed stream throws
 * TarFormatError. Memory is bounded: only pax headers are buffered (up to 1 MiB each).
 */
import { pathProblem } from '../protocols/index.js'

const BLOCK = 512
const MAX_PAX_BYTES = 1024 * 1024

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'other'

export interface TarEntry { path: string, type: TarEntryType, size: number }

/** Receives one entry's bytes; `end` is called after the last chunk. */
export interface TarEntrySink { write: (chunk: Buffer) => void, end: () => void }

export class TarFormatError extends Error {
  override name = 'TarFormatError'
}

type State =
  | { kind: 'header' }
  | { kind: 'data', remaining: number, padding: number, sink: TarEntrySink | null }
  | { kind: 'done' }

export class TarReader {
  readonly #onEntry: (entry: TarEntry) => TarEntrySink | null
  #state: State = { kind: 'header' }
  #header = Buffer.alloc(0)
  #pax: Record<string, string> = {}
  #longName: string | null = null

  /** `onEntry` returns a sink for the entry's bytes, or null to skip them. */
  constructor (onEntry: (entry: TarEntry) => TarEntrySink | null) {
    this.#onEntry = onEntry
  }

  get done (): boolean { return this.#state.kind === 'done' }

  write (chunk: Buffer): void {
    let offset = 0
    while (offset < chunk.length && this.#state.kind !== 'done') {
      const state = this.#state
      if (state.kind === 'header') {
        const take = Math.min(BLOCK - this.#header.length, chunk.length - offset)
        this.#header = Buffer.concat([this.#header, chunk.subarray(offset, offset + take)])
        offset += take
        if (this.#header.length === BLOCK) {
          const header = this.#header
          this.#header = Buffer.alloc(0)
          this.#readHeader(header)
        }
      } else if (state.kind === 'data') {
        if (state.remaining > 0) {
          const take = Math.min(state.remaining, chunk.length - offset)
          state.sink?.write(chunk.subarray(offset, offset + take))
          state.remaining -= take
          offset += take
          if (state.remaining === 0) state.sink?.end()
        } else {
          const skip = Math.min(state.padding, chunk.length - offset)
          state.padding -= skip
          offset += skip
        }
        if (state.remaining === 0 && state.padding === 0) this.#state = { kind: 'header' }
      }
    }
  }

  /** Throws when the stream stopped inside an entry; a stream without end blocks is accepted. */
  end (): void {
    if (this.#state.kind === 'data' || this.#header.length > 0) throw new TarFormatError('tar stream ends inside an entry')
  }

  #readHeader (header: Buffer): void {
    if (header.every(byte => byte === 0)) { this.#state = { kind: 'done' }; return }
    verifyChecksum(header)
    const type = String.fromCharCode(header[156] ?? 0)
    const size = this.#pax.size !== undefined ? parseDecimal(this.#pax.size) : parseNumber(header.subarray(124, 136))
    const padding = (BLOCK - (size % BLOCK)) % BLOCK
    if (type === 'x' || type === 'L') {
      if (size > MAX_PAX_BYTES) throw new TarFormatError('extended header too large')
      const parts: Buffer[] = []
      const sink = {
        write: (chunk: Buffer) => { parts.push(Buffer.from(chunk)) },
        end: () => {
          const data = Buffer.concat(parts)
          if (type === 'x') this.#pax = parsePax(data)
          else this.#longName = cString(data, 0, data.length)
        },
      }
      this.#startData(size, padding, sink)
      return
    }
    if (type === 'g' || type === 'K') { this.#startData(size, padding, null); return }
    const path = normalize(this.#pax.path ?? this.#longName ?? ustarName(header))
    this.#pax = {}
    this.#longName = null
    const entryType: TarEntryType = type === '0' || type === '\0' || type === '7'
      ? 'file'
      : type === '5' ? 'directory' : type === '2' ? 'symlink' : 'other'
    const dataSize = type === '1' ? 0 : size // a hard link carries no data
    const sink = path === null ? null : this.#onEntry({ path, type: entryType, size: entryType === 'file' ? size : 0 })
    this.#startData(dataSize, (BLOCK - (dataSize % BLOCK)) % BLOCK, sink)
  }

  #startData (size: number, padding: number, sink: TarEntrySink | null): void {
    if (size === 0) sink?.end()
    this.#state = size === 0 && padding === 0 ? { kind: 'header' } : { kind: 'data', remaining: size, padding, sink }
  }
}

function verifyChecksum (header: Buffer): void {
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i] ?? 0
  if (parseNumber(header.subarray(148, 156)) !== sum) throw new TarFormatError('tar header checksum mismatch')
}

function cString (buf: Buffer, start: number, end: number): string {
  const field = buf.subarray(start, end)
  const nul = field.indexOf(0)
  return field.subarray(0, nul === -1 ? field.length : nul).toString('utf8')
}

function ustarName (header: Buffer): string {
  const name = cString(header, 0, 100)
  const isUstar = header.subarray(257, 263).toString('latin1') === 'ustar\0'
  const prefix = isUstar ? cString(header, 345, 500) : ''
  return prefix === '' ? name : `${prefix}/${name}`
}

function parseNumber (field: Buffer): number {
  if (((field[0] ?? 0) & 0x80) !== 0) {
    let value = 0
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0)
    if (!Number.isSafeInteger(value)) throw new TarFormatError('tar number out of range')
    return value
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').trim()
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError('tar number is not octal')
  return parseInt(text, 8)
}

function parseDecimal (text: string): number {
  if (!/^[0-9]{1,15}$/.test(text)) throw new TarFormatError('pax size is not a number')
  return Number(text)
}

/** pax records: "<length> <key>=<value>\n", length counting the whole record. */
function parsePax (data: Buffer): Record<string, string> {
  const records: Record<string, string> = {}
  let offset = 0
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset)
    if (space === -1) throw new TarFormatError('bad pax record')
    const length = Number(data.subarray(offset, space).toString('latin1'))
    if (!Number.isInteger(length) || length <= space - offset || offset + length > data.length) throw new TarFormatError('bad pax record length')
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8')
    const eq = record.indexOf('=')
    if (eq === -1) throw new TarFormatError('bad pax record')
    const key = record.slice(0, eq)
    if (key === 'path' || key === 'size') records[key] = record.slice(eq + 1)
    offset += length
  }
  return records
}

/** "./a/b/" -> "a/b"; null for the root entry or an unsafe name. */
function normalize (name: string): string | null {
  let path = name
  while (path.startsWith('./')) path = path.slice(2)
  path = path.replace(/\/+$/, '')
  if (path === '' || path === '.') return null
  return pathProblem(path) === null ? path : null
}
