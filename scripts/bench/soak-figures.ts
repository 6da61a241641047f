/**
 * The figures of the soak benchmark (issue 14) for one node process: disk used by its
 * LevelDB (`db/`) and its blob store (`blobs/`), the RSS of the node process and of its
 * process tree (the node and its worker processes, from /proc), and the ledger's retention
 * figures (GET /v1/ledger/status). And the plateau check over a series of them. For the
 * analysis of what grows (not plateau targets): the node's V8 heap in use and its external
 * memory (GET /metrics), and the LevelDB folder split into its write-ahead log (`*.log`, the
 * memtable's log, restarted when the memtable is flushed to a table) and its tables (`*.ldb`).
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { api, type MeshNode } from './mesh.js'

export interface Sample {
  at: number
  dbMb: number
  blobsMb: number
  /** The node process alone. */
  rssMb: number
  /** The node and every process under it (its exec and model workers). */
  treeRssMb: number
  /** V8 heap in use (nodejs_heap_size_used_bytes: live objects and garbage not yet collected). */
  heapMb: number
  /** Memory held outside the V8 heap by JS objects (Buffers, nodejs_external_memory_bytes). */
  externalMb: number
  /** LevelDB's write-ahead log files (*.log) and tables (*.ldb) and how many tables. */
  dbLogMb: number
  dbTablesMb: number
  dbTables: number
  entries: number
  liveEntries: number
  compactedEntries: number
  compactedTasks: number
  expiredTasks: number
}

/** The figures whose plateau is checked. */
export const PLATEAU_FIGURES = ['dbMb', 'blobsMb', 'rssMb', 'treeRssMb'] as const
export type PlateauFigure = typeof PLATEAU_FIGURES[number]

const MAX_DEPTH = 8
const MAX_FILES = 100_000

/** Bytes of the files under `path` (bounded by depth and file count: a LevelDB folder is flat). */
export async function diskBytes (path: string, depth = 0, budget = { files: MAX_FILES }): Promise<number> {
  let total = 0
  if (depth > MAX_DEPTH) return 0
  for (const name of await readdir(path).catch(() => [] as string[])) {
    if (--budget.files < 0) break
    const info = await stat(join(path, name)).catch(() => undefined)
    if (info === undefined) continue
    total += info.isDirectory() ? await diskBytes(join(path, name), depth + 1, budget) : info.size
  }
  return total
}

/** LevelDB's folder by kind of file: write-ahead log (*.log) and sorted tables (*.ldb). */
export async function levelDbFiles (path: string): Promise<{ logBytes: number, tableBytes: number, tables: number }> {
  const out = { logBytes: 0, tableBytes: 0, tables: 0 }
  for (const name of (await readdir(path).catch(() => [] as string[])).slice(0, MAX_FILES)) {
    if (!name.endsWith('.log') && !name.endsWith('.ldb')) continue
    const size = (await stat(join(path, name)).catch(() => undefined))?.size ?? 0
    if (name.endsWith('.log')) out.logBytes += size
    else { out.tableBytes += size; out.tables++ }
  }
  return out
}

/** Figures from the node's Prometheus text (0 where missing). */
async function memoryMetrics (node: MeshNode): Promise<{ heap: number, external: number }> {
  const res = await fetch(node.url + '/metrics', { headers: { authorization: `Bearer ${node.token}` }, signal: AbortSignal.timeout(30_000) }).catch(() => undefined)
  const text = res?.ok === true ? await res.text() : ''
  const figure = (name: string): number => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? 0)
  return { heap: figure('nodejs_heap_size_used_bytes'), external: figure('nodejs_external_memory_bytes') }
}

async function rssKb (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
}

/** PIDs of `root` and every process below it (from each process's parent in /proc/PID/stat). */
async function processTree (root: number): Promise<number[]> {
  const children = new Map<number, number[]>()
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '')
    // Fields after the command name (which may hold spaces and parentheses): state, ppid, ...
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    if (!Number.isInteger(ppid)) continue
    children.set(ppid, [...children.get(ppid) ?? [], Number(entry)])
  }
  const tree = [root]
  for (let i = 0; i < tree.length && i < 10_000; i++) tree.push(...children.get(tree[i]) ?? [])
  return tree
}

interface LedgerStatus { entries: number, liveEntries?: number, compactedEntries?: number, compactedTasks?: number, expiredTasks?: number }

