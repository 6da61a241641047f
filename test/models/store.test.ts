import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { appendFile, mkdir, readdir, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import {
  ModelStore, defaultModelName, assertModelName, pullModel, writeTestModel, type ModelProgress,
} from '../../models/index.js'
import { modelTempDir, removeModelTempDirs } from './helpers.js'

let dir: string
let modelA: string // seed 1
let modelB: string // seed 2: same size as A, another digest
beforeAll(async () => {
  dir = await modelTempDir()
  modelA = join(dir, 'a.gguf')
  modelB = join(dir, 'b.gguf')
  await writeTestModel({ path: modelA, seed: 1 })
  await writeTestModel({ path: modelB, seed: 2 })
})
afterAll(removeModelTempDirs)

let stores = 0
async function freshStore (): Promise<{ store: ModelStore, dataDir: string }> {
  const dataDir = join(dir, `data-${stores++}`)
  return { store: await ModelStore.open({ dataDir }), dataDir }
}
const sha256 = async (path: string): Promise<string> => createHash('sha256').update(await readFile(path)).digest('hex')
const storedFiles = async (store: ModelStore): Promise<string[]> => readdir(join(store.root, 'files'))

describe('ModelStore', () => {
  test('add copies the file into the store and records its digest and metadata', async () => {
    const { store } = await freshStore()
    const progress: ModelProgress[] = []
    const { model, added } = await store.add(modelA, { onProgress: p => progress.push(p) })
    const bytes = (await stat(modelA)).size
    expect(added).toBe(true)
    expect(model).toMatchObject({
      name: 'gryphgen-test-tiny-q4_0-seed1', linked: false, digest: await sha256(modelA), bytes,
      architecture: 'llama', quantization: 'Q4_0', contextLength: 1024, available: true,
    })
    expect(model.parameterCount).toBeGreaterThan(0)
    expect(Date.parse(model.addedAt)).toBeGreaterThan(0)
    expect(model.path.startsWith(join(store.root, 'files'))).toBe(true)
    expect(await sha256(model.path)).toBe(model.digest)
    expect(progress.at(-1)).toEqual({ doneBytes: bytes, totalBytes: bytes })
    expect(await store.get(model.name)).toEqual(model)
    expect(await store.list()).toEqual([model])
    expect((await storedFiles(store)).filter(f => f.endsWith('.tmp'))).toEqual([])
  })

  test('add --link registers the file in place; a missing or changed file is reported unavailable', async () => {
    const { store } = await freshStore()
    const path = join(dir, 'linked.gguf')
    await writeFile(path, await readFile(modelA))
    const { model } = await store.add(path, { link: true, name: 'linked' })
    expect(model).toMatchObject({ name: 'linked', linked: true, path, file: path, available: true, digest: await sha256(path) })
    expect(await storedFiles(store)).toEqual([])
    await appendFile(path, 'x')
    expect(await store.get('linked')).toMatchObject({ available: false, problem: 'changed' })
    await rm(path)
    expect(await store.list()).toMatchObject([{ name: 'linked', available: false, problem: 'missing' }])
    await store.remove('linked')
    expect(await store.list()).toEqual([])
  })

  test('a text file and a truncated GGUF are refused with InvalidModelFileError; nothing is stored', async () => {
    const { store } = await freshStore()
    const text = join(dir, 'notes.txt')
    await writeFile(text, 'not a model\n')
    const cut = join(dir, 'cut.gguf')
    await writeFile(cut, await readFile(modelA))
    await truncate(cut, (await stat(cut)).size - 100)
    await expect(store.add(text)).rejects.toMatchObject({ name: 'InvalidModelFileError', reason: 'not-gguf' })
    await expect(store.add(cut, { name: 'cut' })).rejects.toMatchObject({ name: 'InvalidModelFileError', reason: 'truncated' })
    await expect(store.add(join(dir, 'absent.gguf'))).rejects.toMatchObject({ name: 'InvalidModelFileError', reason: 'unreadable' })
    expect(await store.list()).toEqual([])
    expect(await storedFiles(store)).toEqual([])
  })

  test('a taken name is refused (ModelExistsError) unless the file is the same, which changes nothing', async () => {
    const { store } = await freshStore()
    const first = await store.add(modelA, { name: 'm' })
    await expect(store.add(modelB, { name: 'm' })).rejects.toMatchObject({ name: 'ModelExistsError', details: { name: 'm' } })
    const again = await store.add(modelA, { name: 'm' })
    expect(again).toEqual({ model: first.model, added: false })
    const linkedAgain = await store.add(modelA, { name: 'm', link: true })
    expect(linkedAgain.added).toBe(false)
    expect(await store.list()).toEqual([first.model])
    expect(await storedFiles(store)).toHaveLength(1)
    // The same file under another name is another entry.
    await store.add(modelA, { name: 'm2' })
    expect((await store.list()).map(m => m.name)).toEqual(['m', 'm2'])
  })

  test('remove drops the entry and the copy; an unknown name is ModelNotFoundError', async () => {
    const { store } = await freshStore()
    const { model } = await store.add(modelA, { name: 'gone' })
    const removed = await store.remove('gone')
    expect(removed).toMatchObject({ name: 'gone', available: false })
    await expect(stat(model.path)).rejects.toMatchObject({ code: 'ENOENT' })
    expect(await storedFiles(store)).toEqual([])
    await expect(store.remove('gone')).rejects.toMatchObject({ name: 'ModelNotFoundError', details: { name: 'gone' } })
    await expect(store.get('gone')).rejects.toMatchObject({ name: 'ModelNotFoundError' })
    await expect(store.remove('x', { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortedError' })
  })

  test('names: explicit names are validated; default names come from general.name or the file name', async () => {
    for (const bad of ['', ' x', '-a', '.a', 'a b', 'a/b', '../x', 'é', 'a'.repeat(129)]) {
      expect(() => { assertModelName(bad) }, bad).toThrow(expect.objectContaining({ name: 'InvalidModelNameError' }))
    }
    for (const good of ['a', '7', 'qwen2.5-coder:7b-Q4_K_M', 'a'.repeat(128)]) assertModelName(good)
    expect(defaultModelName('TinyLlama 1.1B Chat v1.0', '/x/y.gguf')).toBe('TinyLlama-1.1B-Chat-v1.0')
    expect(defaultModelName(undefined, '/x/qwen2.5-0.5b.Q4_K_M.gguf')).toBe('qwen2.5-0.5b.Q4_K_M')
    expect(defaultModelName('  ', '/x/phi.gguf')).toBe('phi')
    expect(() => defaultModelName(undefined, '/x/__.gguf')).toThrow(expect.objectContaining({ name: 'InvalidModelNameError' }))
    const { store } = await freshStore()
    await expect(store.add(modelA, { name: 'a b' })).rejects.toMatchObject({ name: 'InvalidModelNameError' })
    expect(await store.list()).toEqual([])
  })

  test('the manifest survives a reopen; leftovers of a crash do not break it and old ones are swept', async () => {
    const { store, dataDir } = await freshStore()
    const { model } = await store.add(modelA, { name: 'kept' })
    const files = join(store.root, 'files')
    // A crash mid-copy leaves a temporary file; one after the rename but before the manifest, an orphan copy.
    await writeFile(join(files, '.deadbeef.tmp'), 'partial')
    await writeFile(join(files, 'fresh-orphan.gguf'), 'x')
    await writeFile(join(files, '.old.tmp'), 'partial')
    await writeFile(join(files, 'old-orphan.gguf'), 'x')
    await writeFile(join(store.root, 'index.json.tmp-other'), '{')
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000)
    await utimes(join(files, '.old.tmp'), old, old)
    await utimes(join(files, 'old-orphan.gguf'), old, old)
    await utimes(model.path, old, old) // old but referenced: kept
    const reopened = await ModelStore.open({ dataDir })
    expect(await reopened.list()).toEqual([model])
    expect((await readdir(files)).sort()).toEqual(['.deadbeef.tmp', 'fresh-orphan.gguf', model.path.slice(files.length + 1)].sort())
  })

  test('a corrupt manifest is reported (DataDirError), never replaced', async () => {
    const { store, dataDir } = await freshStore()
    await writeFile(join(store.root, 'index.json'), '{"version": 1, "models": [')
    await expect(ModelStore.open({ dataDir })).rejects.toMatchObject({ name: 'DataDirError' })
    await expect(store.add(modelA)).rejects.toMatchObject({ name: 'DataDirError' })
    expect(await readFile(join(store.root, 'index.json'), 'utf8')).toBe('{"version": 1, "models": [')
  })

  test('concurrent adds and removes, in one store and through two stores on one dir, all land', async () => {
    const { store, dataDir } = await freshStore()
    const other = await ModelStore.open({ dataDir })
    const names = Array.from({ length: 6 }, (_, i) => `c${i}`)
    await Promise.all(names.map(async (name, i) => (i % 2 === 0 ? store : other).add(modelA, { name })))
    expect((await store.list()).map(m => m.name).sort()).toEqual(names)
    await Promise.all(names.slice(0, 3).map(async (name, i) => (i % 2 === 0 ? other : store).remove(name)))
    expect((await other.list()).map(m => m.name).sort()).toEqual(names.slice(3))
    expect(await storedFiles(store)).toHaveLength(3)
    await expect(stat(join(store.root, 'index.lock'))).rejects.toMatchObject({ code: 'ENOENT' })
  })

  test('an aborted add stores nothing', async () => {
    const { store } = await freshStore()
    await expect(store.add(modelA, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortedError' })
    const controller = new AbortController()
    await expect(store.add(modelA, { signal: controller.signal, onProgress: () => { controller.abort() } })).rejects.toMatchObject({ name: 'AbortedError' })
    expect(await store.list()).toEqual([])
    expect(await storedFiles(store)).toEqual([])
  })
})

describe('pullModel (no network: up to the download)', () => {
  test('a URI that is not hf: or https is InvalidModelUriError, before anything is fetched', async () => {
    const { store } = await freshStore()
    for (const uri of ['ftp://example.com/m.gguf', 'http://example.com/m.gguf', 'model.gguf', '/tmp/m.gguf', 'hf:', 'hf:onlyuser', 'https://']) {
      await expect(pullModel(uri, { store }), uri).rejects.toMatchObject({ name: 'InvalidModelUriError', details: { uri } })
    }
    expect(await store.list()).toEqual([])
  })

  test('an hf: URI maps offline to its file name in the download dir; a file there is added without a download', async () => {
    const { store } = await freshStore()
    await mkdir(store.downloadDir, { recursive: true })
    const downloaded = join(store.downloadDir, 'hf_someone_tiny-repo_tiny.Q4_0.gguf')
    await writeFile(downloaded, await readFile(modelA))
    const phases = new Set<string>()
    const { model, added } = await pullModel('hf:someone/tiny-repo/tiny.Q4_0.gguf', { store, name: 'pulled', onProgress: p => phases.add(p.phase) })
    expect(added).toBe(true)
    expect(model).toMatchObject({ name: 'pulled', linked: false, digest: await sha256(modelA), available: true })
    expect(phases).toEqual(new Set(['add']))
    // Moved into the store, not copied.
    await expect(stat(downloaded)).rejects.toMatchObject({ code: 'ENOENT' })
    expect(await sha256(model.path)).toBe(model.digest)
  })
})
