import { afterEach, describe, expect, test } from 'vitest'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { ModelFetcher, ModelServer, ModelStore, type ModelFetchInit } from '../../models/index.js'
import { silentLogger } from '../../base/index.js'
import { lpStream } from '@libp2p/utils'
import { MODEL_CHUNK_BYTES, MODEL_FETCH_PROTOCOL } from '../../protocols/index.js'
import { blobMeshes, connect, tempDir, waitFor } from '../blobs/meshes.js'
import type { Mesh } from '../../node/mesh/libp2p.js'
import { hintedHolders, lyingHolder, paddedTestModel } from './fetch-holders.js'

let meshes = blobMeshes()
afterEach(async () => {
  await meshes.stopAll()
  meshes = blobMeshes()
})

/** A mesh whose store holds a padded test model, served by a ModelServer. */
async function holder (chunks = 3): Promise<{ mesh: Mesh, model: Awaited<ReturnType<typeof paddedTestModel>>, server: ModelServer }> {
  const mesh = await meshes.mesh()
  const dir = await tempDir()
  const store = await ModelStore.open({ dataDir: dir })
  const model = await paddedTestModel(join(dir, 'src.gguf'), chunks)
  const { model: entry } = await store.add(model.path, { name: 'm' })
  const server = new ModelServer({
    mesh,
    lookup: async digest => digest === entry.digest ? { path: entry.path, digest, size: entry.bytes, mtimeMs: 0 } : undefined,
    logger: silentLogger(),
  })
  await server.start()
  return { mesh, model, server }
}

async function fetcherNode (init?: ModelFetchInit): Promise<{ mesh: Mesh, store: ModelStore, fetcher: ModelFetcher, dataDir: string }> {
  const mesh = await meshes.mesh()
  const dataDir = await tempDir()
  const store = await ModelStore.open({ dataDir })
  return { mesh, store, dataDir, fetcher: new ModelFetcher({ mesh, store, holders: hintedHolders, logger: silentLogger() }, init) }
}

/** A model of 4 chunks; a holder that dies after chunk 2, an honest one, and a fetcher connected to both. */
async function dyingAndHonest (): Promise<{ source: Awaited<ReturnType<typeof holder>>, dyingMesh: Mesh, honestMesh: Mesh, dying: { fromChunks: number[] }, honest: { fromChunks: number[] }, c: Awaited<ReturnType<typeof fetcherNode>> }> {
  const source = await holder(4)
  const [dyingMesh, honestMesh] = [await meshes.mesh(), await meshes.mesh()]
  const dying = await lyingHolder(dyingMesh, source.model.path, 'die-after-2-chunks')
  const honest = await lyingHolder(honestMesh, source.model.path, 'none')
  const c = await fetcherNode()
  await connect(c.mesh, dyingMesh)
  await connect(c.mesh, honestMesh)
  return { source, dyingMesh, honestMesh, dying, honest, c }
}

const signal = (): AbortSignal => AbortSignal.timeout(60_000)

