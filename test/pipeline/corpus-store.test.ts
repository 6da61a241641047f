/**
 * CorpusStore on real LevelDB in temp dirs, over the fixture corpus in test/fixtures/corpus:
 * the relevant chunk ranks first, re-adding replaces, durability across reopen, export and
 * import, hybrid ranking with a deterministic fake embedding, typed errors.
 */
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest'
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ClassicLevel } from 'classic-level'
import { CorpusStore, EMBED_BATCH, type EmbedFunction } from '../../pipeline/corpus/index.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/corpus', import.meta.url))
const dirs: string[] = []
const tempDir = async (): Promise<string> => { const dir = await mkdtemp(join(tmpdir(), 'gryphgen-corpus-')); dirs.push(dir); return dir }
afterAll(async () => { await Promise.all(dirs.map(async d => rm(d, { recursive: true, force: true }))) })

let path: string
let db: ClassicLevel<string, string>
let store: CorpusStore

beforeEach(async () => {
  path = join(await tempDir(), 'db')
  db = new ClassicLevel<string, string>(path, { valueEncoding: 'utf8' })
  await db.open()
  store = await CorpusStore.open(db)
})
afterEach(async () => { await db.close() })

const top = async (query: string, name = 'fixture', embed?: EmbedFunction): Promise<string | undefined> => (await store.query(name, query, { k: 5, embed }))[0]?.chunk.id

/**
 * A deterministic "semantic" embedding: one dimension per topic, counting a topic's words,
 * synonyms BM25 cannot know included ("vacation" is a calendar word), plus a small constant.
 */
const TOPICS = [
  ['date', 'calendar', 'holiday', 'weekend', 'day', 'vacation', 'closed'],
  ['inventory', 'stock', 'sku', 'warehouse', 'shop'],
  ['polygon', 'area', 'box', 'point', 'geometry', 'shape'],
  ['retry', 'backoff', 'fetch', 'http', 'rate', 'token'],
  ['slug', 'string', 'levenshtein', 'distance', 'text'],
]
const fakeEmbed: EmbedFunction = async texts => texts.map(text => {
  const words = text.toLowerCase().match(/[a-z]+/g) ?? []
  return [...TOPICS.map(topic => words.filter(w => topic.some(t => w.startsWith(t))).length), 0.1]
})

