/**
 * `gryphgen model add|pull|list|rm`: the model store of a data dir, used directly (a running
 * node is not needed). A bad name or URI is a usage error (exit 2, with its own error name);
 * a bad file, a taken name or an unknown model is a failure (exit 1, through main.ts).
 * When a node runs on the data dir, `add` and `pull` return once it serves the new model (it
 * reads the store every second), so the next command can use it at once.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { ModelStore, pullModel, type AddModelResult, type ModelEntry, type ModelProgress } from '../../../models/index.js'
import { apiRequest, findLocalNode } from '../client.js'
import { onInterrupt } from '../interrupt.js'
import { table, write, writeError, writeJson } from '../output.js'

/** Names of errors that mean the command line itself is wrong (exit 2). */
const INPUT_ERRORS = new Set(['InvalidModelNameError', 'InvalidModelUriError'])

/** Runs `fn`; an input error is reported as main.ts reports errors, but exits 2. */
async function withUsageExit (fn: () => Promise<void>): Promise<void> {
  try {
    await fn()
  } catch (err) {
    if (!INPUT_ERRORS.has((err as Error).name)) throw err
    writeError(`gryphgen: ${(err as Error).name}: ${(err as Error).message}`)
    process.exitCode = 2
  }
}

export interface ModelAddFlags { name?: string, link?: boolean, json?: boolean }

const SERVED_WAIT_MS = 5000

/** Waits (bounded) until the node running on `dataDir`, if any, lists `name` among its models; a note when it does not. */
async function untilServed (dataDir: string, apiHost: string, name: string): Promise<void> {
  let local
  try {
    local = await findLocalNode(dataDir, apiHost)
    await apiRequest(local, 'GET', '/v1/health', { signal: AbortSignal.timeout(2000) })
  } catch {
    return // no node runs here: it reads the store when it starts
  }
  for (const deadline = Date.now() + SERVED_WAIT_MS; Date.now() < deadline; await sleep(100)) {
    const models = await apiRequest<{ data: Array<{ id: string }> }>(local, 'GET', '/v1/models', { signal: AbortSignal.timeout(2000) }).catch(() => undefined)
    if (models?.data.some(m => m.id === name) === true) return
  }
  writeError(`gryphgen: the running node has not listed ${name} yet; it reads the store every second`)
}

export async function modelAddCommand (dataDir: string, path: string, flags: ModelAddFlags, apiHost = '127.0.0.1'): Promise<void> {
  await withUsageExit(async () => {
    const store = await ModelStore.open({ dataDir })
    const interrupt = onInterrupt()
    const progress = progressLine(flags.link === true ? 'hashing' : 'copying')
    try {
      const result = await store.add(path, { name: flags.name, link: flags.link === true, signal: interrupt.signal, onProgress: progress.update })
      reportAdded(result, flags.json === true, progress)
      await untilServed(dataDir, apiHost, result.model.name)
    } finally {
      progress.done()
      interrupt.dispose()
    }
  })
}

export async function modelPullCommand (dataDir: string, uri: string, flags: { name?: string, json?: boolean }, apiHost = '127.0.0.1'): Promise<void> {
  await withUsageExit(async () => {
    const store = await ModelStore.open({ dataDir })
    const interrupt = onInterrupt()
    const download = progressLine('downloading')
    const adding = progressLine('adding')
    try {
      const result = await pullModel(uri, {
        store, name: flags.name, signal: interrupt.signal,
        onProgress: p => { if (p.phase === 'download') download.update(p); else { download.done(); adding.update(p) } },
      })
      reportAdded(result, flags.json === true, adding)
      await untilServed(dataDir, apiHost, result.model.name)
    } finally {
      download.done()
      adding.done()
      interrupt.dispose()
    }
  })
}

export async function modelListCommand (dataDir: string, json: boolean): Promise<void> {
  const models = await (await ModelStore.open({ dataDir })).list()
  if (json) { writeJson({ models }); return }
  if (models.length === 0) { write('no models (add one: gryphgen model add PATH.gguf, or gryphgen model pull URI)'); return }
  write(table(['NAME', 'ARCH', 'QUANT', 'PARAMS', 'CONTEXT', 'SIZE', 'STATUS', 'FILE'], models.map(m => [
    m.name, m.architecture, m.quantization, count(m.parameterCount), m.contextLength === null ? '-' : String(m.contextLength),
    size(m.bytes), status(m), m.linked ? `${m.path} (linked)` : m.path,
  ])))
}

export async function modelRemoveCommand (dataDir: string, name: string, json: boolean): Promise<void> {
  const removed = await (await ModelStore.open({ dataDir })).remove(name)
  if (json) writeJson({ removed })
  else write(`removed ${removed.name}${removed.linked ? ` (its file ${removed.path} is left where it is)` : ''}`)
}

function reportAdded ({ model, added }: AddModelResult, json: boolean, progress: { done: () => void }): void {
  progress.done()
  if (json) { writeJson({ model, added }); return }
  const facts = `${model.architecture}, ${model.quantization}, ${count(model.parameterCount)} parameters, ${size(model.bytes)}, sha256 ${model.digest.slice(0, 12)}`
  write(added ? `added ${model.name} (${facts})${model.linked ? `, linked at ${model.path}` : ''}` : `${model.name} is already in the store with the same file; nothing changed`)
}

function status (m: ModelEntry): string {
  return m.available ? 'ok' : m.problem === 'changed' ? 'CHANGED' : 'MISSING'
}

/** On a terminal: one progress line on stderr, redrawn at most 10 times a second. Elsewhere nothing. */
function progressLine (verb: string): { update: (p: ModelProgress) => void, done: () => void } {
  const tty = process.stderr.isTTY === true
  let drawnAt = 0
  let drawn = false
  return {
    update: p => {
      const now = Date.now()
      if (!tty || (now - drawnAt < 100 && p.doneBytes < p.totalBytes)) return
      drawnAt = now
      drawn = true
      const percent = p.totalBytes > 0 ? ` ${Math.floor(100 * p.doneBytes / p.totalBytes)}%` : ''
      process.stderr.write(`\r\x1b[2K${verb}${percent} (${size(p.doneBytes)} of ${size(p.totalBytes)})`)
    },
    done: () => {
      if (drawn) process.stderr.write('\r\x1b[2K')
      drawn = false
    },
  }
}

function size (bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++ }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`
}

function count (n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}K` : String(n)
}
