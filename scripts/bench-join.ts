/**
 * Join benchmark (issue 14): a new ledger made ready by snapshot (every summary, the
 * checkpoints, the live tail) vs by catching up on the full history, both in this run, on
 * real LevelDB, every summary / entry verified, states indexed. `npm run bench:join`
 * (`-- --tasks N --live M`; defaults 5,000 historical tasks, 1,000 live entries: about a
 * minute on a busy 2-core machine). The ledger side of a join only (no sockets:
 * `npm run bench:ledger` measures the wire); the 1,000,000-task figure is extrapolated
 * linearly from the measured N, and says so.
 *
 * Finding (first runs): a snapshot costs three signature checks per task (its proof) where
 * a full catch-up checks one per 500-entry run, so the ledger side of a snapshot join is not
 * faster than a full catch-up; it moves fewer bytes and stores less. Meeting 10 s for 1M
 * tasks needs a cheaper check of the summary set (e.g. a per-compaction digest of all
 * summaries, signed by the authors whose checkpoints cover them), not built yet.
 */
import '../base/polyfill.js'
import { join } from 'node:path'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { parseArgs } from 'node:util'
import { ClassicLevel } from 'classic-level'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { TaskLedger, consecutiveRuns, createEntrySigner, type Stored } from '../ledger/index.js'
import { LEDGER_VERSION, type Entry, type EntryType } from '../protocols/index.js'
import { silentLogger } from '../base/index.js'
import './bench/busy.js' // --busy: a standard CPU load beside this run (scripts/bench/busy.ts)

const { values } = parseArgs({ options: { tasks: { type: 'string', default: '5000' }, live: { type: 'string', default: '1000' } } })
const TASKS = Number(values.tasks)
const LIVE = Number(values.live)
const TARGET_TASKS = 1_000_000
const root = await mkdtemp(join(tmpdir(), 'gryphgen-bench-join-'))
const ledgers: Array<{ ledger: TaskLedger, db: ClassicLevel<string, string> }> = []

async function open (name: string): Promise<TaskLedger> {
  const key = await generateKeyPair('Ed25519')
  const db = new ClassicLevel<string, string>(join(root, name), { valueEncoding: 'utf8' })
  await db.open()
  const ledger = new TaskLedger({ db, privateKey: key, peerId: peerIdFromPrivateKey(key).toString(), logger: silentLogger() })
  await ledger.open()
  ledgers.push({ ledger, db })
  return ledger
}

async function chainOf (): Promise<{ peerId: string, add: (type: EntryType, task: string, body: Record<string, unknown>) => Entry }> {
  const key = await generateKeyPair('Ed25519')
  const sign = createEntrySigner(key)
  const peerId = peerIdFromPrivateKey(key).toString()
  let head: Stored | undefined
  let wall = Date.now() - 30 * 86_400_000
  return { peerId, add: (type, task, body) => { head = sign({ v: LEDGER_VERSION, author: peerId, seq: (head?.entry.seq ?? 0) + 1, prev: head?.id ?? null, hlc: { wall: wall++, logical: 0 }, type, task, body }); return head.entry } }
}

async function feed (ledger: TaskLedger, entries: readonly Entry[]): Promise<void> {
  for (const run of consecutiveRuns(entries)) for (let i = 0; i < run.length; i += 500) await ledger.receive(run.slice(i, i + 500))
  await ledger.whenIndexed(600_000)
}

try {
  // History: each task submitted and awarded by the auctioneer, started and finished by a worker.
  const [auctioneer, worker] = await Promise.all([chainOf(), chainOf()])
  const history: Entry[] = []
  for (let i = 0; i < TASKS; i++) {
    const task = `task-h${String(i).padStart(8, '0')}`
    history.push(auctioneer.add('submitted', task, { kind: 'noop', priority: 5, spec: {} }), auctioneer.add('awarded', task, { attempt: 1, node: worker.peerId, leaseMs: 5000 }))
    history.push(worker.add('started', task, { attempt: 1 }), worker.add('finished', task, { attempt: 1, outcome: 'succeeded', resultDigest: 'ab'.repeat(32), result: { ok: true } }))
  }
  const live = Array.from({ length: LIVE }, (_, i) => auctioneer.add('submitted', `task-l${String(i).padStart(8, '0')}`, { kind: 'noop', priority: 5, spec: {} }))
  const source = await open('source')
  await feed(source, [...history, ...live])
  const compacted = await source.retention.compact(Date.now() - 86_400_000)
  const summaries = (await source.store.summariesRaw('', TASKS + 1)).map(([, json]) => JSON.parse(json) as unknown)
  const checkpoints = [...source.retention.checkpoints.values()].map(c => c.entry)
  const tail = live

  let start = performance.now()
  const joiner = await open('snapshot')
  for (let i = 0; i < summaries.length; i += 500) await joiner.retention.receiveSummaries(summaries.slice(i, i + 500))
  await joiner.retention.receiveCheckpoints(checkpoints)
  await feed(joiner, tail)
  const snapshotMs = performance.now() - start

  start = performance.now()
  const full = await open('full')
  await feed(full, [...history, ...live])
  const fullMs = performance.now() - start

  const probe = [`task-h${String(TASKS - 1).padStart(8, '0')}`, `task-l${String(LIVE - 1).padStart(8, '0')}`]
  for (const id of probe) {
    const [a, b] = await Promise.all([joiner.task(id), full.task(id)])
    if (a?.state !== b?.state) throw new Error(`states differ for ${id}: ${a?.state} vs ${b?.state}`)
  }
  const perTask = snapshotMs / TASKS
  console.log(JSON.stringify({ tasks: TASKS, liveEntries: LIVE, compactedTasks: compacted.tasks, compactedEntries: compacted.entries }))
  console.log(`snapshot join: ${(snapshotMs / 1000).toFixed(2)} s; full-history catch-up: ${(fullMs / 1000).toFixed(2)} s; ratio ${(snapshotMs / fullMs).toFixed(2)} (lower is better)`)
  console.log(`extrapolated to ${TARGET_TASKS.toLocaleString('en')} compacted tasks + ${LIVE} live entries: snapshot ~${((perTask * TARGET_TASKS) / 1000).toFixed(0)} s (target <= 10 s), full history ~${((fullMs / TASKS * TARGET_TASKS) / 1000).toFixed(0)} s (linear in tasks; measured ${TASKS})`)
} finally {
  for (const { ledger, db } of ledgers) { await ledger.close(); await db.close() }
  await rm(root, { recursive: true, force: true })
}