describe('on the fixture corpus', () => {
  beforeEach(async () => {
    const added = await store.addDir('fixture', FIXTURE)
    expect(added.sources).toBe(7)
    expect(added.chunks).toBeGreaterThanOrEqual(15)
    expect(added.chunks).toBeLessThanOrEqual(30)
  })

  test.each([
    ['parse a date string', 'src/dates.py#L7-19'],
    ['parseDate', 'src/dates.py#L7-19'],
    ['retry failed requests with exponential backoff', 'src/lib/http.ts#L7-21'],
    ['area of a polygon', 'src/lib/geometry.js#L7-16'],
    ['edit distance between two strings', 'src/lib/strings.js#L9-24'],
    ['token bucket rate limit', 'src/lib/http.ts#L23-26'],
    ['remove an item from stock', 'src/inventory.py#L15-20'],
    ['next business day after holidays', 'src/dates.py#L46-51'],
    ['load inventory from a CSV file', 'src/inventory.py#L27-33'],
    ['how do I install it with pip', 'README.md#L6-15'],
    ['publish a release tag', 'notes.txt#L1-9'],
  ])('%s -> %s', async (query, id) => {
    expect(await top(query)).toBe(id)
  })

  test('results carry the chunk, its BM25 rank and a descending score; k bounds them', async () => {
    const results = await store.query('fixture', 'date day holiday', { k: 3 })
    expect(results).toHaveLength(3)
    expect(results.map(r => r.bm25Rank)).toEqual([1, 2, 3])
    expect(results.every((r, i) => i === 0 || r.score <= results[i - 1].score)).toBe(true)
    expect(results[0].chunk).toEqual(expect.objectContaining({ source: 'src/dates.py', startLine: expect.any(Number), endLine: expect.any(Number), text: expect.any(String) }))
    expect(results[0].vectorRank).toBeUndefined()
  })

  test('a query no chunk matches gives no results', async () => {
    expect(await store.query('fixture', 'quaternion spinor')).toEqual([])
  })

  test('list shows the corpus with its counts', async () => {
    expect(store.list()).toEqual([{ name: 'fixture', chunks: expect.any(Number), sources: 7, dims: null, embedModel: null, updatedAt: expect.any(String) }])
  })

  test('re-adding a source replaces its chunks', async () => {
    const before = store.list()[0].chunks
    const dates = await readFile(join(FIXTURE, 'src/dates.py'), 'utf8')
    const changed = dates.replace(/def parse_date[\s\S]*?raise ValueError[^\n]*\n/, 'def read_moon_phase(night):\n    """Phase of the moon on a night."""\n    return night.toordinal() % 29\n')
    const added = await store.add('fixture', [{ path: 'src/dates.py', text: changed }])
    expect(added.sources).toBe(1)
    expect(store.list()[0]).toEqual(expect.objectContaining({ chunks: before, sources: 7 }))
    const ids = (await store.query('fixture', 'parse a date string', { k: 100 })).map(r => r.chunk.id)
    expect(ids.filter(id => id.startsWith('src/dates.py'))).not.toContain('src/dates.py#L7-19')
    expect((await store.query('fixture', 'moon phase'))[0].chunk.text).toContain('read_moon_phase')
    // Emptied: its chunks go, and the source with them.
    await store.add('fixture', [{ path: 'src/dates.py', text: '' }])
    expect(store.list()[0].sources).toBe(6)
    expect((await store.query('fixture', 'business day holiday calendar', { k: 100 })).some(r => r.chunk.source === 'src/dates.py')).toBe(false)
  })

  test('durable: close and reopen the database, the same results', async () => {
    const queries = ['parse a date string', 'polygon area', 'install']
    const before = await Promise.all(queries.map(async q => store.query('fixture', q)))
    await db.close()
    db = new ClassicLevel<string, string>(path, { valueEncoding: 'utf8' })
    await db.open()
    store = await CorpusStore.open(db)
    expect(store.list().map(c => c.name)).toEqual(['fixture'])
    expect(await Promise.all(queries.map(async q => store.query('fixture', q)))).toEqual(before)
  })

  test('export then import under another name ranks the same', async () => {
    const blob = await store.export('fixture')
    await store.import('copy', blob)
    expect(store.list().map(({ name, chunks, sources }) => ({ name, chunks, sources }))).toEqual([
      { name: 'copy', chunks: store.list()[1].chunks, sources: 7 }, { name: 'fixture', chunks: store.list()[1].chunks, sources: 7 },
    ])
    for (const q of ['parse a date string', 'token bucket', 'area of a polygon', 'release checklist', 'stock']) {
      expect(await store.query('copy', q, { k: 10 })).toEqual(await store.query('fixture', q, { k: 10 }))
    }
    // Import replaces what the corpus had.
    await store.add('copy', [{ path: 'extra.txt', text: 'zebra crossing' }])
    await store.import('copy', blob)
    expect(await store.query('copy', 'zebra')).toEqual([])
  })

  test('remove deletes the corpus and every key of it; other corpora stay', async () => {
    await store.add('other', [{ path: 'o.txt', text: 'another corpus entirely' }])
    await store.remove('fixture')
    expect(store.list().map(c => c.name)).toEqual(['other'])
    expect(await db.keys({ gte: 'corpus:fixture:', lt: 'corpus:fixture;' }).all()).toEqual([])
    await expect(store.query('fixture', 'date')).rejects.toMatchObject({ name: 'CorpusNotFoundError' })
    expect((await store.query('other', 'corpus'))[0].chunk.source).toBe('o.txt')
  })
})

describe('adding', () => {
  test('a JavaScript parseDate answers "parse date"', async () => {
    await store.add('js', [
      { path: 'time.js', text: 'export function parseDate (text) {\n  return new Date(Date.parse(text))\n}\n' },
      { path: 'other.js', text: 'export function renderDate (date) {\n  return date.toISOString()\n}\n\nexport function parseNumber (text) {\n  return Number(text)\n}\n' },
    ])
    expect((await store.query('js', 'parse date'))[0].chunk.source).toBe('time.js')
  })

  test('concurrent adds to one corpus all land', async () => {
    await Promise.all(Array.from({ length: 12 }, async (_, i) => store.add('c', [{ path: `f${i}.txt`, text: `shared word and unique${i}` }])))
    expect(store.list()[0]).toEqual(expect.objectContaining({ chunks: 12, sources: 12 }))
    expect(await store.query('c', 'shared', { k: 100 })).toHaveLength(12)
    for (const i of [0, 5, 11]) expect((await store.query('c', `unique${i}`))[0].chunk.source).toBe(`f${i}.txt`)
  })
})

