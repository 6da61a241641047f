/**
 * ModelStore: the GGUF models of one data dir, in `<dataDir>/models/`.
 * - Validated: a file is added only when its GGUF header reads (InvalidModelFileError, nothing stored).
 * - Durable: a copy is written to a temporary file in `files/`, fsynced, renamed and the directory
 *   fsynced; only then is the manifest (`index.json`) rewritten, itself durably. A crash leaves a
 *   model whole with its entry, or an orphan file with none (swept after an hour), never an entry
 *   without its file. `remove` drops the entry first, then the file.
 * - Streamed: files are copied and hashed (SHA-256) a chunk at a time, never read whole.
 * - Linked models (`link: true`) stay where they are; `list`/`get` report them unavailable when
 *   the file is missing or its size or modification time changed.
 * - Concurrency: changes in one process run one at a time; between processes a lock file guards
 *   each read-change-write of the manifest, which is re-read before every change.
 */
import { mkdir, open, readdir, rename, stat, unlink, utimes, type FileHandle } from 'node:fs/promises'
import { isAbsolute, join, resolve } from 'node:path'
import { randomBytes } from 'node:crypto'
import { DataDirError } from '../../base/index.js'
import { checkAborted } from '../errors.js'
import { readGgufHeader, type GgufHeader } from '../gguf/reader.js'
import { hashFile, type ModelProgress } from './copy.js'
import { ModelExistsError, ModelNotFoundError } from './errors.js'
import { withFileLock } from './file-lock.js'
import { readManifest, writeManifest, type ModelRecord } from './manifest.js'
import { assertModelName, defaultModelName } from './names.js'

export interface ModelStoreInit { dataDir: string }

/** A model as `list`/`get` report it: its record, where its file is, and whether it is usable. */
export interface ModelEntry extends ModelRecord {
  path: string
  available: boolean
  /** Why it is unavailable: its file is gone, or (a link) its size or modification time changed. */
  problem?: 'missing' | 'changed'
}

export interface AddModelOptions {
  /** Default: the file's `general.name`, else its file name (see defaultModelName). */
  name?: string
  /** Register the file where it is instead of copying it. */
  link?: boolean
  /** The file is the store's to take (a finished download inside the store): moved, not copied. */
  move?: boolean
  /** With `move`: the caller has already checked the file's SHA-256 (a finished fetch), so it is not read again. */
  verifiedDigest?: string
  signal?: AbortSignal
  onProgress?: (progress: ModelProgress) => void
}

/** `added` is false when the same name already held the same file (nothing changed). */
export interface AddModelResult { model: ModelEntry, added: boolean }

/** Orphans (temporary files, copies without an entry) older than this are removed on open. */
const ORPHAN_AGE_MS = 60 * 60 * 1000

export class ModelStore {
  readonly root: string
  readonly #files: string
  readonly #manifest: string
  readonly #lock: string
  #queue: Promise<unknown> = Promise.resolve()

  private constructor (root: string) {
    this.root = root
    this.#files = join(root, 'files')
    this.#manifest = join(root, 'index.json')
    this.#lock = join(root, 'index.lock')
  }

