/**
 * Retrieval benchmark (issue 8): `node --import tsx scripts/bench-retrieval.ts [--chunks N] [--queries N]`.
 * Builds a synthetic corpus of ~10k code chunks (Python and TypeScript files of functions with
 * docstrings; words drawn Zipf-like from a real vocabulary plus a long tail of made-up
 * identifiers; seeded PRNG, so every run indexes the same text), then prints:
 *  - add time (batches of 100 files, each one synced batch) and one file's re-add time;
 *  - query p50/p99 over ~500 queries, first pass after open (cold caches) and second pass,
 *    against the target (p50 <= 20 ms) and a baseline measured in the same run: a linear
 *    scan that scores every chunk in memory with the same BM25 (its term maps prebuilt);
 *  - hybrid query p50 (a fake 384-dimensional hashing embedding: model time excluded);
 *  - how often the store's top result equals the baseline's (a correctness check).
 * Every loop is bounded by count and by a deadline.
 */
import '../base/polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ClassicLevel } from 'classic-level'
import { chunkDocument, CorpusStore, idf, K1, B, queryTerms, tokenize, type EmbedFunction } from '../pipeline/corpus/index.js'
import './bench/busy.js' // --busy: a standard CPU load beside this run (scripts/bench/busy.ts)

const { values: args } = parseArgs({ options: { chunks: { type: 'string', default: '10000' }, queries: { type: 'string', default: '500' } } })
const TARGET_CHUNKS = Number(args.chunks)
const QUERIES = Number(args.queries)
const TARGET_P50_MS = 20
const DEADLINE = Date.now() + 5 * 60_000
const K = 8

// Seeded PRNG (mulberry32).
let seed = 0x9e3779b9
const random = (): number => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]

const VERBS = 'parse format load save read write fetch send build create update delete remove insert merge split join sort filter map reduce validate check compute resolve render encode decode compress hash sign verify retry schedule cancel start stop open close connect listen bind register dispatch emit handle apply convert normalize sanitize escape serialize deserialize cache evict flush sync lock unlock acquire release allocate free measure count sum average estimate predict train score rank index search query match scan tokenize stem chunk embed'.split(' ')
const NOUNS = 'date time duration timestamp calendar holiday user account session token password key certificate request response header body cookie url path file directory stream buffer socket connection peer node cluster shard replica queue job task worker thread process lock mutex semaphore channel message event handler callback promise future result error exception retry backoff limit quota rate budget price invoice order payment cart item product inventory stock warehouse shipment address customer report chart table column row record field schema migration query index cursor transaction snapshot checkpoint log metric trace span histogram counter gauge image pixel color font layout widget button form input label tooltip menu dialog window canvas polygon point vector matrix tensor model layer weight gradient batch epoch dataset sample feature label graph edge vertex tree leaf branch heap stack list map set string number boolean config setting option flag variable template document page section paragraph sentence word character unicode encoding language locale currency'.split(' ')
const FILLER = 'the a of to in for with from by on when if and or not each every all any first last next previous new old given current default optional required valid invalid empty full'.split(' ')
const SYLLABLES = 'ka lo mi nu pe ra si to vu xe za bo ce di fa gu hi jo ku le mo ni po qu re su ti ve wo'.split(' ')
const TAIL = Array.from({ length: 3000 }, () => Array.from({ length: 2 + Math.floor(random() * 3) }, () => pick(SYLLABLES)).join(''))
const WORDS = [...NOUNS, ...VERBS, ...TAIL]

/** Zipf-like: index r with probability about proportional to 1 / (r + 1). */
const zipf = <T>(items: readonly T[]): T => items[Math.min(items.length - 1, Math.floor(Math.exp(random() * Math.log(items.length + 1)) - 1))]
const words = (n: number): string[] => Array.from({ length: n }, () => random() < 0.25 ? pick(FILLER) : zipf(WORDS))
const camel = (parts: string[]): string => parts[0] + parts.slice(1).map(p => p[0].toUpperCase() + p.slice(1)).join('')

function pythonFunction (): string {
  const name = [pick(VERBS), zipf(NOUNS), ...(random() < 0.4 ? [zipf(WORDS)] : [])].join('_')
  const args = Array.from({ length: 1 + Math.floor(random() * 3) }, () => zipf(WORDS)).join(', ')
  const body = Array.from({ length: 4 + Math.floor(random() * 14) }, () => `    ${zipf(WORDS)}_${zipf(WORDS)} = ${zipf(WORDS)}.${pick(VERBS)}_${zipf(NOUNS)}(${zipf(WORDS)}, ${Math.floor(random() * 100)})`)
  return [`def ${name}(${args}):`, `    """${words(6 + Math.floor(random() * 12)).join(' ')}."""`, ...body, `    return ${zipf(WORDS)}`].join('\n')
}

