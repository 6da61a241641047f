/**
 * `gryphgen corpus add|list|query|rm`: the retrieval corpora of the local node, through its
 * API (the node holds the database). `add` reads the files here and sends them in batches,
 * each one durable batch on the node; a file sent again replaces its chunks.
 */
import { readTextFiles, type QueryResult, type SkipReason } from '../../../pipeline/corpus/index.js'
import { apiRequest, type LocalNode } from '../client.js'
import { onInterrupt } from '../interrupt.js'
import { table, write, writeError, writeJson } from '../output.js'

/** Text per request: under the route's 16 MiB body limit even as 3-byte UTF-8 with JSON escapes. */
const BATCH_CHARS = 4 * 1024 * 1024
const BATCH_FILES = 500
const ADD_TIMEOUT_MS = 300_000

type Retrieved = QueryResult['chunk'] & Omit<QueryResult, 'chunk'>
interface CorpusView { name: string, chunks: number, sources: number, dims: number | null, embedModel: string | null, updatedAt: string }

export interface CorpusAddFlags { name: string, include?: string[], maxFileBytes?: number, json?: boolean }

export async function corpusAddCommand (local: LocalNode, inputs: string[], flags: CorpusAddFlags): Promise<void> {
  const interrupt = onInterrupt()
  const total = { chunks: 0, sources: 0, skipped: {} as Partial<Record<SkipReason, number>> }
  let batch: Array<{ path: string, text: string }> = []
  let chars = 0
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return
    const signal = AbortSignal.any([interrupt.signal, AbortSignal.timeout(ADD_TIMEOUT_MS)])
    const added = await apiRequest<{ chunks: number, sources: number }>(local, 'POST', `/v1/corpora/${encodeURIComponent(flags.name)}/documents`, { body: { documents: batch }, signal })
    total.chunks += added.chunks
    total.sources += added.sources
    batch = []
    chars = 0
  }
  try {
    for await (const file of readTextFiles(inputs, { include: flags.include, maxFileBytes: flags.maxFileBytes, signal: interrupt.signal })) {
      if ('skipped' in file) { total.skipped[file.skipped] = (total.skipped[file.skipped] ?? 0) + 1; continue }
      if (chars + file.text.length > BATCH_CHARS || batch.length >= BATCH_FILES) await flush()
      batch.push(file)
      chars += file.text.length
    }
    await flush()
  } finally {
    interrupt.dispose()
  }
  if (flags.json === true) { writeJson({ name: flags.name, ...total }); return }
  const skipped = Object.entries(total.skipped).map(([why, n]) => `${n} ${why}`).join(', ')
  if (total.sources === 0) { writeError(`no text files to index${skipped === '' ? '' : ` (skipped: ${skipped})`}`); process.exitCode = 1; return }
  write(`indexed ${total.chunks} chunks from ${total.sources} files into ${flags.name}${skipped === '' ? '' : ` (skipped: ${skipped})`}`)
}

export async function corpusListCommand (local: LocalNode, json: boolean): Promise<void> {
  const { corpora } = await apiRequest<{ corpora: CorpusView[] }>(local, 'GET', '/v1/corpora')
  if (json) { writeJson({ corpora }); return }
  if (corpora.length === 0) { write('no corpora (add one: gryphgen corpus add DIR --name NAME)'); return }
  write(table(['NAME', 'CHUNKS', 'FILES', 'VECTORS', 'UPDATED'], corpora.map(c => [c.name, String(c.chunks), String(c.sources), c.dims === null ? '-' : `${c.dims} dims${c.embedModel === null ? '' : ` (${c.embedModel})`}`, c.updatedAt])))
}

export async function corpusQueryCommand (local: LocalNode, name: string, query: string, flags: { k?: number, json?: boolean }): Promise<void> {
  const { results } = await apiRequest<{ results: Retrieved[] }>(local, 'POST', '/v1/retrieve', { body: { corpus: name, query, ...(flags.k === undefined ? {} : { k: flags.k }) } })
  if (flags.json === true) { writeJson({ results }); return }
  if (results.length === 0) { write('no chunk matches'); return }
  write(results.map((r, i) => {
    const lines = r.text.split('\n')
    const shown = lines.slice(0, 6).map(l => `    ${l}`).join('\n')
    return `${i + 1}. ${r.source}:${r.startLine}-${r.endLine}  score ${r.score.toFixed(3)}\n${shown}${lines.length > 6 ? '\n    …' : ''}`
  }).join('\n\n'))
}

export async function corpusRemoveCommand (local: LocalNode, name: string, json: boolean): Promise<void> {
  await apiRequest(local, 'DELETE', `/v1/corpora/${encodeURIComponent(name)}`)
  if (json) writeJson({ removed: name })
  else write(`removed corpus ${name}`)
}
