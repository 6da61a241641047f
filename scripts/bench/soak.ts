/**
 * The soak run of issue 14, for `npm run bench:soak` and its CI test (test/process/soak.test.ts):
 * a mesh of real node processes with a short retention window runs a sustained noop + small
 * exec workload (alternating; every `blobEvery`-th exec writes an output big enough for a blob; submitted round-robin at `rate` per second) for `durationMs`,
 * sampling every node's figures (soak-figures.ts) and printing them every `everyMs`. Then the
 * workload stops, every task is waited for until terminal and compacted on every node, and the
 * end checks run: every task ever acknowledged answers GET /v1/tasks/:id on every node, and
 * the folds (every task's view, paged through GET /v1/tasks) and version vectors of all
 * nodes are identical. Every loop is bounded by count and time; every process is stopped by PID.
 */
import { createHash } from 'node:crypto'
import { LocalMesh, api, until, type MeshNode } from './mesh.js'
import { formatSample, sample, type Sample } from './soak-figures.js'

export interface SoakOptions {
  durationMs: number
  /** Tasks submitted per second (noop and exec alternating). */
  rate: number
  /** How often the figures are printed. */
  everyMs: number
  /** How often they are sampled for the plateau fit (default: every 10 s, or `everyMs` if shorter). */
  sampleMs?: number
  nodes: number
  /** Every this-many-th exec task writes 20 KB of random output, over the inline limit: a blob the node must collect later (0: none). */
  blobEvery: number
  /** `ledger.retention.afterMs` of every node; compaction runs every half of it (at least 1 s). */
  retentionMs: number
  /** `ledger.retention.summariesMs` of every node (0 or absent: summaries are kept). */
  summariesMs?: number
  /** How long to wait, after the workload, for every task to end and be compacted on every node (default 3 minutes). */
  endPatienceMs?: number
  log: (line: string) => void
  signal?: AbortSignal
}

export interface NodeEnd {
  name: string
  /** Acknowledged tasks that GET /v1/tasks/:id did not answer, or answered not terminal. */
  unanswered: string[]
  /** Tasks listed whose view is not marked compacted. */
  notCompacted: number
  foldDigest: string
  versionVector: string
  final: Sample
}

export interface SoakResult {
  startedAt: number
  /** End of the warm-up: two retention windows (plus compaction intervals) after the start. */
  warmupEnd: number
  /** Samples taken while the workload ran, per node. */
  samples: Map<string, Sample[]>
  acknowledged: number
  failedSubmits: number
  /** Submissions left out because too many were in flight (a slow node must not pile them up). */
  skipped: number
  nodes: NodeEnd[]
  foldsIdentical: boolean
  vectorsIdentical: boolean
}

const MAX_IN_FLIGHT = 64
const END_PATIENCE_MS = 180_000
/** Sleep `ms`, less if `signal` aborts (its listener goes with the timer: one per call would pile up). */
async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    const done = (): void => { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve() }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

/** Runs the soak on a fresh mesh, which it stops (every process by PID) and removes before returning. */
export async function runSoak (o: SoakOptions): Promise<SoakResult> {
  const mesh = new LocalMesh()
  const stop = (): void => { void mesh.stop() }
  o.signal?.addEventListener('abort', stop, { once: true })
  try {
    const everyMs = Math.max(1000, Math.floor(o.retentionMs / 2))
    const config = { workers: { exec: { size: 1 } }, ledger: { retention: { afterMs: o.retentionMs, everyMs, summariesMs: o.summariesMs ?? 0 } }, blobs: { gcIntervalMs: 5000, keepUnreferencedMs: o.retentionMs } }
    const nodes = await mesh.start(Array.from({ length: o.nodes }, (_, i) => ({ name: `soak-${i}`, config })), { patienceMs: 180_000 })
    const startedAt = Date.now()
    const result: SoakResult = { startedAt, warmupEnd: startedAt + 2 * (o.retentionMs + everyMs), samples: new Map(nodes.map(n => [n.name, []])), acknowledged: 0, failedSubmits: 0, skipped: 0, nodes: [], foldsIdentical: false, vectorsIdentical: false }
    o.log(`soak: ${o.nodes} node processes, ${o.rate} tasks/s (noop and exec alternating) for ${o.durationMs / 1000} s, retention ${o.retentionMs / 1000} s (compaction every ${everyMs / 1000} s), figures every ${o.everyMs / 1000} s`)
    const acked = await workload(o, nodes, result)
    o.log(`workload over: ${result.acknowledged} acknowledged, ${result.failedSubmits} failed submits, ${result.skipped} skipped (over ${MAX_IN_FLIGHT} in flight); waiting for every task to end and be compacted on every node`)
    await settle(nodes, acked.length, o.endPatienceMs ?? END_PATIENCE_MS, o.signal)
    // With summaries expiring, nodes converge once each has run past the same horizon: compare a few times (bounded).
    for (let round = 0; round < ((o.summariesMs ?? 0) > 0 ? 5 : 1); round++) {
      if (round > 0) await new Promise(resolve => setTimeout(resolve, everyMs * 2))
      result.nodes = await Promise.all(nodes.map(async n => endOf(n, acked)))
      result.foldsIdentical = result.nodes.every(n => n.foldDigest === result.nodes[0].foldDigest)
      if (result.foldsIdentical) break
    }
    result.vectorsIdentical = result.nodes.every(n => n.versionVector === result.nodes[0].versionVector)
    return result
  } finally {
    o.signal?.removeEventListener('abort', stop)
    await mesh.stop()
  }
}