function scriptFunction (): string {
  const name = camel([pick(VERBS), zipf(NOUNS), ...(random() < 0.4 ? [zipf(WORDS)] : [])])
  const args = Array.from({ length: 1 + Math.floor(random() * 3) }, () => camel([zipf(WORDS), zipf(NOUNS)])).join(', ')
  const body = Array.from({ length: 4 + Math.floor(random() * 14) }, () => `  const ${camel([zipf(WORDS), zipf(NOUNS)])} = ${zipf(WORDS)}.${camel([pick(VERBS), zipf(NOUNS)])}(${zipf(WORDS)}, ${Math.floor(random() * 100)})`)
  return [`/** ${words(6 + Math.floor(random() * 12)).join(' ')}. */`, `export function ${name} (${args}) {`, ...body, `  return ${zipf(WORDS)}`, '}'].join('\n')
}

function makeDocuments (): Array<{ path: string, text: string }> {
  const documents: Array<{ path: string, text: string }> = []
  let chunks = 0
  for (let i = 0; chunks < TARGET_CHUNKS && i < TARGET_CHUNKS; i++) {
    const python = random() < 0.5
    const count = 6 + Math.floor(random() * 8)
    const header = python ? `"""${words(10).join(' ')}."""\nimport ${zipf(NOUNS)}\n` : `// ${words(10).join(' ')}.\nimport { ${zipf(NOUNS)} } from './${zipf(NOUNS)}.js'\n`
    const text = [header, ...Array.from({ length: count }, python ? pythonFunction : scriptFunction)].join('\n\n')
    const path = `src/${zipf(NOUNS)}/${pick(VERBS)}_${i}.${python ? 'py' : 'ts'}`
    documents.push({ path, text })
    chunks += chunkDocument(path, text).length
  }
  return documents
}

/** Queries: most from one chunk's words (what a developer half-remembers), some from anywhere. */
function makeQueries (documents: ReadonlyArray<{ path: string, text: string }>): string[] {
  return Array.from({ length: QUERIES }, () => {
    if (random() < 0.3) return words(2 + Math.floor(random() * 3)).join(' ')
    const chunk = pick(chunkDocument(...(Object.values(pick(documents)) as [string, string])))
    const own = chunk.text.match(/[A-Za-z]+/g) ?? []
    return Array.from({ length: 2 + Math.floor(random() * 4) }, () => pick(own)).join(' ')
  })
}

/** The baseline: every chunk's term map in memory, every chunk scored for every query. */
function linearScan (documents: ReadonlyArray<{ path: string, text: string }>): (query: string) => string[] {
  const chunks = documents.flatMap(d => chunkDocument(d.path, d.text)).map(c => {
    const terms = new Map<string, number>()
    for (const t of tokenize(c.text)) terms.set(t, (terms.get(t) ?? 0) + 1)
    return { id: c.id, terms, length: [...terms.values()].reduce((a, b) => a + b, 0) }
  })
  const average = chunks.reduce((a, c) => a + c.length, 0) / chunks.length
  return query => {
    const terms = queryTerms(query)
    const df = terms.map(t => chunks.reduce((n, c) => n + (c.terms.has(t) ? 1 : 0), 0))
    const scored = chunks.map(c => {
      let score = 0
      terms.forEach((t, i) => {
        const tf = c.terms.get(t)
        if (tf !== undefined) score += idf(chunks.length, df[i]) * tf * (K1 + 1) / (tf + K1 * (1 - B + B * c.length / average))
      })
      return { id: c.id, score }
    }).filter(s => s.score > 0)
    return scored.sort((a, b) => b.score - a.score).slice(0, K).map(s => s.id)
  }
}

const hashEmbed: EmbedFunction = async texts => texts.map(text => {
  const v = new Array<number>(384).fill(0)
  for (const t of tokenize(text)) {
    let h = 2166136261
    for (let i = 0; i < t.length; i++) h = Math.imul(h ^ t.charCodeAt(i), 16777619)
    v[(h >>> 0) % 384] += 1
  }
  return v
})

const percentile = (values: number[], p: number): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]

