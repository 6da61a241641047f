import { afterEach, describe, expect, test } from 'vitest'
import { createHash, randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { createBlobService, type BlobServiceInit } from '../../blobs/index.js'
import { silentLogger } from '../../base/index.js'
import { blobMeshes, connect, waitFor, type BlobNode } from './meshes.js'
import { lieAboutBlobs, type Lie } from './liar.js'

let meshes = blobMeshes()
afterEach(async () => {
  await meshes.stopAll()
  meshes = blobMeshes()
})
const same = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && Buffer.from(a).equals(b)
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
const provided = async (n: BlobNode, count = 1): Promise<void> => {
  await waitFor(() => n.service.stats.provides >= count && n.service.stats.provideRecordsSent > 0)
}

/** a - b - c in a line: c learns of a through the DHT. */
async function line (cInit?: BlobServiceInit): Promise<[BlobNode, BlobNode, BlobNode]> {
  const [a, b, c] = await Promise.all([meshes.node(), meshes.node(), meshes.node(cInit)])
  await connect(a.mesh, b.mesh)
  await connect(c.mesh, b.mesh)
  return [a, b, c]
}

describe('blob service on loopback', () => {
  test('a blob put on a is found by c through DHT providers, verified, kept, and then served by c', async () => {
    // c asks no connected peer: only the DHT can lead it to a.
    const [a, b, c] = await line({ maxConnectedPeers: 0 })
    const bytes = randomBytes(1024 * 1024 + 17)
    const ref = await a.service.put(bytes)
    expect(ref).toEqual({ digest: sha(bytes), size: bytes.byteLength })
    await provided(a)
    expect(same(await c.service.get(ref.digest, { signal: AbortSignal.timeout(10_000) }), bytes)).toBe(true)
    expect(c.service.stats.fetched).toBe(1)
    await waitFor(() => a.service.stats.served === 1)
    // c keeps the copy and becomes a holder: with a gone, b gets it from c.
    expect(same(await c.store.get(ref.digest), bytes)).toBe(true)
    await provided(c)
    await a.mesh.stop()
    expect(same(await b.service.get(ref.digest, { signal: AbortSignal.timeout(10_000) }), bytes)).toBe(true)
    await waitFor(() => c.service.stats.served === 1)
  })

  test('a blob never announced is found among connected peers', async () => {
    const [a, c] = await Promise.all([meshes.node(), meshes.node()])
    await connect(c.mesh, a.mesh)
    const bytes = randomBytes(70_000)
    const { digest } = await a.store.put(bytes)
    expect(same(await c.service.get(digest, { signal: AbortSignal.timeout(10_000) }), bytes)).toBe(true)
    await waitFor(() => a.service.stats.served === 1)
  })

  test('a corrupt local copy is replaced by a verified one from a peer', async () => {
    const [a, , c] = await line()
    const bytes = randomBytes(5000)
    const { digest } = await a.service.put(bytes)
    await provided(a)
    await c.store.put(bytes)
    await writeFile(c.store.path(digest), randomBytes(5000))
    expect(same(await c.service.get(digest, { signal: AbortSignal.timeout(10_000) }), bytes)).toBe(true)
    expect(same(await c.store.get(digest), bytes)).toBe(true)
  })

  test.each<Lie>(['wrong-bytes', 'too-large', 'more-than-announced', 'malformed-header', 'oversized-frame'])('a peer that lies (%s) is rejected and the fetch falls through to an honest one', async (lie) => {
    const [a, b, c] = await line()
    const liar = await meshes.mesh()
    const lies = await lieAboutBlobs(liar, lie, c.store.maxBytes)
    await connect(liar, b.mesh)
    const bytes = randomBytes(3000)
    const { digest } = await a.service.put(bytes)
    await provided(a)
    expect(same(await c.service.get(digest, { hints: [liar.peerId.toString()], signal: AbortSignal.timeout(10_000) }), bytes)).toBe(true)
    expect(lies.requests).toBe(1)
    expect(c.service.stats.peersRejected).toBe(1)
  })

  test('correct bytes over the fetcher\'s limit are refused before they are read', async () => {
    const [a, c] = await Promise.all([meshes.node(), meshes.node({ maxBytes: 2048 })])
    await connect(c.mesh, a.mesh)
    const { digest } = await a.store.put(randomBytes(2049))
    await expect(c.service.get(digest, { signal: AbortSignal.timeout(10_000) })).rejects.toMatchObject({ name: 'BlobNotFoundError' })
    expect(c.service.stats.peersRejected).toBe(1)
    expect(await c.store.has(digest)).toBe(false)
  })

  test('put on a node with no peers resolves at once; announcing fails in the background only', async () => {
    // With no DHT peer the provide query waits for one, up to its deadline.
    const a = await meshes.node({ provideTimeoutMs: 2000 })
    const started = Date.now()
    const { digest } = await a.service.put(randomBytes(100))
    expect(Date.now() - started).toBeLessThan(1000)
    expect(await a.store.has(digest)).toBe(true)
    await waitFor(() => a.service.stats.provideFailures === 1)
  })

  test('when only a liar answers, the fetch fails with BlobNotFoundError and stores nothing', async () => {
    const c = await meshes.node()
    const liar = await meshes.mesh()
    const lies = await lieAboutBlobs(liar, 'wrong-bytes')
    await connect(c.mesh, liar)
    const digest = sha(randomBytes(1000))
    await expect(c.service.get(digest, { signal: AbortSignal.timeout(10_000) })).rejects.toMatchObject({ name: 'BlobNotFoundError' })
    expect(lies.requests).toBe(1)
    expect(c.service.stats.peersRejected).toBe(1)
    expect(await c.store.has(digest)).toBe(false)
  })

  test('a blob no peer holds is BlobNotFoundError in bounded time', async () => {
    const [, , c] = await line()
    const started = Date.now()
    await expect(c.service.get(sha(randomBytes(8)))).rejects.toMatchObject({ name: 'BlobNotFoundError' })
    expect(Date.now() - started).toBeLessThan(3000)
    await expect(c.service.get('not a digest')).rejects.toMatchObject({ name: 'InvalidDigestError' })
    expect(() => createBlobService({ mesh: c.mesh, store: c.store, logger: silentLogger() }, { fetchTimeoutMs: 0, maxProviders: -1 })).toThrow(expect.objectContaining({ name: 'BlobOptionsError', problems: [expect.any(String), expect.any(String)] }))
    const alone = await meshes.node()
    const aloneStarted = Date.now()
    await expect(alone.service.get(sha(randomBytes(8)))).rejects.toMatchObject({ name: 'BlobNotFoundError' })
    expect(Date.now() - aloneStarted).toBeLessThan(2000)
  })

  test('a stalling peer: the caller aborts mid-stream through its signal', async () => {
    const b = await meshes.node({ fetchTimeoutMs: 20_000 })
    const staller = await meshes.mesh()
    const stalls = await lieAboutBlobs(staller, 'stall')
    await connect(b.mesh, staller)
    const digest = sha(randomBytes(10))
    const started = Date.now()
    await expect(b.service.get(digest, { hints: [staller.peerId.toString()], signal: AbortSignal.timeout(300) })).rejects.toMatchObject({ name: 'AbortedError' })
    expect(Date.now() - started).toBeLessThan(3000)
    expect(stalls.requests).toBe(1)
    const aborted = new AbortController()
    aborted.abort()
    await expect(b.service.get(digest, { signal: aborted.signal })).rejects.toMatchObject({ name: 'AbortedError' })
    await expect(b.service.put(randomBytes(10), { signal: aborted.signal })).rejects.toMatchObject({ name: 'AbortedError' })
  })

  test('a stalling peer: the stream deadline moves on to an honest peer', async () => {
    const [a, b] = await Promise.all([meshes.node(), meshes.node({ fetchTimeoutMs: 500 })])
    const staller = await meshes.mesh()
    const stalls = await lieAboutBlobs(staller, 'stall')
    await connect(b.mesh, staller)
    await connect(b.mesh, a.mesh)
    const bytes = randomBytes(2000)
    const { digest } = await a.store.put(bytes)
    const started = Date.now()
    expect(same(await b.service.get(digest, { hints: [staller.peerId.toString(), a.mesh.peerId.toString()], signal: AbortSignal.timeout(10_000) }), bytes)).toBe(true)
    expect(Date.now() - started).toBeGreaterThanOrEqual(450)
    expect(stalls.requests).toBe(1)
  })
})
