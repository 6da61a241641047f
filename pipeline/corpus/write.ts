/**
 * A corpus change as one atomic batch written with `sync` (store.ts holds the corpus's lock
 * around it): the sources' new chunks replacing their old ones, or with `replace` the whole
 * corpus. The postings are merged on the main thread (planAdd) or, for an upload prepared on the
 * indexing worker thread (`prepared`), on that thread (merge.ts): then the main thread only reads
 * the affected terms' stored postings as bytes, in slices, and hands the merged bytes to the
 * batch, building no per-term lists. Both write the same bytes.
 */
import type { ClassicLevel } from 'classic-level'
import type { Logger } from '../../base/index.js'
import { checkAborted, CorpusOptionsError, IndexerFailedError, InvalidEmbeddingError } from './errors.js'
import type { DocumentIndexer } from './indexer.js'
import { corpusKeys, emptyMeta, type BatchOp, type CorpusKeys, type CorpusMeta, type SourceRecord } from './layout.js'
import type { MergedPostings } from './merge.js'
import { pauseEvery, type Pause } from './pause.js'
import { affectedTerms, planAdd, planSources, type IndexedChunk, type SourceChange, type SourcesPlan } from './plan.js'
import { sourceTermsOf, type PreparedDocuments } from './prepare.js'
import type { CorpusReader } from './reader.js'

export interface WriteContext {
  db: ClassicLevel<string, string>
  reader: CorpusReader
  catalog: Map<string, CorpusMeta>
  log: Logger
  sliceMs: number
  /** The indexing worker thread, started on first use. */
  indexer: () => DocumentIndexer
}

export interface WriteOptions {
  replace: boolean
  signal?: AbortSignal
  embedModel?: string
  /** The batch `fresh` was made from: merge its postings on the indexing worker thread. */
  prepared?: PreparedDocuments
}

const VIEW = { valueEncoding: 'view' } as const

/** Writes the change; the caller holds the corpus's lock. */
export async function writeCorpus (ctx: WriteContext, name: string, fresh: Map<string, IndexedChunk[]>, options: WriteOptions): Promise<{ chunks: number, sources: number }> {
  checkAborted(options.signal, 'adding to the corpus')
  const started = performance.now()
  const keys = corpusKeys(name)
  const now = new Date().toISOString()
  const meta = checkedMeta(name, options.replace ? emptyMeta(now) : ctx.catalog.get(name) ?? emptyMeta(now), fresh, options.embedModel)
  const paths = [...fresh.keys()]
  const olds = options.replace ? [] : await ctx.db.getMany(paths.map(keys.source))
  const sources = new Map<string, SourceChange>(paths.map((path, i) => {
    const old = olds[i]
    // `fresh` lists the prepared batch's documents in its order (indexedOfPrepared).
    const terms = options.prepared === undefined ? {} : { terms: sourceTermsOf(options.prepared, i) }
    return [path, { old: old === undefined ? undefined : JSON.parse(old) as SourceRecord, chunks: fresh.get(path) ?? [], ...terms }]
  }))
  const pause = pauseEvery(ctx.sliceMs)
  let plan: SourcesPlan & { postings?: Map<string, Uint32Array> }
  let merged: { termKeys: string[], postings: MergedPostings } | undefined
  if (options.prepared === undefined || options.replace) {
    const terms = [...affectedTerms(sources)]
    const existing = options.replace ? [] : await ctx.reader.postingsForWrite(name, terms, pause, options.signal)
    plan = await planAdd({ keys, meta, sources, postings: new Map(existing.map((list, i) => [terms[i], list])), now }, pause)
  } else {
    plan = await planSources({ keys, meta, sources, now }, pause)
    merged = await mergeOnWorker(ctx, keys, sources, options.prepared, plan, meta.nextChunk, pause, options.signal)
    plan.ops.push({ type: 'put', key: keys.meta, value: JSON.stringify(plan.meta) })
  }
  const clear = options.replace ? (await ctx.db.keys(keys.all).all()).map(key => ({ type: 'del' as const, key })) : []
  checkAborted(options.signal, 'adding to the corpus')
  // A chained batch: still one atomic write, but its ops are handed over in slices.
  const batch = ctx.db.batch()
  for (const op of [...clear, ...plan.ops] as BatchOp[]) {
    await pause()
    if (op.type === 'del') batch.del(op.key)
    else if (typeof op.value === 'string') batch.put(op.key, op.value)
    else batch.put(op.key, op.value as unknown as string, VIEW)
  }
  if (merged !== undefined) {
    const { termKeys, postings: { bytes, ends } } = merged
    for (let t = 0; t < termKeys.length; t++) {
      await pause()
      const start = t === 0 ? 0 : ends[t - 1]
      if (start === ends[t]) batch.del(termKeys[t])
      else batch.put(termKeys[t], bytes.subarray(start, ends[t]) as unknown as string, VIEW)
    }
  }
  await batch.write({ sync: true })
  ctx.catalog.set(name, plan.meta)
  ctx.reader.written(name, { postings: plan.postings, stalePostings: merged?.termKeys, removedChunks: plan.removedChunks, all: options.replace })
  ctx.log.debug({ corpus: name, chunks: plan.added, sources: plan.sources, ops: plan.ops.length + (merged?.termKeys.length ?? 0), ms: Math.round(performance.now() - started) }, 'corpus written')
  return { chunks: plan.added, sources: plan.sources }
}