  /** Opens (creating when missing) the store of a data dir, and sweeps old orphans. */
  static async open (init: ModelStoreInit): Promise<ModelStore> {
    const store = new ModelStore(join(resolve(init.dataDir), 'models'))
    try {
      await mkdir(store.#files, { recursive: true, mode: 0o700 })
    } catch (err) {
      throw new DataDirError(`cannot create ${store.#files}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
    }
    await store.#sweep(await readManifest(store.#manifest))
    return store
  }

  /** Where downloads wait before they are added (kept between tries, so a pull can resume). */
  get downloadDir (): string { return join(this.root, 'downloads') }

  async list (): Promise<ModelEntry[]> {
    const records = await readManifest(this.#manifest)
    return Promise.all(records.map(async r => this.#entry(r)))
  }

  async get (name: string): Promise<ModelEntry> {
    const record = (await readManifest(this.#manifest)).find(r => r.name === name)
    if (record === undefined) throw notFound(name)
    return this.#entry(record)
  }

  async add (path: string, options: AddModelOptions = {}): Promise<AddModelResult> {
    if (options.name !== undefined) assertModelName(options.name)
    const source = resolve(path)
    const header = await readGgufHeader(source, { signal: options.signal })
    const name = options.name ?? defaultModelName(header.name, source)
    // A name taken by a file of another size cannot be a no-op: refuse before copying anything.
    const existing = (await readManifest(this.#manifest)).find(r => r.name === name)
    if (existing !== undefined) {
      if (existing.bytes !== header.fileBytes) throw exists(existing)
      // Same size: hash the file where it is (a read, no copy) to tell a re-add from a clash.
      const { digest } = await hashFile(source, header.fileBytes, options)
      if (digest !== existing.digest) throw exists(existing)
      return { model: await this.#entry(existing), added: false }
    }
    const placed: { file: string, digest: string, bytes: number, mtimeMs?: number } = options.link === true ? await this.#linkInPlace(source, header, options) : await this.#copyIn(source, header, options)
    const record: ModelRecord = {
      name, file: placed.file, linked: options.link === true, digest: placed.digest, bytes: placed.bytes,
      architecture: header.architecture, quantization: header.quantization, contextLength: header.contextLength ?? null,
      parameterCount: header.parameterCount, addedAt: new Date().toISOString(),
      ...(placed.mtimeMs === undefined ? {} : { mtimeMs: placed.mtimeMs }),
    }
    let result: AddModelResult
    try {
      result = await this.#change<AddModelResult>(async records => {
        const taken = records.find(r => r.name === name)
        if (taken === undefined) return { records: [...records, record], result: { model: await this.#entry(record), added: true } }
        if (taken.digest !== record.digest) throw exists(taken)
        return { records, result: { model: await this.#entry(taken), added: false } }
      })
    } catch (err) {
      await this.#discard(record)
      throw err
    }
    // Another add of the same file under the same name got there first: ours is not needed.
    if (!result.added) await this.#discard(record)
    return result
  }

  /** Drops a model's entry (durably), then its copied file; a linked file is left alone. */
  async remove (name: string, options: { signal?: AbortSignal } = {}): Promise<ModelEntry> {
    checkAborted(options.signal, 'removing a model')
    const removed = await this.#change(async records => {
      const record = records.find(r => r.name === name)
      if (record === undefined) throw notFound(name)
      return { records: records.filter(r => r !== record), result: record }
    })
    const entry = await this.#entry(removed)
    if (!removed.linked) await unlink(entry.path).catch(() => {})
    return { ...entry, available: false }
  }

  /** One manifest change at a time in this process, under the lock file across processes. */
  async #change<T> (fn: (records: ModelRecord[]) => Promise<{ records: ModelRecord[], result: T }>): Promise<T> {
    const run = async (): Promise<T> => withFileLock(this.#lock, async () => {
      const before = await readManifest(this.#manifest)
      const { records, result } = await fn(before)
      if (records !== before) await writeManifest(this.#manifest, records)
      return result
    })
    const next = this.#queue.then(run, run)
    this.#queue = next.catch(() => {})
    return next
  }

  async #copyIn (source: string, header: GgufHeader, options: AddModelOptions): Promise<{ file: string, digest: string, bytes: number }> {
    const tmp = join(this.#files, `.${randomBytes(6).toString('hex')}.tmp`)
    const move = options.move === true
    let handle: FileHandle | undefined
    try {
      // A move still reads the file once, for its digest, but writes nothing.
      if (!move) handle = await open(tmp, 'wx', 0o600)
      const { bytes, digest } = move && options.verifiedDigest !== undefined
        ? { bytes: (await stat(source)).size, digest: options.verifiedDigest }
        : await hashFile(source, header.fileBytes, { ...options, copyTo: handle })
      if (bytes !== header.fileBytes) throw new DataDirError(`${source} changed while it was being added (${header.fileBytes} bytes, then ${bytes})`)
      await handle?.sync()
      await handle?.close()
      handle = undefined
      checkAborted(options.signal, 'adding a model')
      const file = join('files', `${digest.slice(0, 16)}-${randomBytes(4).toString('hex')}.gguf`)
      if (move) {
        const now = new Date()
        await utimes(source, now, now) // a fresh mtime: never swept as an orphan before its entry is written
        await rename(source, join(this.root, file))
      } else {
        await rename(tmp, join(this.root, file))
      }
      await syncDir(this.#files)
      return { file, digest, bytes }
    } catch (err) {
      await handle?.close().catch(() => {})
      if (!move) await unlink(tmp).catch(() => {})
      throw err
    }
  }

  async #linkInPlace (source: string, header: GgufHeader, options: AddModelOptions): Promise<{ file: string, digest: string, bytes: number, mtimeMs: number }> {
    const { bytes, digest } = await hashFile(source, header.fileBytes, options)
    const info = await stat(source)
    if (bytes !== header.fileBytes || info.size !== bytes) throw new DataDirError(`${source} changed while it was being added`)
    return { file: source, digest, bytes, mtimeMs: info.mtimeMs }
  }

  /** Removes the copy of an add that did not make it into the manifest. */
  async #discard (record: ModelRecord): Promise<void> {
    if (!record.linked) await unlink(join(this.root, record.file)).catch(() => {})
  }

  async #entry (record: ModelRecord): Promise<ModelEntry> {
    const path = isAbsolute(record.file) ? record.file : join(this.root, record.file)
    let problem: ModelEntry['problem']
    try {
      const info = await stat(path)
      if (!info.isFile()) problem = 'missing'
      else if (info.size !== record.bytes || (record.linked && record.mtimeMs !== undefined && info.mtimeMs !== record.mtimeMs)) problem = 'changed'
    } catch {
      problem = 'missing'
    }
    return { ...record, path, available: problem === undefined, ...(problem === undefined ? {} : { problem }) }
  }

  /** Removes temporary files and unreferenced copies left by a crash, once they are old enough not to be another process's add in progress. */
  async #sweep (records: readonly ModelRecord[]): Promise<void> {
    const referenced = new Set(records.filter(r => !r.linked).map(r => join(this.root, r.file)))
    const cutoff = Date.now() - ORPHAN_AGE_MS
    for (const name of await readdir(this.#files).catch(() => [])) {
      const path = join(this.#files, name)
      if (referenced.has(path) || !(name.endsWith('.tmp') || name.endsWith('.gguf'))) continue
      const info = await stat(path).catch(() => undefined)
      if (info !== undefined && info.mtimeMs < cutoff) await unlink(path).catch(() => {})
    }
  }
}

async function syncDir (dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try { await handle.sync() } finally { await handle.close() }
}

function notFound (name: string): ModelNotFoundError {
  return new ModelNotFoundError(`no model named ${JSON.stringify(name)} in the store (see: gryphgen model list)`, { details: { name } })
}

function exists (record: ModelRecord): ModelExistsError {
  return new ModelExistsError(`a different model is already named ${JSON.stringify(record.name)}; remove it first or choose another name (--name)`, { details: { name: record.name, digest: record.digest } })
}