export async function sample (node: MeshNode, signal?: AbortSignal): Promise<Sample> {
  signal?.throwIfAborted()
  const pid = node.child.pid ?? 0
  const ledger = await api<LedgerStatus>(node, 'GET', '/v1/ledger/status')
  const tree = await processTree(pid)
  const treeKb = (await Promise.all(tree.map(rssKb))).reduce((a, b) => a + b, 0)
  const memory = await memoryMetrics(node)
  const files = await levelDbFiles(join(node.dir, 'db'))
  return {
    at: Date.now(),
    dbMb: await diskBytes(join(node.dir, 'db')) / 2 ** 20,
    blobsMb: await diskBytes(join(node.dir, 'blobs')) / 2 ** 20,
    rssMb: await rssKb(pid) / 1024,
    treeRssMb: treeKb / 1024,
    heapMb: memory.heap / 2 ** 20,
    externalMb: memory.external / 2 ** 20,
    dbLogMb: files.logBytes / 2 ** 20,
    dbTablesMb: files.tableBytes / 2 ** 20,
    dbTables: files.tables,
    entries: ledger.entries,
    liveEntries: ledger.liveEntries ?? ledger.entries,
    compactedEntries: ledger.compactedEntries ?? 0,
    compactedTasks: ledger.compactedTasks ?? 0,
    expiredTasks: ledger.expiredTasks ?? 0,
  }
}

export function formatSample (name: string, s: Sample): string {
  return `${new Date(s.at).toISOString().slice(11, 19)} ${name.padEnd(7)} db ${s.dbMb.toFixed(2).padStart(7)} MB  blobs ${s.blobsMb.toFixed(2).padStart(6)} MB  ` +
    `rss ${s.rssMb.toFixed(0).padStart(4)} MB (with workers ${s.treeRssMb.toFixed(0).padStart(4)} MB)  entries live ${String(s.liveEntries).padStart(6)} / compacted ${String(s.compactedEntries).padStart(7)}  tasks compacted ${s.compactedTasks} (expired ${s.expiredTasks})\n` +
    `${' '.repeat(9)}${' '.repeat(7)} db log ${s.dbLogMb.toFixed(2)} MB, tables ${s.dbTablesMb.toFixed(2)} MB in ${s.dbTables}  heap used ${s.heapMb.toFixed(0)} MB, external ${s.externalMb.toFixed(0)} MB`
}

export interface Plateau {
  /** Samples the figure was fitted on (the last half of those after the warm-up). */
  samples: number
  mean: number
  /** Fitted change across the last half, as a share of its mean (undefined: fewer than 3 samples, or a zero mean). */
  change: number | undefined
  /** |change| ≤ the tolerance. */
  flat: boolean
  /**
   * The standard error of `change` from the scatter around the fitted line (as if the samples'
   * deviations were independent): not part of the figure, but a change within about twice it
   * cannot be told from a flat line with that much scatter (a sawtooth sampled at random phases).
   */
  changeError?: number
}

/**
 * The plateau check: of the samples taken at or after `warmupEnd`, the last half (by count,
 * at least 3 samples); fit value = a + b·t by least squares; `change` is b times the span
 * of that half (its first to its last sample) divided by the half's mean value: how much the
 * figure grows across the last half, relative to its level. Flat when |change| ≤ `tolerance`
 * (the target is 0.05). A mean of 0 (nothing stored at all) counts as flat.
 */
export function plateau (points: ReadonlyArray<{ at: number, value: number }>, warmupEnd: number, tolerance = 0.05): Plateau {
  const after = points.filter(p => p.at >= warmupEnd)
  const half = after.slice(Math.floor(after.length / 2))
  const mean = half.reduce((s, p) => s + p.value, 0) / Math.max(1, half.length)
  if (half.length < 3) return { samples: half.length, mean, change: undefined, flat: false }
  if (mean === 0) return { samples: half.length, mean, change: 0, flat: true }
  const xs = half.map(p => (p.at - half[0].at) / 1000)
  const mx = xs.reduce((s, x) => s + x, 0) / xs.length
  const sxx = xs.reduce((s, x) => s + (x - mx) ** 2, 0)
  const slope = sxx === 0 ? 0 : xs.reduce((s, x, i) => s + (x - mx) * (half[i].value - mean), 0) / sxx
  const span = xs[xs.length - 1] - xs[0]
  const change = slope * span / mean
  const scatter = xs.reduce((s, x, i) => s + (half[i].value - mean - slope * (x - mx)) ** 2, 0) / (xs.length - 2)
  const changeError = sxx === 0 ? undefined : Math.sqrt(scatter / sxx) * span / mean
  return { samples: half.length, mean, change, flat: Math.abs(change) <= tolerance, ...changeError === undefined ? {} : { changeError } }
}

export function formatPlateau (p: Plateau): string {
  if (p.change === undefined) return `n/a (${p.samples} samples after the warm-up; need 3)`
  const error = p.changeError === undefined ? '' : ` ±${(100 * p.changeError).toFixed(1)}%`
  return `${p.change >= 0 ? '+' : ''}${(100 * p.change).toFixed(1)}%${error} (mean ${p.mean.toFixed(2)}, ${p.samples} samples) ${p.flat ? 'flat' : p.change > 0 ? 'GROWING' : 'SHRINKING'}`
}
