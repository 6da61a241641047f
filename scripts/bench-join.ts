/**
 * Join benchmark (issue 14). `npm run bench:join` (`-- --tasks N --live M --full-tasks F`;
 * defaults 20,000 compacted tasks (a few minutes on a busy 2-core machine), 10,000 live entries, full history measured at
 * min(N, 100,000) tasks). Target: N = 1,000,000 compacted + 10k live, joiner ready in <= 10 s.
 * `--ready-only` (for `node --cpu-prof`): stop once the joiner is ready (no backfill, no comparison, no baseline).
 *
 * Snapshot join, measured: node A holds N compacted tasks (4 entries each, all terminal,
 * by two authors whose chains are cut at checkpoints) and M live entries (its own pending
 * tasks); node B starts (in this process, real libp2p on 127.0.0.1) with A as bootstrap and
 * is ready when its version vector equals A's, its task index has caught up, and it holds
 * the N compacted tasks' state table rows (what lists, states and the recency index answer
 * from). Then, measured too, B's background backfill of the N full summaries; once it is
 * done, A's and B's task records, summaries, table rows, state and recency index keys are
 * compared, all of them.
 *
 * Full-history catch-up, the baseline: node C holds the uncompacted entries of the first F of
 * the same tasks plus M live entries; node D joins it the same way. When F < N its time is
 * extrapolated linearly to N (labelled so). D's folded states of the F tasks are compared
 * with B's.
 *
 * Fixture (not timed): the history is generated deterministically; for A, each task's summary
 * is made by the real `summarize` and written through A's own snapshot page path (bulk
 * LevelDB batches), so no 4M entries are applied one by one; only entries that some node
 * could check are signed: in A's fixture, the proof entries of the first F tasks (those the
 * full-history node C holds too); a join checks no proof signature (an audit would).
 */
import '../base/polyfill.js'
import { join } from 'node:path'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { parseArgs } from 'node:util'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { resolveConfig } from '../node/config/index.js'
import { GryphgenNode } from '../node/node.js'
import { newSwarmKeyHex, writeSwarmKey } from '../node/datadir/index.js'
import { silentLogger } from '../base/index.js'
import { consecutiveRuns, createEntrySigner, summarize, type Stored } from '../ledger/index.js'
import { canonicalJson, decodeSnapshotPage, encodeSummary, entryId, LEDGER_VERSION, SNAPSHOT_PAGE_SUMMARIES, type Entry, type EntryType, type UnsignedEntry } from '../protocols/index.js'
import './bench/busy.js' // --busy: a standard CPU load beside this run (scripts/bench/busy.ts)

