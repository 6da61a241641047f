/** Retrieval through the HTTP API and the CLI commands, on a real CorpusStore (LevelDB in a temp dir). */
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ClassicLevel } from 'classic-level'
import type { FastifyInstance } from 'fastify'
import { buildApp, type ApiNode } from '../../node/api/index.js'
import { silentLogger } from '../../base/index.js'
import { CorpusStore } from '../../pipeline/corpus/index.js'
import { corpusAddCommand, corpusListCommand, corpusQueryCommand, corpusRemoveCommand } from '../../node/cli/commands/corpus.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/corpus', import.meta.url))
const TOKEN = 't'.repeat(43)
const auth = { authorization: `Bearer ${TOKEN}` }
let dir: string
let db: ClassicLevel<string, string>
let app: FastifyInstance
let url: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gryphgen-corpus-api-'))
  db = new ClassicLevel<string, string>(join(dir, 'db'), { valueEncoding: 'utf8' })
  await db.open()
  const corpora = await CorpusStore.open(db)
  app = buildApp({ node: { corpora } as unknown as ApiNode, token: TOKEN, logger: silentLogger() })
  url = await app.listen({ host: '127.0.0.1', port: 0 })
})
afterAll(async () => { await app.close(); await db.close(); await rm(dir, { recursive: true, force: true }) })

const output = (): { text: () => string, restore: () => void } => {
  let text = ''
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { text += String(chunk); return true })
  return { text: () => text, restore: () => { spy.mockRestore() } }
}

describe('corpus API and CLI', () => {
  test('corpus add DIR, list, query, then POST /v1/retrieve', async () => {
    const local = { url, token: TOKEN }
    let out = output()
    await corpusAddCommand(local, [FIXTURE], { name: 'fixture' })
    out.restore()
    expect(out.text()).toMatch(/^indexed \d+ chunks from 7 files into fixture/)
    out = output()
    await corpusListCommand(local, true)
    out.restore()
    expect(JSON.parse(out.text()).corpora[0]).toEqual(expect.objectContaining({ name: 'fixture', sources: 7 }))
    out = output()
    await corpusQueryCommand(local, 'fixture', 'parse a date string', { k: 2, json: true })
    out.restore()
    expect(JSON.parse(out.text()).results[0].source).toBe('src/dates.py')

    const res = await app.inject({ method: 'POST', url: '/v1/retrieve', headers: auth, payload: { corpus: 'fixture', query: 'area of a polygon', k: 3 } })
    expect(res.statusCode).toBe(200)
    expect(res.json().results[0]).toEqual(expect.objectContaining({ id: 'src/lib/geometry.js#L7-16', source: 'src/lib/geometry.js', startLine: 7, endLine: 16, bm25Rank: 1 }))
    expect((await app.inject({ method: 'GET', url: '/v1/corpora', headers: auth })).json().corpora).toHaveLength(1)
  })

  test.each([
    [{ corpus: 'nope', query: 'x' }, 404, 'CorpusNotFoundError'],
    [{ corpus: 'fixture', query: 'the of' }, 400, 'EmptyQueryError'],
    [{ corpus: 'bad name', query: 'x' }, 400, 'ValidationError'],
    [{ corpus: 'fixture', query: 'x', k: 0 }, 400, 'ValidationError'],
    [{ corpus: 'fixture', query: 'x', extra: 1 }, 400, 'ValidationError'],
  ])('POST /v1/retrieve %j -> %i %s', async (payload, status, name) => {
    const res = await app.inject({ method: 'POST', url: '/v1/retrieve', headers: auth, payload })
    expect(res.statusCode).toBe(status)
    expect(res.json().error.name).toBe(name)
  })

  test('documents route and remove', async () => {
    const add = await app.inject({ method: 'POST', url: '/v1/corpora/small/documents', headers: auth, payload: { documents: [{ path: 'a.txt', text: 'walrus tusks' }] } })
    expect(add.json()).toEqual({ chunks: 1, sources: 1 })
    const out = output()
    await corpusRemoveCommand({ url, token: TOKEN }, 'small', false)
    out.restore()
    expect((await app.inject({ method: 'DELETE', url: '/v1/corpora/small', headers: auth })).statusCode).toBe(404)
  })
})
