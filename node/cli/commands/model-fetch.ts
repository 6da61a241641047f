/**
 * `gryphgen model fetch NAME`: ask the running node to fetch a model from the peers that hold
 * it, then follow the fetch in `GET /v1/node` until it is done: a progress bar on a terminal,
 * a line per 10% (or per 30 s) otherwise. Ctrl-C stops following; the node's fetch goes on
 * (and a fetch that failed resumes from its verified chunks when asked again).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { GryphgenError } from '../../../base/index.js'
import type { ModelFetchViewT } from '../../api/model-fetch.js'
import { apiRequest, findLocalNode } from '../client.js'
import { onInterrupt } from '../interrupt.js'
import { write, writeJson } from '../output.js'

/** The node's fetch of the model failed; `details` has the node's error `{ name, message }`. */
export class ModelFetchFailedError extends GryphgenError {}

const POLL_MS = 250
/** Following stops after this long; the fetch itself goes on in the node. */
const FOLLOW_LIMIT_MS = 24 * 3_600_000
const BAR_WIDTH = 30

export async function modelFetchCommand (dataDir: string, name: string, flags: { json?: boolean }, apiHost = '127.0.0.1'): Promise<void> {
  const node = await findLocalNode(dataDir, apiHost)
  const interrupt = onInterrupt()
  const tty = process.stderr.isTTY === true && flags.json !== true
  let lastLine = { percent: -10, at: 0 }
  try {
    let fetch = await apiRequest<ModelFetchViewT>(node, 'POST', '/v1/models/fetch', { body: { name }, signal: interrupt.signal })
    const deadline = Date.now() + FOLLOW_LIMIT_MS
    while (fetch.state !== 'done' && fetch.state !== 'failed' && Date.now() < deadline) {
      if (tty) process.stderr.write(`\r\x1b[2K${bar(fetch)}`)
      else if (flags.json !== true) lastLine = progressLine(fetch, lastLine)
      await sleep(POLL_MS, undefined, { signal: interrupt.signal })
      const described = await apiRequest<{ modelFetches?: ModelFetchViewT[] }>(node, 'GET', '/v1/node', { signal: interrupt.signal })
      fetch = described.modelFetches?.find(f => f.digest === fetch.digest) ?? fetch
    }
    if (tty) process.stderr.write('\r\x1b[2K')
    if (fetch.state === 'failed') {
      throw new ModelFetchFailedError(`fetching ${name} failed: ${fetch.error?.name ?? 'Error'}: ${fetch.error?.message ?? 'unknown'} (run it again to resume)`, { details: fetch.error })
    }
    if (flags.json === true) writeJson({ fetch })
    else write(fetch.state === 'done' ? `${name} is in the store (sha256 ${fetch.digest.slice(0, 12)}, ${mib(fetch.doneBytes)})` : `still fetching ${name} (${percent(fetch)}%): see GET /v1/node`)
  } finally {
    interrupt.dispose()
  }
}

function percent (f: ModelFetchViewT): number {
  return f.totalBytes === null || f.totalBytes === 0 ? 0 : Math.floor(100 * f.doneBytes / f.totalBytes)
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`

function bar (f: ModelFetchViewT): string {
  const p = percent(f)
  const filled = Math.round(BAR_WIDTH * p / 100)
  const from = f.peer === null ? '' : ` from ${f.peer.slice(-8)}`
  return `${f.state} ${f.name} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${p}% ${mib(f.doneBytes)}${f.totalBytes === null ? '' : ` of ${mib(f.totalBytes)}`} ${mib(f.bytesPerSecond)}/s${from}`
}

function progressLine (f: ModelFetchViewT, last: { percent: number, at: number }): { percent: number, at: number } {
  const p = percent(f)
  if (p < last.percent + 10 && Date.now() - last.at < 30_000) return last
  process.stderr.write(`${f.state} ${f.name}: ${p}% (${mib(f.doneBytes)}${f.totalBytes === null ? '' : ` of ${mib(f.totalBytes)}`})\n`)
  return { percent: p, at: Date.now() }
}
