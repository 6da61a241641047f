import { afterAll, afterEach, describe, expect, test } from 'vitest'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { BlobCollector, BlobPins, BlobStore, planCollection, sha256Hex, type ReferencedBlobs, type StoredBlob } from '../../blobs/index.js'
import { silentLogger } from '../../base/index.js'
import { ledgerBlobReferences } from '../../node/blob-references.js'
import { closeAllLedgers, openLedger } from '../helpers/ledgers.js'
import { newSwarmKeyHex, nodeTracker, removeTempDirs, tempDir, waitFor } from '../helpers/nodes.js'

const HOUR = 3_600_000
const d = (n: number): string => n.toString(16).padStart(64, '0')
const none: ReferencedBlobs = { live: new Set(), active: new Set(), kept: new Set() }
const policy = { maxBytes: 1000, keepUnreferencedMs: HOUR, freshMs: 60_000 }
const NOW = 100 * HOUR
const blob = (n: number, size: number, ageMs: number): StoredBlob => ({ digest: d(n), size, storedAt: NOW - ageMs })
const removed = (plan: ReturnType<typeof planCollection>): string[] => plan.remove.map(r => r.digest)

describe('planCollection (pure)', () => {
  test('unreferenced blobs older than the window go; pinned, kept, active, live and fresh ones stay', () => {
    const blobs = [1, 2, 3, 4, 5, 6].map(n => blob(n, 10, 2 * HOUR)).concat(blob(7, 10, 1000), blob(8, 10, HOUR / 2))
    const refs: ReferencedBlobs = { live: new Set([d(4), d(5)]), active: new Set([d(5)]), kept: new Set([d(3)]) }
    const plan = planCollection(blobs, new Set([d(2)]), refs, policy, NOW)
    // 1 and 6: unreferenced and old. 2 pinned, 3 kept, 4 live, 5 active, 7 fresh, 8 inside the window.
    expect(removed(plan).sort()).toEqual([d(1), d(6)])
    expect(plan.remove.every(r => r.reason === 'unreferenced')).toBe(true)
    expect(plan).toMatchObject({ bytesBefore: 80, bytesAfter: 60, overCap: false })
  })

  test('keepUnreferencedMs 0 never removes a blob for being unreferenced', () => {
    expect(removed(planCollection([blob(1, 10, 100 * HOUR)], new Set(), none, { ...policy, keepUnreferencedMs: 0 }, NOW))).toEqual([])
  })

  test('over the cap: the oldest unprotected go first, until the store fits', () => {
    // 6 blobs of 300 bytes (1800 > 1000); 1 is the oldest but pinned, 2 the next but active.
    const blobs = [blob(3, 300, 5 * HOUR), blob(1, 300, 9 * HOUR), blob(5, 300, 3 * HOUR), blob(2, 300, 8 * HOUR), blob(4, 300, 4 * HOUR), blob(6, 300, 2 * HOUR)]
    const refs: ReferencedBlobs = { live: new Set(blobs.map(b => b.digest)), active: new Set([d(2)]), kept: new Set() }
    const plan = planCollection(blobs, new Set([d(1)]), refs, policy, NOW)
    expect(removed(plan)).toEqual([d(3), d(4), d(5)])
    expect(plan.remove.every(r => r.reason === 'over-cap')).toBe(true)
    expect(plan).toMatchObject({ bytesAfter: 900, overCap: false })
  })

  test('when only protected blobs are left the plan says the store stays over its cap', () => {
    const blobs = [blob(1, 600, 9 * HOUR), blob(2, 600, 8 * HOUR), blob(3, 600, 10)]
    const plan = planCollection(blobs, new Set([d(1)]), { ...none, kept: new Set([d(2)]) }, policy, NOW)
    expect(removed(plan)).toEqual([])
    expect(plan.overCap).toBe(true)
  })
})