describe('model fetch between peers', () => {
  test('a model is fetched in verified chunks, added under its name with its digest, and the download dir is left empty', async () => {
    const a = await holder()
    const c = await fetcherNode()
    await connect(c.mesh, a.mesh)
    const { model, added } = await c.fetcher.fetch({ name: 'm', digest: a.model.digest, bytes: a.model.bytes, hints: [a.mesh.peerId.toString()] }, { signal: signal() })
    expect(added).toBe(true)
    expect(model.digest).toBe(a.model.digest)
    expect((await readFile(model.path)).equals(await readFile(a.model.path))).toBe(true)
    expect((await c.store.get('m')).available).toBe(true)
    expect(await readdir(c.store.downloadDir)).toEqual([])
    expect(c.fetcher.progress()).toMatchObject([{ name: 'm', state: 'done', doneBytes: a.model.bytes, totalBytes: a.model.bytes }])
    expect(a.server.stats.served).toBe(1)
  })

  test('a holder serving a corrupted chunk is detected and the next holder finishes from the last good chunk', async () => {
    const good = await holder()
    const liarMesh = await meshes.mesh()
    const liar = await lyingHolder(liarMesh, good.model.path, 'corrupt-chunk-1')
    const c = await fetcherNode()
    await connect(c.mesh, liarMesh)
    await connect(c.mesh, good.mesh)
    const { model } = await c.fetcher.fetch({ name: 'm', digest: good.model.digest, hints: [liarMesh.peerId.toString(), good.mesh.peerId.toString()] }, { signal: signal() })
    expect(model.digest).toBe(good.model.digest)
    expect(liar.fromChunks).toEqual([0])
    expect(c.fetcher.progress()[0].holdersRejected).toBe(1)
    expect(good.server.stats.served).toBe(1)
  })

  test('false manifests: one not ending in the digest is refused before any chunk; one lying about a chunk costs that chunk, and an honest holder finishes', async () => {
    const { source, honestMesh, honest, c } = await dyingAndHonest()
    const [falseDigestMesh, falsePrefixMesh] = [await meshes.mesh(), await meshes.mesh()]
    const falseDigest = await lyingHolder(falseDigestMesh, source.model.path, 'false-digest')
    const falsePrefix = await lyingHolder(falsePrefixMesh, source.model.path, 'false-prefix-2')
    await connect(c.mesh, falseDigestMesh)
    await connect(c.mesh, falsePrefixMesh)
    const hints = [falseDigestMesh, falsePrefixMesh, honestMesh].map(m => m.peerId.toString())
    const { model } = await c.fetcher.fetch({ name: 'm', digest: source.model.digest, hints }, { signal: signal() })
    expect(model.digest).toBe(source.model.digest)
    expect((await readFile(model.path)).equals(await readFile(source.model.path))).toBe(true)
    expect([falseDigest.fromChunks, falsePrefix.fromChunks, honest.fromChunks]).toEqual([[0], [0], [2]])
    expect(c.fetcher.progress()[0].holdersRejected).toBe(2)
  })

  test('a fetch whose source dies mid-stream goes on from the next holder at the first missing chunk', async () => {
    const { source, dyingMesh, honestMesh, dying, honest, c } = await dyingAndHonest()
    const { model } = await c.fetcher.fetch({ name: 'm', digest: source.model.digest, hints: [dyingMesh.peerId.toString(), honestMesh.peerId.toString()] }, { signal: signal() })
    expect(model.digest).toBe(source.model.digest)
    expect(dying.fromChunks).toEqual([0])
    expect(honest.fromChunks).toEqual([2])
  })

  test('a holder that stalls mid-transfer is dropped after idleMs without a frame, and the next one goes on from the first missing chunk', async () => {
    const good = await holder(3)
    const [stallMesh, honestMesh] = [await meshes.mesh(), await meshes.mesh()]
    const staller = await lyingHolder(stallMesh, good.model.path, 'stall-after-1-chunk')
    const honest = await lyingHolder(honestMesh, good.model.path, 'none')
    const c = await fetcherNode({ idleMs: 3000 })
    await connect(c.mesh, stallMesh)
    await connect(c.mesh, honestMesh)
    const { model } = await c.fetcher.fetch({ name: 'm', digest: good.model.digest, hints: [stallMesh.peerId.toString(), honestMesh.peerId.toString()] }, { signal: signal() })
    expect(model.digest).toBe(good.model.digest)
    expect([staller.fromChunks, honest.fromChunks]).toEqual([[0], [1]])
    expect(c.fetcher.progress()[0].holdersRejected).toBe(1)
  })

  test('verified chunks survive a failed fetch: a later fetcher over the same store (a restart) resumes from them', async () => {
    const { source, dyingMesh, honestMesh, dying, honest, c } = await dyingAndHonest()
    const request = { name: 'm', digest: source.model.digest, bytes: source.model.bytes }
    await expect(c.fetcher.fetch({ ...request, hints: [dyingMesh.peerId.toString()] }, { signal: signal() })).rejects.toMatchObject({ name: 'ModelUnavailableError' })
    expect(c.fetcher.progress()[0]).toMatchObject({ state: 'failed', doneBytes: 2 * MODEL_CHUNK_BYTES })
    const again = new ModelFetcher({ mesh: c.mesh, store: await ModelStore.open({ dataDir: c.dataDir }), holders: hintedHolders, logger: silentLogger() })
    const { model } = await again.fetch({ ...request, hints: [honestMesh.peerId.toString()] }, { signal: signal() })
    expect(model.digest).toBe(source.model.digest)
    expect(dying.fromChunks).toEqual([0])
    expect(honest.fromChunks).toEqual([2])
  })

  test('a model over the size limit is refused before any chunk is written; a holder without the model answers not-found', async () => {
    const a = await holder(2)
    const c = await fetcherNode({ maxBytes: MODEL_CHUNK_BYTES })
    await connect(c.mesh, a.mesh)
    await expect(c.fetcher.fetch({ name: 'm', digest: a.model.digest, hints: [a.mesh.peerId.toString()] }, { signal: signal() })).rejects.toMatchObject({ name: 'ModelFetchTooLargeError' })
    const other = '0'.repeat(64)
    await expect(c.fetcher.fetch({ name: 'x', digest: other, hints: [a.mesh.peerId.toString()] }, { signal: signal() })).rejects.toMatchObject({ name: 'ModelUnavailableError' })
    expect(a.server.stats.served).toBe(0)
  })

  test('a malformed request is refused without harming the holder', async () => {
    const a = await holder(1)
    const c = await fetcherNode()
    await connect(c.mesh, a.mesh)
    const stream = await c.mesh.dialProtocol(a.mesh.peerId, MODEL_FETCH_PROTOCOL, { signal: signal() })
    const lp = lpStream(stream)
    await lp.write(new TextEncoder().encode(JSON.stringify({ digest: a.model.digest, fromChunk: -1, extra: true })))
    await expect(lp.read({ signal: signal() })).rejects.toThrow()
    await waitFor(() => a.server.stats.failed === 1)
    const { model } = await c.fetcher.fetch({ name: 'm', digest: a.model.digest, hints: [a.mesh.peerId.toString()] }, { signal: signal() })
    expect(model.digest).toBe(a.model.digest)
  })
})
