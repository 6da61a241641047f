/**
 * Facts about this host that are slow to measure (hardware through spawned tools, a sandbox
 * probe that starts runtimes) but stay true until the host changes: kept in
 * `<data-dir>/cache/NAME.json` under a key made of the boot id, the kernel release, the Node
 * and gryphgen versions and what the caller adds (e.g. the bubblewrap binary's identity). A
 * reboot or an upgrade changes the key. A file that is missing, unreadable, of another key or
 * of the wrong shape is a miss, never an error: the caller measures again and writes it back.
 * Writes are atomic (tmp + rename); a failed write (read-only data dir) only costs the next
 * start a measurement. Nothing acknowledged depends on this file.
 */
import { readFile } from 'node:fs/promises'
import { release } from 'node:os'
import { join } from 'node:path'
import { Check } from 'typebox/value'
import type { Static, TSchema } from 'typebox'
import { ensureDir, writeFileDurable } from '../../base/index.js'

export const CACHE_DIR = 'cache'

const cachePath = (dataDir: string, name: string): string => join(dataDir, CACHE_DIR, `${name}.json`)

async function bootId (): Promise<string> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => 'no-boot-id')).trim()
}

/** The key a cached fact is valid under: this boot, kernel, Node and gryphgen, plus `extra`. */
export async function hostKey (version: string, extra: readonly string[] = []): Promise<string> {
  return JSON.stringify([await bootId(), release(), process.version, version, ...extra])
}

/** The cached value of `name` under `key`, or undefined (a miss) when there is none that fits. */
export async function readCached<T extends TSchema> (dataDir: string, name: string, key: string, schema: T): Promise<Static<T> | undefined> {
  try {
    const stored = JSON.parse(await readFile(cachePath(dataDir, name), 'utf8')) as { key?: unknown, value?: unknown }
    if (stored.key !== key || !Check(schema, stored.value)) return undefined
    return stored.value as Static<T>
  } catch {
    return undefined
  }
}

/** Stores `value` as `name` under `key`; false when it could not be written. */
export async function writeCached (dataDir: string, name: string, key: string, value: unknown): Promise<boolean> {
  try {
    await ensureDir(join(dataDir, CACHE_DIR))
    await writeFileDurable(cachePath(dataDir, name), `${JSON.stringify({ key, value })}\n`)
    return true
  } catch {
    return false
  }
}
