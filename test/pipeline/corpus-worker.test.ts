/**
 * Uploads indexed on the worker thread (issue 15 item 4): `addBody` (raw JSON bytes, parsed and
 * prepared on the indexing worker thread, postings merged there too) writes exactly what `add`
 * on the main thread writes, concurrent uploads to one corpus included,
 * so the same documents give the same retrieval answers; a malformed body is an
 * InvalidDocumentsError, an oversized one a 413, a worker thread that ends mid-request an
 * IndexerFailedError, and the store (and the API) go on working after each. Real LevelDB, real
 * worker threads, the real HTTP API.
 */
import { afterAll, describe, expect, test } from 'vitest'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ClassicLevel } from 'classic-level'
import { buildApp, type ApiNode } from '../../node/api/index.js'
import { silentLogger } from '../../base/index.js'
import { CorpusStore, DEFAULT_CHUNK_LIMITS, DocumentIndexer, type EmbedFunction } from '../../pipeline/corpus/index.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/corpus', import.meta.url))
const TOKEN = 't'.repeat(43)
const dirs: string[] = []
const stores: Array<{ store: CorpusStore, db: ClassicLevel<string, string> }> = []
afterAll(async () => {
  for (const { store, db } of stores) { await store.close(); await db.close() }
  await Promise.all(dirs.map(async d => rm(d, { recursive: true, force: true })))
})

async function openStore (): Promise<{ store: CorpusStore, db: ClassicLevel<string, string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'gryphgen-corpus-worker-'))
  dirs.push(dir)
  const db = new ClassicLevel<string, string>(join(dir, 'db'), { valueEncoding: 'utf8' })
  await db.open()
  const opened = { store: await CorpusStore.open(db), db }
  stores.push(opened)
  return opened
}

const encode = (documents: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify({ documents }))

async function fixtureDocuments (): Promise<Array<{ path: string, text: string }>> {
  const files = (await readdir(FIXTURE, { recursive: true, withFileTypes: true })).filter(f => f.isFile()).map(f => join(f.parentPath, f.name)).sort()
  return Promise.all(files.map(async file => ({ path: relative(FIXTURE, file), text: await readFile(file, 'utf8') })))
}

/** Code with many functions (several chunks a file), a path given twice (the last text counts), a file without text, non-ASCII text. */
function moreDocuments (round: number): Array<{ path: string, text: string }> {
  const code = (n: number): string => Array.from({ length: 120 }, (_, i) => `def handle_${(i * 7 + n) % 50}_request(session, token):\n    return cache.lookup("${round}-${i}", session)\n`).join('\n')
  return [
    { path: 'gen/handlers.py', text: code(round) },
    { path: 'gen/twice.md', text: '# first text\n\nnever indexed' },
    { path: 'gen/twice.md', text: `# Zürich straße ${round}\n\nNaïve café déjà vu — ünïcödé walrus` },
    { path: 'gen/empty.txt', text: '' },
  ]
}