const { values } = parseArgs({ options: { tasks: { type: 'string', default: '20000' }, live: { type: 'string', default: '10000' }, 'full-tasks': { type: 'string' }, 'ready-only': { type: 'boolean', default: false } } })
const TASKS = Number(values.tasks)
const LIVE = Number(values.live)
/** --ready-only (a profiling run): stop once the snapshot joiner is ready: no backfill, no comparison, no full-history baseline. */
const READY_ONLY = values['ready-only'] === true
/** 0: no full-history baseline (a profiling run). */
const FULL = Math.min(TASKS, Number(values['full-tasks'] ?? 100_000))
const READY_TIMEOUT_MS = 30 * 60_000
const root = await mkdtemp(join(tmpdir(), 'gryphgen-bench-join-'))
const nodes: GryphgenNode[] = []
const sleep = async (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
const taskId = (i: number): string => `task-h${String(i).padStart(8, '0')}`
const log = (line: string): void => { process.stdout.write(line + '\n') }

async function startNode (name: string, psk: string, bootstrap: string[] = []): Promise<GryphgenNode> {
  const dataDir = join(root, name)
  await mkdir(dataDir, { recursive: true })
  await writeSwarmKey(dataDir, psk)
  const config = resolveConfig({ dataDir, file: { path: 'bench', text: JSON.stringify({ listen: ['/ip4/127.0.0.1/tcp/0'], apiPort: 0, mdns: false, bootstrap, logLevel: 'silent', workers: { exec: { size: 0 }, model: { size: 0 } } }) } })
  const node = new GryphgenNode({ config, logger: silentLogger() })
  await node.start()
  nodes.push(node)
  return node
}

/** The two fixture authors: an auctioneer (submits, awards) and a worker (starts, finishes). Same keys, same chains, every call. */
const keys = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')])
const WALL0 = Date.now() - 90 * 86_400_000
function history (signAll: boolean, signed = (_i: number): boolean => true): { next: (i: number) => Stored[], heads: () => Entry[] } {
  const authors = keys.map(key => ({ peerId: peerIdFromPrivateKey(key).toString(), sign: createEntrySigner(key), head: undefined as Stored | undefined }))
  const [auctioneer, worker] = authors
  let wall = WALL0
  const add = (a: typeof auctioneer, type: EntryType, task: string, body: Record<string, unknown>, sign: boolean): Stored => {
    const unsigned: UnsignedEntry = { v: LEDGER_VERSION, author: a.peerId, seq: (a.head?.entry.seq ?? 0) + 1, prev: a.head?.id ?? null, hlc: { wall: wall++, logical: 0 }, type, task, body }
    a.head = sign ? a.sign(unsigned) : { id: entryId(unsigned), entry: { ...unsigned, sig: 'A'.repeat(86) } }
    return a.head
  }
  return {
    next: i => {
      const task = taskId(i)
      const sign = signed(i)
      return [
        add(auctioneer, 'submitted', task, { kind: 'ledger-bench', priority: 5, spec: { i } }, sign),
        add(auctioneer, 'awarded', task, { attempt: 1, node: worker.peerId, leaseMs: 5000, epoch: 1 }, sign),
        add(worker, 'started', task, { attempt: 1 }, signAll),
        add(worker, 'finished', task, { attempt: 1, outcome: 'succeeded', resultDigest: 'ab'.repeat(32), result: { ok: true, i } }, sign),
      ]
    },
    heads: () => authors.map(a => (a.head as Stored).entry),
  }
}

/** A: N compacted tasks, written as summaries through its own page path, then the checkpoints. */
async function fillCompacted (node: GryphgenNode): Promise<void> {
  const gen = history(false, i => i < FULL || i === TASKS - 1) // the last task's entries are the checkpoints
  const self = (signer: string): boolean => signer === node.peerId
  for (let i = 0; i < TASKS;) {
    const page: string[] = []
    for (; i < TASKS && page.length < SNAPSHOT_PAGE_SUMMARIES; i++) page.push(encodeSummary(summarize(gen.next(i)) as NonNullable<ReturnType<typeof summarize>>))
    await node.ledger.retention.receivePage(decodeSnapshotPage(node.ledger.retention.signPage(page)), self)
  }
  await node.ledger.retention.receiveCheckpoints(gen.heads())
}

/** C: the uncompacted history of the first F tasks, applied in runs of 500 as a sync would. */
async function fillFull (node: GryphgenNode): Promise<void> {
  const gen = history(true)
  for (let i = 0; i < FULL; i += 1000) {
    const entries: Entry[] = []
    for (let j = i; j < Math.min(FULL, i + 1000); j++) entries.push(...gen.next(j).map(s => s.entry))
    for (const run of consecutiveRuns(entries)) for (let k = 0; k < run.length; k += 500) await node.ledger.receive(run.slice(k, k + 500))
  }
}

/** M live entries: the node's own pending tasks (a kind no node runs), appended 64 at a time. */
async function appendLive (node: GryphgenNode): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < LIVE) {
      const i = next++
      await node.ledger.append('submitted', `task-l${String(i).padStart(8, '0')}`, { kind: 'ledger-bench', priority: 5, spec: { i } })
    }
  }))
}

