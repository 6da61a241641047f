/** Small durable-file helpers for the data dir: writes are fsynced and atomic (tmp + rename). */
import { open, rename, mkdir, readFile, stat, chmod } from 'node:fs/promises'
import { dirname, basename, join, resolve } from 'node:path'
import { homedir } from 'node:os'
import { randomBytes } from 'node:crypto'
import { DataDirError } from './errors.js'

export async function ensureDir (dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
  } catch (err) {
    throw new DataDirError(`cannot create data dir ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
  }
}

/** Write `data` to `path` so that after return it is on disk whole, or the old file is. */
export async function writeFileDurable (path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`)
  const handle = await open(tmp, 'wx', mode)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await chmod(tmp, mode)
  await rename(tmp, path)
  const dirHandle = await open(dirname(path), 'r')
  try { await dirHandle.sync() } finally { await dirHandle.close() }
}

/** Read a file, or `undefined` when it does not exist; any other failure is a DataDirError. */
export async function readIfExists (path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return undefined
    throw new DataDirError(`cannot read ${path}: ${code ?? (err as Error).message}`, { cause: err })
  }
}

/** True when group or others may read the file: secrets must be private to their owner. */
export async function isTooOpen (path: string): Promise<boolean> {
  const info = await stat(path)
  return (info.mode & 0o077) !== 0
}

/** The data dir when none is given: GRYPHGEN_DATA_DIR, else ~/.gryphgen (absolute). */
export function dataDirOf (explicit: string | undefined, env: Record<string, string | undefined>): string {
  return resolve(explicit ?? env.GRYPHGEN_DATA_DIR ?? join(homedir(), '.gryphgen'))
}