describe('blob GC over a real store, pins in LevelDB and references from a real ledger', () => {
  const dbs: Array<ClassicLevel<string, string>> = []
  afterEach(async () => {
    await closeAllLedgers()
    await Promise.all(dbs.splice(0).map(async db => db.close()))
  })
  afterAll(removeTempDirs)

  async function setUp (init: { maxBytes: number, keepUnreferencedMs: number }) {
    const dataDir = await tempDir()
    const store = await BlobStore.open({ dataDir })
    const db = new ClassicLevel<string, string>(join(dataDir, 'pins'), { valueEncoding: 'utf8' })
    dbs.push(db)
    const pins = await BlobPins.open(db)
    const { ledger, peerId } = await openLedger()
    const collector = new BlobCollector({ store, pins, references: ledgerBlobReferences(ledger), logger: silentLogger() }, { ...init, freshMs: 0 })
    /** Puts `size` random bytes, stored `ageMs` ago. */
    const put = async (size: number, ageMs: number): Promise<string> => {
      const { digest } = await store.put(randomBytes(size))
      const at = new Date(Date.now() - ageMs)
      await utimes(store.path(digest), at, at)
      return digest
    }
    return { dataDir, store, db, pins, ledger, peerId, collector, put }
  }

  test('pinned blobs survive; unpinned unreferenced ones go; referenced ones (open task, finished task, build result) stay', async () => {
    const { store, pins, ledger, peerId, collector, put } = await setUp({ maxBytes: 1 << 30, keepUnreferencedMs: HOUR })
    const [pinned, loose, forOpenTask, forFinishedTask, buildFile] = await Promise.all([1, 2, 3, 4, 5].map(async () => put(100, 2 * HOUR)))
    await pins.pin(pinned)
    await ledger.append('submitted', 'task-open-0001', { kind: 'exec', priority: 0, spec: { inputs: { data: { digest: forOpenTask, size: 100 } } } })
    await ledger.append('submitted', 'task-done-0001', { kind: 'noop', priority: 0, spec: {} })
    await ledger.append('awarded', 'task-done-0001', { attempt: 1, node: peerId, leaseMs: 1000, epoch: 1 })
    await ledger.append('finished', 'task-done-0001', { attempt: 1, outcome: 'succeeded', resultDigest: forFinishedTask })
    await ledger.append('submitted', 'task-build-0001', { kind: 'build', priority: 0, spec: {} })
    await ledger.append('awarded', 'task-build-0001', { attempt: 1, node: peerId, leaseMs: 1000, epoch: 1 })
    await ledger.append('finished', 'task-build-0001', { attempt: 1, outcome: 'succeeded', result: { files: { 'main.py': { digest: buildFile, size: 100 } } } })
    await ledger.whenIndexed()

    const plan = await collector.collect()
    expect(plan.remove.map(r => r.digest)).toEqual([loose])
    expect(await store.has(loose)).toBe(false)
    for (const kept of [pinned, forOpenTask, forFinishedTask, buildFile]) expect(await store.has(kept)).toBe(true)
    expect(collector.stats).toMatchObject({ runs: 1, removed: 1, storedBlobs: 4, storedBytes: 400 })

    // Unpinned, the same blob goes at the next collection.
    await pins.unpin(pinned)
    await collector.collect()
    expect(await store.has(pinned)).toBe(false)
  })

  test('the size cap evicts the oldest unpinned blobs first, never a pinned one or one an open task references', async () => {
    const { store, pins, ledger, collector, put } = await setUp({ maxBytes: 1000, keepUnreferencedMs: 0 })
    // Oldest first: a pinned one, one an open task needs, then four plain ones (6 x 300 = 1800 bytes).
    const oldestPinned = await put(300, 10 * HOUR)
    const oldestInUse = await put(300, 9 * HOUR)
    const plain = await Promise.all([8, 7, 6, 5].map(async h => put(300, h * HOUR)))
    await pins.pin(oldestPinned)
    await ledger.append('submitted', 'task-open-0002', { kind: 'exec', priority: 0, spec: { input: oldestInUse } })
    await ledger.whenIndexed()

    const plan = await collector.collect()
    expect(plan.remove.map(r => r.digest)).toEqual(plain.slice(0, 3))
    expect(plan.overCap).toBe(false)
    for (const digest of plain.slice(0, 3)) expect(await store.has(digest)).toBe(false)
    for (const digest of [oldestPinned, oldestInUse, plain[3]]) expect(await store.has(digest)).toBe(true)
  })

  test('a put that takes the store over its cap triggers a collection by itself', async () => {
    const { store, collector, put } = await setUp({ maxBytes: 1000, keepUnreferencedMs: 0 })
    const old = await put(600, 5 * HOUR)
    store.onStored = size => { collector.noteStored(size) }
    collector.start()
    await waitFor(() => collector.stats.runs >= 1)
    await put(600, 0)
    await waitFor(async () => !await store.has(old))
    await collector.stop()
  })

  test('pins are durable: a reopened database still has them', async () => {
    const { dataDir, db, pins } = await setUp({ maxBytes: 1000, keepUnreferencedMs: 0 })
    const digest = sha256Hex(Buffer.from('keep me'))
    await pins.pin(digest)
    await db.close()
    const again = new ClassicLevel<string, string>(join(dataDir, 'pins'), { valueEncoding: 'utf8' })
    dbs.splice(dbs.indexOf(db), 1, again)
    expect((await BlobPins.open(again)).has(digest)).toBe(true)
    await expect(pins.pin('NOT-A-DIGEST')).rejects.toMatchObject({ name: 'InvalidDigestError' })
  })
})

