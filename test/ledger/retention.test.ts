import { afterEach, describe, expect, test } from 'vitest'
import type { Entry } from '../../protocols/index.js'
import { P, END } from '../../ledger/store.js'
import { verifySummary } from '../../ledger/index.js'
import { decodeSnapshotPage, encodeSnapshotPage } from '../../protocols/index.js'
import { openLedger, closeLedger, closeAllLedgers, type TestLedger } from '../helpers/ledgers.js'
import { ids, logged, twoReplicas } from '../helpers/compaction.js'
import { removeTempDirs } from '../helpers/nodes.js'

afterEach(async () => {
  await closeAllLedgers()
  await removeTempDirs()
})

const FUTURE = () => Date.now() + 60_000

const summaries = async (t: TestLedger) => t.db.iterator({ gt: P.summary, lt: P.summary + END }).all()
const states = async (t: TestLedger, tasks: string[]) => Promise.all(tasks.map(async id => t.ledger.task(id)))
const withoutFlag = <T extends { compacted?: true } | undefined>(s: T) => { if (s === undefined) return s; const { compacted: _c, ...rest } = s; return rest }

describe('ledger compaction', () => {
  test('two replicas compact independently and agree byte for byte; live tasks keep their entries; states are unchanged', async () => {
    const { a, b, tasks } = await twoReplicas()
    const before = await states(a, tasks)
    const [ra, rb] = await Promise.all([a.ledger.retention.compact(FUTURE()), b.ledger.retention.compact(FUTURE())])
    // A's chain: the awards of tasks 4 and 5 (running) stop its cut at task 3; B's: its start of task 4.
    expect(ra.tasks).toBe(4)
    expect(rb.tasks).toBe(4)
    expect(await summaries(a)).toEqual(await summaries(b))
    expect((await summaries(a)).map(([k]) => k.slice(P.summary.length))).toEqual(tasks.slice(0, 4))
    expect(Object.fromEntries([...a.ledger.retention.checkpoints].map(([k, v]) => [k, v.entry.seq]))).toEqual({ [a.peerId]: 8, [b.peerId]: 8 })
    expect(Object.fromEntries([...b.ledger.retention.checkpoints].map(([k, v]) => [k, v.id]))).toEqual(Object.fromEntries([...a.ledger.retention.checkpoints].map(([k, v]) => [k, v.id])))
    expect((await logged(a)).map(e => e.task).sort()).toEqual(['task-0004', 'task-0004', 'task-0005', 'task-0005', 'task-0004', 'task-0005'].sort())
    const after = await states(a, tasks)
    expect(after.map(withoutFlag)).toEqual(before)
    expect(after.map(s => s?.compacted === true)).toEqual([true, true, true, true, false, false])
    expect(await states(b, tasks)).toEqual(after)
    // Each summary is stored once: a compacted task keeps no task record of its own.
    expect((await a.db.keys({ gt: P.task, lt: P.task + END }).all()).map(k => k.slice(P.task.length))).toEqual(['task-0004', 'task-0005'])
    expect((await a.ledger.history('task-0001'))).toEqual([])
    expect((await a.ledger.tasksByState('succeeded')).map(s => s.id).sort()).toEqual(['task-0000', 'task-0001', 'task-0003'])
    expect(await a.ledger.retention.totals()).toMatchObject({ tasks: 4, entries: 16 })
    // A second run finds nothing new.
    expect(await a.ledger.retention.compact(FUTURE())).toMatchObject({ tasks: 0, entries: 0 })
  })

  test('nothing at or after the horizon is compacted; 0 tasks when the horizon is in the past', async () => {
    const { a } = await twoReplicas()
    expect(await a.ledger.retention.compact(0)).toMatchObject({ tasks: 0, entries: 0 })
    expect((await summaries(a)).length).toBe(0)
  })

  test('entries after a checkpoint still verify and apply, across a restart; replays of compacted entries are duplicates', async () => {
    const { a, b, tasks } = await twoReplicas()
    const old = await logged(a)
    const compactedEntries = (await a.ledger.store.range(a.peerId, 1, 8, 100)).map(s => s.entry)
    expect(compactedEntries.length).toBe(8)
    await Promise.all([a.ledger.retention.compact(FUTURE()), b.ledger.retention.compact(FUTURE())])
    await closeLedger(a)
    const again = await openLedger({ path: a.path, key: a.key })
    expect(again.ledger.retention.checkpoints.get(a.peerId)?.entry.seq).toBe(8)
    const next = await again.ledger.append('cancelled', 'task-0004', { reason: 'after compaction' })
    expect(next.entry.seq).toBe(13)
    expect(await b.ledger.receive([next.entry])).toEqual(['applied'])
    await b.ledger.whenIndexed()
    expect((await b.ledger.task('task-0004'))?.state).toBe('cancelled')
    expect(await b.ledger.receive(compactedEntries)).toEqual(['duplicate'])
    expect(await b.ledger.receive(old.filter(e => e.author === a.peerId))).toEqual(['duplicate'])
    expect(b.ledger.equivocators).toEqual([])
    expect((await again.ledger.task(tasks[0]))?.compacted).toBe(true)
  })

  test('a late entry for a compacted task folds on top of its summary, and the next compaction covers it', async () => {
    const { a, b } = await twoReplicas()
    const attempts = (await a.ledger.task('task-0001'))?.attempts
    expect(attempts?.[0].result).toEqual({ i: 1 })
    await Promise.all([a.ledger.retention.compact(FUTURE()), b.ledger.retention.compact(FUTURE())])
    const late = await b.ledger.append('feedback', 'task-0001', { verdict: 'accept', note: 'good' })
    expect(await a.ledger.receive([late.entry])).toEqual(['applied'])
    await a.ledger.whenIndexed()
    const state = await a.ledger.task('task-0001')
    expect(state).toMatchObject({ state: 'succeeded', compacted: true, feedback: [{ verdict: 'accept', note: 'good' }] })
    // Folded on top of the summary's whole state: the deciding result (held once, in its proof) is still there.
    expect(state?.attempts).toEqual(attempts)
    expect((await a.ledger.history('task-0001'))?.map(s => s.entry.type)).toEqual(['feedback'])
    // Its record holds the late entry and the state folded on top, not the summary again.
    const record = JSON.parse(await a.db.get(P.task + 'task-0001') ?? 'null') as Record<string, unknown>
    expect(record).toMatchObject({ summarized: true, entries: [{ entry: { type: 'feedback' } }] })
    expect(record).not.toHaveProperty('summary')
    // B's chain is blocked by its own start of task-0004 (running): the feedback stays a live entry.
    await Promise.all([a.ledger.retention.compact(FUTURE()), b.ledger.retention.compact(FUTURE())])
    expect(await a.ledger.task('task-0001')).toEqual(state)
    expect(await summaries(a)).toEqual(await summaries(b))
  })
})