/** Every key and value of the database, the meta records' time stamps left out. */
async function dump (db: ClassicLevel<string, string>): Promise<Array<[string, string]>> {
  return (await db.iterator().all()).map(([key, value]) => [key, key.endsWith(':meta') ? value.replace(/"updatedAt":"[^"]*"/, '') : value])
}

const QUERIES = ['parse a date string', 'area of a polygon', 'inventory stock', 'handle request session token', 'walrus café', 'straße']

/** A deterministic embedding: three dimensions from letter counts. */
const embed: EmbedFunction = async texts => texts.map(t => [1 + (t.match(/a/g)?.length ?? 0), 1 + (t.match(/e/g)?.length ?? 0), t.length % 13 + 1])

let shared: { store: CorpusStore } | undefined

describe('indexing on the worker thread', () => {
  test('addBody writes what add writes: the same keys and values, the same answers to queries (BM25 and hybrid)', async () => {
    const main = await openStore()
    const worker = await openStore()
    const first = [...await fixtureDocuments(), ...moreDocuments(1)]
    const second = [...moreDocuments(2), { path: 'src/dates.py', text: 'def weekday(date):\n    return date.weekday()\n' }] // replaces chunks
    for (const documents of [first, second]) {
      const viaMain = await main.store.add('c', documents)
      const viaWorker = await worker.store.addBody('c', encode(documents))
      expect(viaWorker).toEqual(viaMain)
      await main.store.add('h', documents, { embed, embedModel: 'm' })
      await worker.store.addBody('h', encode(documents), { embed, embedModel: 'm' })
    }
    expect(await dump(worker.db)).toEqual(await dump(main.db))
    for (const query of QUERIES) {
      expect(await worker.store.query('c', query, { k: 5 })).toEqual(await main.store.query('c', query, { k: 5 }))
      expect(await worker.store.query('h', query, { k: 5, embed })).toEqual(await main.store.query('h', query, { k: 5, embed }))
    }
    expect((await worker.store.query('c', 'walrus café', { k: 1 }))[0].chunk.source).toBe('gen/twice.md')
  }, 120_000)

  test('concurrent uploads to one corpus, replacing each other\'s sources, merge their postings in turn: the same bytes as adding them one by one', async () => {
    const main = await openStore()
    const worker = await openStore()
    const rounds = [1, 2, 3, 4].map(round => [...moreDocuments(round), { path: `only/${round}.md`, text: `round ${round} walrus ${'tusk '.repeat(round)}` }])
    const one = []
    for (const documents of rounds) one.push(await main.store.add('c', documents))
    expect(await Promise.all(rounds.map(async documents => worker.store.addBody('c', encode(documents))))).toEqual(one)
    expect(await dump(worker.db)).toEqual(await dump(main.db))
    for (const query of QUERIES) expect(await worker.store.query('c', query, { k: 5 })).toEqual(await main.store.query('c', query, { k: 5 }))
  }, 120_000)

  test.each([
    ['not JSON', new TextEncoder().encode('{"documents": [')],
    ['not UTF-8', Uint8Array.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
    ['no documents', encode([])],
    ['a document without a path', encode([{ text: 'x' }])],
    ['an unknown field', encode([{ path: 'a', text: 'x', extra: 1 }])],
    ['not an object', new TextEncoder().encode('[1, 2]')],
  ])('a body that is %s is an InvalidDocumentsError naming the problem; the next upload is indexed', async (_, body) => {
    const { store } = shared ??= await openStore()
    const failed = await store.addBody('c', body).catch((err: unknown) => err as Error & { details?: unknown })
    expect(failed).toMatchObject({ name: 'InvalidDocumentsError', details: expect.arrayContaining([expect.any(String)]) })
    expect(await store.addBody('c', encode([{ path: 'a.md', text: 'walrus tusks' }]))).toEqual({ chunks: 1, sources: 1 })
  }, 60_000)

  test('a worker thread that ends mid-request fails it with IndexerFailedError; a fresh thread takes the next one', async () => {
    const indexer = new DocumentIndexer()
    try {
      const big = encode(Array.from({ length: 200 }, (_, i) => ({ path: `f${i}.txt`, text: `word${i} `.repeat(5_000) })))
      const pending = indexer.prepare(big, { limits: DEFAULT_CHUNK_LIMITS }).catch((err: unknown) => err)
      await indexer.stop()
      expect(await pending).toMatchObject({ name: 'IndexerFailedError' })
      const prepared = await indexer.prepare(encode([{ path: 'a.md', text: 'walrus tusks' }]), { limits: DEFAULT_CHUNK_LIMITS })
      expect(prepared.paths).toEqual(['a.md'])
    } finally {
      await indexer.stop()
    }
  }, 60_000)

  test('through the API: 400 InvalidDocumentsError, 413 BodyTooLargeError, then an upload is indexed and retrieved', async () => {
    const { store } = await openStore()
    const app = buildApp({ node: { corpora: store } as unknown as ApiNode, token: TOKEN, logger: silentLogger(), limits: { documentsBodyMb: 1 } })
    try {
      const post = async (payload: string | Buffer): Promise<{ statusCode: number, json: () => { error?: { name: string }, chunks?: number } }> =>
        app.inject({ method: 'POST', url: '/v1/corpora/c/documents', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, payload })
      const malformed = await post('{"documents": [{"path": "a.md"}]}')
      expect(malformed.statusCode).toBe(400)
      expect(malformed.json().error?.name).toBe('InvalidDocumentsError')
      const oversized = await post(JSON.stringify({ documents: [{ path: 'big.txt', text: 'x'.repeat(1024 * 1024 + 1) }] }))
      expect(oversized.statusCode).toBe(413)
      expect(oversized.json().error?.name).toBe('BodyTooLargeError')
      const ok = await post(JSON.stringify({ documents: [{ path: 'a.md', text: 'walrus tusks' }] }))
      expect(ok.statusCode).toBe(200)
      expect(ok.json()).toEqual({ chunks: 1, sources: 1 })
      const found = await app.inject({ method: 'POST', url: '/v1/retrieve', headers: { authorization: `Bearer ${TOKEN}` }, payload: { corpus: 'c', query: 'walrus' } })
      expect(found.json().results[0].source).toBe('a.md')
    } finally {
      await app.close()
    }
  }, 60_000)
})