/** The meta the change starts from, after checking the new vectors against it. */
function checkedMeta (name: string, meta: CorpusMeta, fresh: Map<string, IndexedChunk[]>, model: string | undefined): CorpusMeta {
  const dims = [...fresh.values()].flat().find(c => c.vector !== undefined)?.vector?.length
  if (dims !== undefined && meta.dims !== null && dims !== meta.dims) throw new InvalidEmbeddingError(`vectors of ${dims} dimensions for a corpus of ${meta.dims}`, { details: { expected: meta.dims, got: dims } })
  if (dims !== undefined && model !== undefined && meta.embedModel !== undefined && meta.dims !== null && model !== meta.embedModel) {
    throw new CorpusOptionsError(`corpus ${JSON.stringify(name)} holds vectors of the model ${JSON.stringify(meta.embedModel)}, not ${JSON.stringify(model)}: remove it and add it again to change models`, { details: [`embedModel: ${model} (the corpus has ${meta.embedModel})`] })
  }
  return dims !== undefined && model !== undefined ? { ...meta, embedModel: model } : meta
}

/**
 * The affected terms' new postings, merged on the worker: the batch's terms (their indices in
 * `prepared`) then the replaced chunks' other terms, their stored postings read as bytes.
 */
async function mergeOnWorker (ctx: WriteContext, keys: CorpusKeys, sources: ReadonlyMap<string, SourceChange>, prepared: PreparedDocuments, plan: SourcesPlan, firstChunk: number, pause: Pause, signal: AbortSignal | undefined): Promise<{ termKeys: string[], postings: MergedPostings }> {
  // Chunks are numbered in the batch's order (planSources), which the worker relies on.
  if (plan.added !== prepared.chunkLength.length) throw new IndexerFailedError(`the plan numbered ${plan.added} chunks of a batch of ${prepared.chunkLength.length}`)
  let terms = prepared.terms
  const replaced = [...sources.values()].flatMap(({ old }) => old === undefined ? [] : [old.terms])
  if (replaced.length > 0) {
    const known = new Set(terms)
    terms = [...terms, ...new Set(replaced.flat().filter(term => !known.has(term)))]
  }
  const termKeys = terms.map(keys.term)
  const { bytes, ends } = await ctx.reader.storedPostings(termKeys, pause, signal)
  const postings = await ctx.indexer().merge({
    termCount: terms.length,
    firstChunk,
    termPairs: prepared.termPairs,
    termEnds: prepared.termEnds,
    chunkLength: prepared.chunkLength,
    removed: Uint32Array.from(plan.removedChunks),
    old: bytes,
    oldEnds: ends,
  }, { signal })
  return { termKeys, postings }
}