describe('hybrid ranking', () => {
  test('with an embedding function, vectors are stored in batches and fused with BM25', async () => {
    const batches: number[] = []
    const counting: EmbedFunction = async (texts, signal) => { batches.push(texts.length); return fakeEmbed(texts, signal) }
    const added = await store.addDir('fixture', FIXTURE, { embed: counting })
    expect(batches.every(n => n <= EMBED_BATCH)).toBe(true)
    expect(batches.reduce((a, b) => a + b, 0)).toBe(added.chunks)
    expect(store.list()[0].dims).toBe(TOPICS.length + 1)

    // BM25 knows no "vacation"; the embedding maps it to the calendar.
    expect(await store.query('fixture', 'vacation')).toEqual([])
    const hybrid = await store.query('fixture', 'vacation', { k: 3, embed: fakeEmbed })
    expect(hybrid[0].chunk.source).toBe('src/dates.py')
    expect(hybrid[0].bm25Rank).toBeUndefined()
    expect(hybrid[0].vectorRank).toBe(1)
    expect(hybrid[0].score).toBeCloseTo(1 / 61, 12)

    // Where both agree, the chunk ranks first with both ranks.
    const both = await store.query('fixture', 'parse a date string', { embed: fakeEmbed })
    expect(both[0].chunk.id).toBe('src/dates.py#L7-19')
    expect(both[0].bm25Rank).toBe(1)
    expect(both[0].vectorRank).toBeGreaterThanOrEqual(1)
    expect(both[0].score).toBeCloseTo(1 / 61 + 1 / (60 + (both[0].vectorRank ?? 0)), 12)

    // Vectors survive export and import.
    await store.import('copy', await store.export('fixture'))
    expect(await store.query('copy', 'vacation', { k: 3, embed: fakeEmbed })).toEqual(hybrid)
  })

  test('a corpus without vectors ranks by BM25 even when given an embedding function', async () => {
    await store.addDir('fixture', FIXTURE)
    const results = await store.query('fixture', 'parse a date string', { embed: fakeEmbed })
    expect(results[0]).toEqual(expect.objectContaining({ bm25Rank: 1 }))
    expect(results[0].vectorRank).toBeUndefined()
  })

  test('bad embeddings are InvalidEmbeddingError, and nothing is written', async () => {
    const wrongCount: EmbedFunction = async texts => texts.slice(1).map(() => [1, 0])
    const notNumbers: EmbedFunction = async texts => texts.map(() => [Number.NaN])
    await expect(store.add('c', [{ path: 'a.txt', text: 'alpha' }], { embed: wrongCount })).rejects.toMatchObject({ name: 'InvalidEmbeddingError' })
    await expect(store.add('c', [{ path: 'a.txt', text: 'alpha' }], { embed: notNumbers })).rejects.toMatchObject({ name: 'InvalidEmbeddingError' })
    expect(store.list()).toEqual([])
    await store.add('c', [{ path: 'a.txt', text: 'alpha' }], { embed: async texts => texts.map(() => [1, 0]) })
    await expect(store.add('c', [{ path: 'b.txt', text: 'beta' }], { embed: async texts => texts.map(() => [1, 0, 0]) })).rejects.toMatchObject({ name: 'InvalidEmbeddingError' })
    await expect(store.query('c', 'alpha', { embed: async () => [[1, 0, 0]] })).rejects.toMatchObject({ name: 'InvalidEmbeddingError' })
  })

  test('the embedding model is recorded, kept through export and import, and another model is refused', async () => {
    await store.add('m', [{ path: 'a.txt', text: 'alpha' }], { embed: fakeEmbed, embedModel: 'embedder-1' })
    expect(store.get('m')).toMatchObject({ name: 'm', dims: 6, embedModel: 'embedder-1' })
    await store.add('m', [{ path: 'b.txt', text: 'beta' }], { embed: fakeEmbed, embedModel: 'embedder-1' })
    await expect(store.add('m', [{ path: 'c.txt', text: 'gamma' }], { embed: fakeEmbed, embedModel: 'embedder-2' })).rejects.toMatchObject({ name: 'CorpusOptionsError', message: expect.stringMatching(/embedder-1/) })
    expect(store.get('m').chunks).toBe(2) // nothing written
    await store.import('m-copy', await store.export('m'))
    expect(store.get('m-copy')).toMatchObject({ dims: 6, embedModel: 'embedder-1' })
    await store.add('plain', [{ path: 'a.txt', text: 'alpha' }])
    expect(store.get('plain')).toMatchObject({ dims: null, embedModel: null })
    expect(() => store.get('nothing')).toThrow(expect.objectContaining({ name: 'CorpusNotFoundError' }))
  })
})