/** Submit at `rate` until the duration is over, sampling and printing on the way; the acknowledged ids. */
async function workload (o: SoakOptions, nodes: MeshNode[], result: SoakResult): Promise<string[]> {
  const acked: string[] = []
  const inFlight = new Set<Promise<void>>()
  const sampleMs = o.sampleMs ?? Math.min(o.everyMs, 10_000)
  const deadline = result.startedAt + o.durationMs
  const maxSubmits = Math.ceil(o.durationMs / 1000 * o.rate) + 1
  let nextSample = result.startedAt
  let nextPrint = result.startedAt
  for (let i = 0; i < maxSubmits && Date.now() < deadline && o.signal?.aborted !== true; i++) {
    if (Date.now() >= nextSample) {
      const print = Date.now() >= nextPrint
      for (const node of nodes) {
        const s = await sample(node, o.signal)
        result.samples.get(node.name)?.push(s)
        if (print) o.log(formatSample(node.name, s))
      }
      if (print) { o.log(`         submitted ${i}, acknowledged ${result.acknowledged}, failed ${result.failedSubmits}, skipped ${result.skipped}`); nextPrint += o.everyMs }
      nextSample += sampleMs
    }
    if (inFlight.size >= MAX_IN_FLIGHT) {
      result.skipped++
    } else {
      const execs = Math.floor(i / 2)
      const output = o.blobEvery > 0 && execs % o.blobEvery === 0 ? 'head -c 15000 /dev/urandom | base64 -w0' : `echo soak ${i}`
      const body = i % 2 === 0 ? { kind: 'noop' } : { kind: 'exec', command: ['sh', '-c', output] }
      const p = api<{ id: string }>(nodes[i % nodes.length], 'POST', '/v1/tasks', body)
        .then(r => { acked.push(r.id); result.acknowledged++ }, () => { result.failedSubmits++ })
        .finally(() => inFlight.delete(p))
      inFlight.add(p)
    }
    await sleep(Math.max(0, result.startedAt + (i + 1) * 1000 / o.rate - Date.now()), o.signal)
  }
  await Promise.all(inFlight)
  return acked
}

interface TaskView { id: string, state: string, compacted?: true, blocked?: unknown }

/** Every task a node lists, paging through compacted and live tasks alike (bounded pages). */
async function listAll (node: MeshNode): Promise<TaskView[]> {
  const all: TaskView[] = []
  let cursor: string | undefined
  for (let page = 0; page < 10_000; page++) {
    const body = await api<{ tasks: TaskView[], nextCursor?: string }>(node, 'GET', `/v1/tasks?limit=1000${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
    all.push(...body.tasks)
    cursor = body.nextCursor
    if (cursor === undefined) break
  }
  return all
}

/** Wait until every node lists `count` tasks (or holds the rest as expired summaries), all terminal and compacted (bounded). */
async function settle (nodes: MeshNode[], count: number, patienceMs: number, signal?: AbortSignal): Promise<void> {
  const terminal = new Set(['succeeded', 'failed', 'cancelled'])
  await until(async () => {
    signal?.throwIfAborted()
    for (const node of nodes) {
      const tasks = await listAll(node)
      const { expiredTasks } = await api<{ expiredTasks?: number }>(node, 'GET', '/v1/ledger/status')
      if (tasks.length + (expiredTasks ?? 0) < count || tasks.some(t => !terminal.has(t.state) || t.compacted !== true)) return undefined
    }
    return true
  }, patienceMs, 2000).catch(() => undefined)
}

async function endOf (node: MeshNode, acked: string[]): Promise<NodeEnd> {
  const unanswered: string[] = []
  for (let i = 0; i < acked.length; i += 16) {
    await Promise.all(acked.slice(i, i + 16).map(async id => {
      const view = await api<TaskView>(node, 'GET', `/v1/tasks/${id}`).catch(() => undefined)
      if (view?.id !== id || !['succeeded', 'failed', 'cancelled'].includes(view.state)) unanswered.push(id)
    }))
  }
  const tasks = (await listAll(node)).sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  // `blocked` is this node's own view of who could run a task: not part of the fold.
  const fold = createHash('sha256')
  for (const { blocked: _blocked, ...view } of tasks) fold.update(JSON.stringify(view) + '\n')
  const status = await api<{ versionVector: Record<string, number> }>(node, 'GET', '/v1/ledger/status')
  return {
    name: node.name,
    unanswered,
    notCompacted: tasks.filter(t => t.compacted !== true).length,
    foldDigest: fold.digest('hex'),
    versionVector: JSON.stringify(Object.entries(status.versionVector).sort()),
    final: await sample(node),
  }
}