describe('blob pins and GC through a node\'s HTTP API', () => {
  const nodes = nodeTracker()
  afterAll(async () => { await nodes.stopAll(); await removeTempDirs() })

  test('POST pins (404 for a blob nobody has), GC keeps the pinned blob and removes the other, the pin survives a restart', async () => {
    const swarmKey = newSwarmKeyHex()
    const dataDir = await tempDir()
    const blobs = { keepUnreferencedMs: 1000, gcIntervalMs: 3_600_000 }
    let node = await nodes.start({ swarmKey, dataDir, blobs })
    const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
    const call = async (method: string, path: string): Promise<{ status: number, body: any }> => {
      const res = await fetch(`${node.apiUrl}${path}`, { method, headers: { authorization: `Bearer ${token}` } })
      return { status: res.status, body: res.headers.get('content-type')?.includes('json') === true ? await res.json() : await res.text() }
    }
    // Two blobs written into the node's store (its on-disk layout); made old only once the
    // pinned one is pinned, so a collection that runs meanwhile cannot take them early.
    const path = (digest: string): string => join(dataDir, 'blobs', digest.slice(0, 2), digest)
    const makeOld = async (digest: string): Promise<void> => { await utimes(path(digest), new Date(Date.now() - HOUR), new Date(Date.now() - HOUR)) }
    const [pinned, loose] = ['pinned blob', 'loose blob'].map(text => sha256Hex(Buffer.from(text)))
    for (const [digest, text] of [[pinned, 'pinned blob'], [loose, 'loose blob']]) {
      await mkdir(join(dataDir, 'blobs', digest.slice(0, 2)), { recursive: true })
      await writeFile(path(digest), text)
    }
    const pin = await call('POST', `/v1/blobs/${pinned}/pin`)
    expect(pin.status).toBe(200)
    expect(pin.body).toMatchObject({ digest: pinned, pinned: true, size: 11 })
    expect((await call('POST', `/v1/blobs/${sha256Hex(Buffer.from('nobody has this'))}/pin`)).body.error.name).toBe('BlobNotFoundError')

    await node.stop()
    node = await nodes.start({ swarmKey, dataDir, blobs })
    expect((await call('GET', '/v1/blobs')).body.pinned).toBe(1)
    await makeOld(pinned)
    await makeOld(loose)
    expect((await call('POST', '/v1/blobs/gc')).status).toBe(200)
    expect((await call('GET', '/v1/blobs')).body.gc.removed).toBe(1)
    expect((await call('GET', `/v1/blobs/${pinned}`)).status).toBe(200)
    expect((await call('GET', `/v1/blobs/${loose}`)).status).toBe(404)

    expect((await call('DELETE', `/v1/blobs/${pinned}/pin`)).body).toEqual({ digest: pinned, pinned: false })
    expect((await call('GET', '/v1/blobs')).body.pinned).toBe(0)
  })
})