describe('summary expiry (ledger.retention.summariesMs)', () => {
  test('summaries last changed before the horizon go; the task answers by id, compacted and expired, from a tombstone', async () => {
    const { a, b, tasks } = await twoReplicas()
    await Promise.all([a.ledger.retention.compact(FUTURE()), b.ledger.retention.compact(FUTURE())])
    const late = await b.ledger.append('feedback', 'task-0001', { verdict: 'accept' })
    expect(await a.ledger.receive([late.entry])).toEqual(['applied'])
    await a.ledger.whenIndexed()
    const before = await states(a, tasks)
    expect(await a.ledger.retention.expire(0)).toBe(0)
    // Task 1 has an entry after its summary (a task record): it stays until a compaction folds it in.
    expect(await a.ledger.retention.expire(FUTURE())).toBe(3)
    expect((await summaries(a)).map(([k]) => k.slice(P.summary.length))).toEqual(['task-0001'])
    const after = await states(a, tasks)
    for (const i of [0, 2, 3]) {
      expect(after[i]).toMatchObject({ id: tasks[i], state: before[i]?.state, kind: 'noop', submittedAt: before[i]?.submittedAt, updatedAt: before[i]?.updatedAt, compacted: true, expired: true })
      expect(after[i]?.attempts).toEqual([])
    }
    expect(after[1]).toEqual(before[1])
    expect(after.slice(4)).toEqual(before.slice(4))
    expect((await a.ledger.tasksByState('succeeded')).map(s => s.id)).toEqual(['task-0001'])
    expect((await a.ledger.recentTasks()).map(s => s.id).sort()).toEqual(['task-0001', 'task-0004', 'task-0005'])
    expect(await a.ledger.retention.totals()).toMatchObject({ tasks: 4, expired: 3 })
    expect(await a.ledger.retention.expire(FUTURE())).toBe(0)
  })
})

