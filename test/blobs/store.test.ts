import { afterEach, describe, expect, test } from 'vitest'
import { createHash, randomBytes } from 'node:crypto'
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { BlobStore } from '../../blobs/index.js'
import { tempDir } from './meshes.js'

const dirs: string[] = []
afterEach(async () => { await Promise.all(dirs.splice(0).map(async d => rm(d, { recursive: true, force: true }))) })
const openStore = async (maxBytes?: number): Promise<BlobStore> => {
  const dataDir = await tempDir()
  dirs.push(dataDir)
  return BlobStore.open({ dataDir, maxBytes })
}
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
const rejectsWith = async (promise: Promise<unknown>, name: string): Promise<void> => {
  await expect(promise).rejects.toMatchObject({ name })
}

describe('BlobStore', () => {
  test('put stores the bytes under <dataDir>/blobs/<2 hex>/<digest>; get, has and size see them', async () => {
    const store = await openStore()
    const bytes = randomBytes(100_000)
    const ref = await store.put(bytes)
    expect(ref).toEqual({ digest: sha(bytes), size: 100_000 })
    const path = join(store.root, ref.digest.slice(0, 2), ref.digest)
    expect(store.path(ref.digest)).toBe(path)
    // Durable shape: once put resolves the file is there whole, with no temporary file beside it.
    expect(Buffer.compare(await readFile(path), bytes)).toBe(0)
    expect(await readdir(join(store.root, ref.digest.slice(0, 2)))).toEqual([ref.digest])
    expect(Buffer.from((await store.get(ref.digest))!).equals(bytes)).toBe(true)
    expect(await store.has(ref.digest)).toBe(true)
    expect(await store.size(ref.digest)).toBe(100_000)
    const other = sha(Buffer.from('never stored'))
    expect(await store.get(other)).toBeUndefined()
    expect(await store.has(other)).toBe(false)
    expect(await store.size(other)).toBeUndefined()
  })

  test('an empty blob is a blob', async () => {
    const store = await openStore()
    const ref = await store.put(new Uint8Array(0))
    expect(ref.size).toBe(0)
    expect((await store.get(ref.digest))?.byteLength).toBe(0)
  })

  test('a second put of the same bytes writes nothing (same file, its time refreshed for GC age) and returns the same reference', async () => {
    const store = await openStore()
    const bytes = randomBytes(1000)
    const first = await store.put(bytes)
    const before = await stat(store.path(first.digest))
    const [second, third] = await Promise.all([store.put(bytes), store.put(Uint8Array.from(bytes))])
    expect(second).toEqual(first)
    expect(third).toEqual(first)
    const after = await stat(store.path(first.digest))
    expect(after.ino).toBe(before.ino)
    expect(after.size).toBe(before.size)
    expect(after.mtimeMs).toBeGreaterThanOrEqual(before.mtimeMs)
  })

  test('a blob over maxBytes is refused with BlobTooLargeError and nothing is written', async () => {
    const store = await openStore(1024)
    await rejectsWith(store.put(new Uint8Array(1025)), 'BlobTooLargeError')
    expect(await readdir(store.root)).toEqual([])
    expect((await store.put(new Uint8Array(1024))).size).toBe(1024)
  })

  test('digests that are not 64 lowercase hex characters are refused with InvalidDigestError', async () => {
    const store = await openStore()
    const good = sha(Buffer.from('x'))
    for (const bad of [good.toUpperCase(), good.slice(1), `${good}0`, '../../etc/passwd', '', `${good.slice(0, 63)}g`]) {
      await rejectsWith(store.get(bad), 'InvalidDigestError')
      await rejectsWith(store.has(bad), 'InvalidDigestError')
      await rejectsWith(store.size(bad), 'InvalidDigestError')
    }
  })

  test('a stored file that no longer matches its digest is BlobCorruptError, never returned, and can be stored again', async () => {
    const store = await openStore()
    const bytes = randomBytes(4096)
    const ref = await store.put(bytes)
    const flipped = Buffer.from(bytes)
    flipped[100] ^= 1
    await writeFile(store.path(ref.digest), flipped)
    await rejectsWith(store.get(ref.digest), 'BlobCorruptError')
    expect(await store.has(ref.digest)).toBe(false)
    await store.put(bytes)
    expect(Buffer.from((await store.get(ref.digest))!).equals(bytes)).toBe(true)
  })

  test('an aborted put writes nothing; a closed store refuses work', async () => {
    const store = await openStore()
    const controller = new AbortController()
    controller.abort()
    await rejectsWith(store.put(randomBytes(10), { signal: controller.signal }), 'AbortedError')
    await rejectsWith(store.get(sha(Buffer.from('y')), { signal: controller.signal }), 'AbortedError')
    expect(await readdir(store.root)).toEqual([])
    await store.close()
    await rejectsWith(store.put(randomBytes(10)), 'BlobStoreError')
    await rejectsWith(BlobStore.open({ dataDir: store.root, maxBytes: 0 }), 'BlobOptionsError')
  })
})