describe('typed errors', () => {
  test.each(['', 'has space', 'a:b', '-lead', 'x'.repeat(129), 'slash/name'])('corpus name %j is InvalidCorpusNameError', async name => {
    await expect(store.add(name, [{ path: 'a.txt', text: 'x' }])).rejects.toMatchObject({ name: 'InvalidCorpusNameError' })
    await expect(store.query(name, 'x')).rejects.toMatchObject({ name: 'InvalidCorpusNameError' })
  })

  test('unknown corpora are CorpusNotFoundError', async () => {
    await expect(store.query('nope', 'x')).rejects.toMatchObject({ name: 'CorpusNotFoundError' })
    await expect(store.remove('nope')).rejects.toMatchObject({ name: 'CorpusNotFoundError' })
    await expect(store.export('nope')).rejects.toMatchObject({ name: 'CorpusNotFoundError' })
  })

  test('empty queries are EmptyQueryError; a bad k is CorpusOptionsError', async () => {
    await store.add('c', [{ path: 'a.txt', text: 'alpha beta' }])
    for (const q of ['', '   ', 'the of a', '!!! ?']) await expect(store.query('c', q)).rejects.toMatchObject({ name: 'EmptyQueryError' })
    for (const k of [0, 101, 1.5]) await expect(store.query('c', 'alpha', { k })).rejects.toMatchObject({ name: 'CorpusOptionsError' })
  })

  test('a damaged blob is InvalidCorpusError and leaves the corpus as it was', async () => {
    await store.add('c', [{ path: 'a.txt', text: 'alpha beta' }])
    await expect(store.import('c', new TextEncoder().encode('{"format":"nope"}'))).rejects.toMatchObject({ name: 'InvalidCorpusError' })
    expect((await store.query('c', 'alpha'))[0].chunk.source).toBe('a.txt')
  })

  test('an aborted add is AbortedError and writes nothing', async () => {
    await expect(store.add('c', [{ path: 'a.txt', text: 'alpha' }], { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortedError' })
    expect(store.list()).toEqual([])
  })
})

describe('addDir', () => {
  test('skips dependency and VCS folders, binaries, files over the limit and files not included', async () => {
    const dir = await tempDir()
    await mkdir(join(dir, 'node_modules/pkg'), { recursive: true })
    await mkdir(join(dir, '.git'), { recursive: true })
    await mkdir(join(dir, 'src'), { recursive: true })
    await writeFile(join(dir, 'node_modules/pkg/index.js'), 'export const vendored = 1\n')
    await writeFile(join(dir, '.git/config'), '[core]\n')
    await writeFile(join(dir, 'src/app.py'), 'def main():\n    print("hello walrus")\n')
    await writeFile(join(dir, 'src/app.js'), 'export function main () { return "walrus" }\n')
    await writeFile(join(dir, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02]))
    await writeFile(join(dir, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x77, 0x61, 0x6c]))
    await writeFile(join(dir, 'big.txt'), 'walrus '.repeat(2000))
    const all = await store.addDir('d', dir, { maxFileBytes: 4096 })
    expect(all).toEqual({ chunks: 2, sources: 2, skipped: { binary: 2, 'too-large': 1, 'not-included': 0, unreadable: 0, limit: 0 } })
    expect((await store.query('d', 'walrus', { k: 10 })).map(r => r.chunk.source).sort()).toEqual(['src/app.js', 'src/app.py'])
    const python = await store.addDir('py', dir, { include: ['.py'] })
    expect(python).toEqual(expect.objectContaining({ sources: 1, skipped: expect.objectContaining({ 'not-included': 4 }) }))
  })

  test('a missing directory is CorpusOptionsError', async () => {
    await expect(store.addDir('d', join(FIXTURE, 'no-such-dir'))).rejects.toMatchObject({ name: 'CorpusOptionsError' })
  })
})