describe('snapshot join', () => {
  /** A's stored summaries as a page A signs (what its sync server sends). */
  const jsonsOf = async (t: TestLedger) => (await summaries(t)).map(([, v]) => v)
  const pageOf = async (t: TestLedger) => decodeSnapshotPage(t.ledger.retention.signPage(await jsonsOf(t)))
  const only = (peerId: string) => (signer: string) => signer === peerId

  test('a new node takes the summaries, checkpoints and live tail and derives the same states', async () => {
    const { a, b, tasks } = await twoReplicas()
    await a.ledger.retention.compact(FUTURE())
    const c = await openLedger()
    const page = await pageOf(a)
    expect(await c.ledger.retention.receivePage(page, only(a.peerId))).toBe(4)
    expect(await c.ledger.retention.receiveCheckpoints([...a.ledger.retention.checkpoints.values()].map(s => s.entry))).toBe(2)
    expect(await c.ledger.receive(await logged(a))).toEqual(['applied', 'applied'])
    await c.ledger.whenIndexed()
    expect(await states(c, tasks)).toEqual(await states(a, tasks))
    expect(c.ledger.versionVector()).toEqual(a.ledger.versionVector())
    expect(await summaries(c)).toEqual(await summaries(a))
    expect(await c.ledger.retention.totals()).toMatchObject({ tasks: 4 })
    // The per-summary proofs came along: an audit can still check every one.
    for (const [, json] of await summaries(c)) expect(() => verifySummary(JSON.parse(json))).not.toThrow()
    // Later entries chain on: B finishes a running task, C applies it.
    const done = await b.ledger.append('finished', 'task-0005', { attempt: 1, outcome: 'succeeded' })
    expect(await c.ledger.receive([done.entry])).toEqual(['applied'])
    await c.ledger.whenIndexed()
    expect((await c.ledger.task('task-0005'))?.state).toBe('succeeded')
    // Applying the same snapshot again changes nothing.
    expect(await c.ledger.retention.receivePage(page, only(a.peerId))).toBe(0)
    expect(await c.ledger.retention.receiveCheckpoints([...a.ledger.retention.checkpoints.values()].map(s => s.entry))).toBe(0)
  })

  test('a page is rejected whole, nothing of it written: a summary altered inside it, a forged signature, a non-member signer', async () => {
    const { a } = await twoReplicas()
    await a.ledger.retention.compact(FUTURE())
    const c = await openLedger()
    const stranger = await openLedger()
    const page = await pageOf(a)
    const jsons = await jsonsOf(a)
    const nothingWritten = async () => {
      expect((await summaries(c)).length).toBe(0)
      expect(await c.ledger.task('task-0000')).toBeUndefined()
      expect(await c.ledger.retention.totals()).toMatchObject({ tasks: 0 })
    }
    // A summary altered after A signed: its result changed (the state still agrees with nothing A vouched for).
    const changed = jsons.map((json, i) => i === 3 ? json.replaceAll('"result":{"i":3}', '"result":{"i":42}') : json)
    expect(changed[3]).not.toBe(jsons[3])
    const altered = decodeSnapshotPage(encodeSnapshotPage(changed, () => page.sig, a.peerId))
    await expect(c.ledger.retention.receivePage(altered, only(a.peerId))).rejects.toMatchObject({ name: 'InvalidMessageError' })
    await nothingWritten()
    // A signature that is not A's over this page: the stranger's, presented as A's.
    const forged = { ...page, sig: decodeSnapshotPage(stranger.ledger.retention.signPage(jsons)).sig }
    await expect(c.ledger.retention.receivePage(forged, only(a.peerId))).rejects.toMatchObject({ name: 'InvalidMessageError' })
    await nothingWritten()
    // A correctly signed page whose signer is not a member C trusts.
    const foreign = decodeSnapshotPage(stranger.ledger.retention.signPage(jsons))
    await expect(c.ledger.retention.receivePage(foreign, only(a.peerId))).rejects.toMatchObject({ name: 'InvalidMessageError' })
    await nothingWritten()
    // The untouched page goes in.
    expect(await c.ledger.retention.receivePage(page, only(a.peerId))).toBe(4)
    const checkpoint = structuredClone([...a.ledger.retention.checkpoints.values()][0].entry)
    checkpoint.seq += 1000
    await expect(c.ledger.retention.receiveCheckpoints([checkpoint])).rejects.toMatchObject({ name: 'InvalidMessageError' })
    expect(c.ledger.versionVector()).toEqual({})
  })
})