/** Start a node that joins `source`; resolves with the ms from its start to ready (same heads, all indexed, `compacted` tasks held: table rows or summaries). */
async function joinNode (name: string, psk: string, source: GryphgenNode, compacted: number): Promise<{ node: GryphgenNode, ms: number, startMs: number, t0: number, cpuMs: number, window: string }> {
  const want = JSON.stringify(source.ledger.versionVector())
  const [from, cpu0] = [process.hrtime.bigint() / 1000n, process.cpuUsage()]
  const t0 = performance.now()
  const node = await startNode(name, psk, source.addresses())
  const startMs = performance.now() - t0
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (;;) {
    if (JSON.stringify(node.ledger.versionVector()) === want && node.ledger.indexedCount() === node.ledger.entryCount() && (await node.ledger.retention.totals()).tasks === compacted) break
    if (Date.now() > deadline) throw new Error(`${name} not ready after ${READY_TIMEOUT_MS} ms`)
    await sleep(20)
  }
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  return { node, ms, startMs, t0, cpuMs: (cpu.user + cpu.system) / 1000, window: `${from} ${process.hrtime.bigint() / 1000n}` }
}

/** Resolves with the ms from `t0` until `node` holds `count` full summaries (its backfill after a table join). */
async function backfilled (node: GryphgenNode, count: number, t0: number): Promise<number> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (node.ledgerSync.summaries.stats.summariesFetched < count) {
    if (process.env.BENCH_DEBUG !== undefined) log(JSON.stringify(node.ledgerSync.summaries.stats))
    if (Date.now() > deadline) throw new Error(`backfill not done after ${READY_TIMEOUT_MS} ms`)
    await sleep(20)
  }
  return performance.now() - t0
}

async function * rows (node: GryphgenNode, gt: string, lt: string): AsyncGenerator<[string, string]> {
  const iterator = node.ledger.store.db.iterator({ gt, lt })
  try {
    for (let batch = await iterator.nextv(2000); batch.length > 0; batch = await iterator.nextv(2000)) yield * batch
  } finally {
    await iterator.close()
  }
}

/** Compare two nodes' values in a key range, all of them, merged by key; resolves with [compared, differing]. */
async function compare (a: GryphgenNode, b: GryphgenNode, gt: string, lt: string, pick = (v: string): string => v): Promise<[number, number]> {
  const [ia, ib] = [rows(a, gt, lt), rows(b, gt, lt)]
  let [x, y] = await Promise.all([ia.next(), ib.next()])
  let compared = 0
  let differing = 0
  while (x.done !== true || y.done !== true) {
    compared++
    const [kx, ky] = [x.done === true ? undefined : x.value[0], y.done === true ? undefined : y.value[0]]
    const same = kx === ky && pick((x.value as [string, string])[1]) === pick((y.value as [string, string])[1])
    if (!same) {
      differing++
      if (differing === 1 && process.env.BENCH_DEBUG !== undefined) log(`first difference: ${kx} vs ${ky}`)
    }
    if (ky === undefined || (kx !== undefined && kx <= ky)) x = await ia.next()
    if (kx === undefined || (ky !== undefined && ky <= (kx ?? ''))) y = await ib.next()
  }
  return [compared, differing]
}

/** Compare the folded states of tasks 0..count-1 as the two nodes answer them (less the `compacted` mark); resolves with [compared, differing]. */
async function sameStates (a: GryphgenNode, b: GryphgenNode, count: number): Promise<[number, number]> {
  const fold = (s: Awaited<ReturnType<GryphgenNode['ledger']['task']>>): string => { if (s === undefined) return 'none'; const { compacted: _c, ...rest } = s; return canonicalJson(rest) }
  let differing = 0
  for (let i = 0; i < count; i += 256) {
    const ids = Array.from({ length: Math.min(256, count - i) }, (_, j) => taskId(i + j))
    const [x, y] = await Promise.all([Promise.all(ids.map(async id => a.ledger.task(id))), Promise.all(ids.map(async id => b.ledger.task(id)))])
    x.forEach((s, j) => { if (fold(s) !== fold(y[j])) differing++ })
  }
  return [count, differing]
}

