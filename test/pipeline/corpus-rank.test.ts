/** Ranking logic (pure): BM25, the top of a ranking, reciprocal rank fusion, blobs and include patterns. */
import { describe, expect, test } from 'vitest'
import { fuse, idf, includeMatcher, scoreBm25, topK, decodeCorpusBlob, CORPUS_BLOB_FORMAT } from '../../pipeline/corpus/index.js'

describe('BM25', () => {
  const stats = { chunks: 4, totalLength: 40 } // average length 10
  const postings = (...triples: number[][]): Uint32Array => Uint32Array.from(triples.flat())

  test('a rarer term weighs more; more occurrences score higher; longer chunks lower', () => {
    expect(idf(100, 1)).toBeGreaterThan(idf(100, 50))
    expect(idf(100, 100)).toBeGreaterThan(0)
    const scores = scoreBm25([postings([0, 1, 10], [1, 3, 10], [2, 1, 40])], stats)
    expect(scores.get(1)).toBeGreaterThan(scores.get(0) ?? 0)
    expect(scores.get(0)).toBeGreaterThan(scores.get(2) ?? 0)
    expect(scores.has(3)).toBe(false)
  })

  test('the known value for one term (k1 1.2, b 0.75)', () => {
    const scores = scoreBm25([postings([7, 2, 10])], { chunks: 10, totalLength: 100 })
    const expected = Math.log(1 + (10 - 1 + 0.5) / 1.5) * 2 * 2.2 / (2 + 1.2)
    expect(scores.get(7)).toBeCloseTo(expected, 10)
  })

  test('scores of several terms add up', () => {
    const a = postings([0, 1, 10], [1, 1, 10])
    const b = postings([1, 1, 10])
    const both = scoreBm25([a, b], stats)
    expect(both.get(1)).toBeCloseTo((scoreBm25([a], stats).get(1) ?? 0) + (scoreBm25([b], stats).get(1) ?? 0), 12)
  })

  test('topK equals a full sort, ties to the lower chunk number', () => {
    let seed = 7
    const random = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31 }
    for (const k of [1, 3, 10, 200]) {
      const entries: Array<[number, number]> = Array.from({ length: 100 }, (_, n) => [n, Math.floor(random() * 20)])
      const sorted = [...entries].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, k)
      expect(topK(entries, k)).toEqual(sorted)
    }
    expect(topK([[1, 1]], 0)).toEqual([])
  })
})

describe('fuse (reciprocal rank fusion)', () => {
  test.each([
    { name: 'ranked high in both wins', lists: [['a', 'b', 'c'], ['c', 'a', 'b']], order: ['a', 'c', 'b'] },
    { name: 'second in both beats first in one', lists: [['x', 'b'], ['y', 'b']], order: ['b', 'x', 'y'] },
    { name: 'one list alone keeps its order', lists: [['a', 'b', 'c'], []], order: ['a', 'b', 'c'] },
    { name: 'equal scores: the best single rank, then the earlier list', lists: [['a', 'b'], ['b', 'a']], order: ['a', 'b'] },
  ])('$name', ({ lists, order }) => {
    expect(fuse(lists).map(f => f.key)).toEqual(order)
  })

  test('scores and ranks, k = 60 by default', () => {
    const [top, second] = fuse([['a', 'b'], ['b']])
    expect(top).toEqual({ key: 'b', score: 1 / 62 + 1 / 61, ranks: [2, 1] })
    expect(second).toEqual({ key: 'a', score: 1 / 61, ranks: [1, undefined] })
    expect(fuse([['a']], { k: 0 })[0].score).toBe(1)
  })

  test('a key listed twice in one ranking counts once, at its best rank', () => {
    expect(fuse([['a', 'a', 'b']])).toEqual([{ key: 'a', score: 1 / 61, ranks: [1] }, { key: 'b', score: 1 / 63, ranks: [3] }])
  })
})

describe('corpus blobs', () => {
  const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))
  const chunk = { id: 'a.py#L1-2', source: 'a.py', startLine: 1, endLine: 2, text: 'def a():\n    pass' }

  test.each([
    ['not JSON', new TextEncoder().encode('{nope')],
    ['not UTF-8', Uint8Array.from([0xff, 0xfe, 0x00])],
    ['another format', encode({ format: 'x/1', dims: null, chunks: [] })],
    ['an unknown property', encode({ format: CORPUS_BLOB_FORMAT, dims: null, chunks: [{ ...chunk, extra: 1 }] })],
    ['lines backwards', encode({ format: CORPUS_BLOB_FORMAT, dims: null, chunks: [{ ...chunk, startLine: 3 }] })],
    ['an id twice', encode({ format: CORPUS_BLOB_FORMAT, dims: null, chunks: [chunk, chunk] })],
    ['blank text', encode({ format: CORPUS_BLOB_FORMAT, dims: null, chunks: [{ ...chunk, text: '  ' }] })],
    ['a vector of another dimension', encode({ format: CORPUS_BLOB_FORMAT, dims: 4, chunks: [{ ...chunk, vector: 'AAAAAA==' }] })],
    ['a vector without dims', encode({ format: CORPUS_BLOB_FORMAT, dims: null, chunks: [{ ...chunk, vector: 'AAAAAA==' }] })],
  ])('%s is an InvalidCorpusError', (_, bytes) => {
    expect(() => decodeCorpusBlob(bytes)).toThrow(expect.objectContaining({ name: 'InvalidCorpusError' }))
  })

  test('a good blob decodes', () => {
    expect(decodeCorpusBlob(encode({ format: CORPUS_BLOB_FORMAT, dims: 1, chunks: [{ ...chunk, vector: 'AACAPw==' }] })).chunks).toHaveLength(1)
  })
})

describe('include patterns', () => {
  test.each([
    [['.py'], 'src/a.py', true], [['.py'], 'src/a.pyc', false], [['.PY'], 'A.Py', true],
    [['*.ts'], 'deep/dir/x.ts', true], [['src/*.ts'], 'src/x.ts', true], [['src/*.ts'], 'src/sub/x.ts', false],
    [['src/**/*.ts'], 'src/sub/x.ts', true], [['src/**/*.ts'], 'src/x.ts', true], [['**/test_*.py'], 'a/b/test_x.py', true],
    [['*.{js,md}'], 'r/README.md', true], [['*.{js,md}'], 'r/x.ts', false], [['docs/?.md'], 'docs/a.md', true],
    [[], 'anything', true], [['a.b+c'], 'a.b+c', true], [['a.b+c'], 'aXbbc', false],
  ])('%j matches %s: %s', (include, path, expected) => {
    expect(includeMatcher(include)(path)).toBe(expected)
  })
})