async function timeQueries (store: CorpusStore, name: string, queries: readonly string[], embed?: EmbedFunction): Promise<{ times: number[], tops: Array<string | undefined> }> {
  const times: number[] = []
  const tops: Array<string | undefined> = []
  for (const q of queries) {
    if (Date.now() > DEADLINE) break
    const t0 = performance.now()
    const results = await store.query(name, q, { k: K, embed }).catch((err: Error) => { if (err.name === 'EmptyQueryError') return []; throw err })
    times.push(performance.now() - t0)
    tops.push(results[0]?.chunk.id)
  }
  return { times, tops }
}

const out = (text: string): void => { process.stdout.write(text + '\n') }
const ms = (v: number): string => `${v.toFixed(2)} ms`

const root = await mkdtemp(join(tmpdir(), 'gryphgen-bench-retrieval-'))
const path = join(root, 'db')
let db = new ClassicLevel<string, string>(path, { valueEncoding: 'utf8' })
try {
  await db.open()
  let store = await CorpusStore.open(db)
  const documents = makeDocuments()
  const queries = makeQueries(documents)

  const t0 = performance.now()
  for (let i = 0; i < documents.length && Date.now() < DEADLINE; i += 100) await store.add('bench', documents.slice(i, i + 100))
  const addSeconds = (performance.now() - t0) / 1000
  const { chunks, sources } = store.list()[0]
  out(`corpus: ${chunks} chunks from ${sources} files (${(documents.reduce((a, d) => a + d.text.length, 0) / 1e6).toFixed(1)} MB of text), seeded`)
  out(`add: ${addSeconds.toFixed(1)} s in batches of 100 files (${Math.round(chunks / addSeconds)} chunks/s, each batch one synced write)`)
  const readd: number[] = []
  for (let i = 0; i < 20 && Date.now() < DEADLINE; i++) {
    const t = performance.now()
    await store.add('bench', [documents[i * 7]])
    readd.push(performance.now() - t)
  }
  out(`re-add one file to the full corpus: p50 ${ms(percentile(readd, 0.5))}`)

  // Cold: a new store on a reopened database, caches empty.
  await db.close()
  db = new ClassicLevel<string, string>(path, { valueEncoding: 'utf8' })
  await db.open()
  store = await CorpusStore.open(db)
  const cold = await timeQueries(store, 'bench', queries)
  const warm = await timeQueries(store, 'bench', queries)

  const scan = linearScan(documents)
  const baseline: number[] = []
  const baselineTops: Array<string | undefined> = []
  for (const q of queries.slice(0, warm.times.length)) {
    if (Date.now() > DEADLINE) break
    const t = performance.now()
    baselineTops.push(scan(q)[0])
    baseline.push(performance.now() - t)
  }
  const base50 = percentile(baseline, 0.5)
  const line = (what: string, times: number[]): void => {
    const p50 = percentile(times, 0.5)
    out(`${what.padEnd(30)} p50 ${ms(p50).padStart(9)}  p99 ${ms(percentile(times, 0.99)).padStart(9)}  target p50 <= ${TARGET_P50_MS} ms: ${p50 <= TARGET_P50_MS ? 'met' : 'MISSED'}  baseline (linear scan, in memory) p50 ${ms(base50)}, ${(base50 / p50).toFixed(1)}x faster`)
  }
  out(`queries: ${warm.times.length} (k = ${K})`)
  line('query, first pass after open', cold.times)
  line('query, second pass', warm.times)
  out(`${'baseline linear scan'.padEnd(30)} p50 ${ms(base50).padStart(9)}  p99 ${ms(percentile(baseline, 0.99)).padStart(9)}`)
  const agree = baselineTops.filter((id, i) => id === warm.tops[i]).length
  out(`top result equal to the baseline's: ${agree}/${baselineTops.length} (differences are ties in score)`)

  if (Date.now() < DEADLINE) {
    const t1 = performance.now()
    for (let i = 0; i < documents.length && Date.now() < DEADLINE; i += 100) await store.add('hybrid', documents.slice(i, i + 100), { embed: hashEmbed })
    out(`hybrid add (384-dim fake embedding): ${((performance.now() - t1) / 1000).toFixed(1)} s`)
    await timeQueries(store, 'hybrid', queries.slice(0, 20), hashEmbed) // loads the vector table
    line('hybrid query (RRF, fake embed)', (await timeQueries(store, 'hybrid', queries, hashEmbed)).times)
  }
} finally {
  await db.close().catch(() => {})
  await rm(root, { recursive: true, force: true })
}