/** Ends a --ready-only run once the joiner is ready (the nodes are stopped and the data removed as after a full run). */
class ReadyOnly extends Error {}

try {
  let t = performance.now()
  const snapshotPsk = newSwarmKeyHex()
  const a = await startNode('a', snapshotPsk)
  await fillCompacted(a)
  await appendLive(a)
  log(`fixture: node A holds ${TASKS.toLocaleString('en')} compacted tasks + ${LIVE.toLocaleString('en')} live entries (${((performance.now() - t) / 1000).toFixed(1)} s, not timed)`)
  const snap = await joinNode('b', snapshotPsk, a, TASKS)
  log(`snapshot join: ${(snap.ms / 1000).toFixed(2)} s from the joiner's start to ready (node start ${(snap.startMs / 1000).toFixed(2)} s), ${(snap.ms / TASKS * 1000).toFixed(1)} µs per compacted task; target <= 10 s at 1,000,000`)
  log(`  CPU of this process (joiner and source together) meanwhile: ${(snap.cpuMs / 1000).toFixed(2)} s; load average ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}; profile window (cpu-profile.ts DIR ${TASKS} FROM TO): ${snap.window}`)
  if (READY_ONLY) throw new ReadyOnly()
  const filledMs = await backfilled(snap.node, TASKS, snap.t0)
  log(`background backfill: all ${TASKS.toLocaleString('en')} full summaries held ${(filledMs / 1000).toFixed(2)} s from the joiner's start (${((filledMs - snap.ms) / 1000).toFixed(2)} s after ready)`)
  // Compacted tasks are their summaries and state table rows (compared byte for byte); L:task holds the live ones.
  const ranges = ['L:task:', 'L:summary:', 'L:table:', 'L:state:', 'L:recent:']
  const compared = await Promise.all(ranges.map(async r => compare(a, snap.node, r, r.slice(0, -1) + ';')))
  const differ = compared.reduce((n, [, d]) => n + d, 0)
  log(`folds identical (joiner vs source): ${differ === 0 ? 'yes' : 'NO'} (${ranges.map((r, i) => `${compared[i][0].toLocaleString('en')} ${r}`).join(', ')}; ${differ} differ)`)
  await a.stop()
  if (FULL > 0) {

    t = performance.now()
    const fullPsk = newSwarmKeyHex()
    const c = await startNode('c', fullPsk)
    const hold = c.ledger.deferIndexing() // C only serves its log; its own task index is not what is measured
    await fillFull(c)
    await appendLive(c)
    hold()
    log(`fixture: node C holds the full history of ${FULL.toLocaleString('en')} tasks (${(FULL * 4).toLocaleString('en')} entries) + ${LIVE.toLocaleString('en')} live entries (${((performance.now() - t) / 1000).toFixed(1)} s, not timed)`)
    const full = await joinNode('d', fullPsk, c, 0)
    const same = await sameStates(snap.node, full.node, FULL)
    const fullAtN = full.ms * TASKS / FULL
    log(`full-history catch-up: ${(full.ms / 1000).toFixed(2)} s measured at ${FULL.toLocaleString('en')} tasks${FULL < TASKS ? `; extrapolated linearly to ${TASKS.toLocaleString('en')} tasks: ~${(fullAtN / 1000).toFixed(1)} s (EXTRAPOLATED)` : ''}`)
    log(`folds identical (snapshot joiner vs full-history joiner, ${same[0].toLocaleString('en')} tasks): ${same[1] === 0 ? 'yes' : `NO (${same[1]} differ)`}`)
    log(`ratio snapshot / full history at ${TASKS.toLocaleString('en')} tasks: ${(snap.ms / fullAtN).toFixed(3)} (${(fullAtN / snap.ms).toFixed(1)}x faster; lower is better)`)
  }
} catch (err) {
  if (!(err instanceof ReadyOnly)) throw err
} finally {
  for (const n of nodes) await n.stop().catch(() => {})
  await rm(root, { recursive: true, force: true })
}
