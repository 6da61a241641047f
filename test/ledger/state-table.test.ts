/**
 * Joining on a state table (ledger/table.ts): a node takes signed pages of rows (task ->
 * state, digest of its summary) and answers states and lists from them at once; the full
 * summaries come after, each accepted only if it hashes to its row's digest.
 */
import { afterEach, describe, expect, test } from 'vitest'
import { P, END } from '../../ledger/store.js'
import { decodeSnapshotPage, decodeTablePage, encodeTablePage, type TablePage } from '../../protocols/index.js'
import { openLedger, closeAllLedgers, type TestLedger } from '../helpers/ledgers.js'
import { logged, twoReplicas } from '../helpers/compaction.js'
import { removeTempDirs } from '../helpers/nodes.js'

afterEach(async () => {
  await closeAllLedgers()
  await removeTempDirs()
})

const FUTURE = () => Date.now() + 60_000
const range = async (t: TestLedger, prefix: string) => t.db.iterator({ gt: prefix, lt: prefix + END }).all()
const rowsOf = async (t: TestLedger) => (await range(t, P.table)).map(([k, v]) => [k.slice(P.table.length), v] as [string, string])
const tableOf = async (t: TestLedger) => decodeTablePage(t.ledger.retention.signTable(await rowsOf(t)))
const summaryPageOf = async (t: TestLedger, change = (json: string) => json) => decodeSnapshotPage(t.ledger.retention.signPage((await range(t, P.summary)).map(([, v]) => change(v))))
const only = (peerId: string) => (signer: string) => signer === peerId
const states = async (t: TestLedger, tasks: string[]) => Promise.all(tasks.map(async id => t.ledger.task(id)))

/** A with 4 of 6 tasks compacted, and a new ledger C. */
async function compactedAndNew (): Promise<{ a: TestLedger, c: TestLedger, tasks: string[] }> {
  const { a, tasks } = await twoReplicas()
  expect((await a.ledger.retention.compact(FUTURE())).tasks).toBe(4)
  return { a, c: await openLedger(), tasks }
}

describe('state table join', () => {
  test('rows make a new node answer states and lists at once; the summaries that hash to them complete it', async () => {
    const { a, c, tasks } = await compactedAndNew()
    expect(await rowsOf(a)).toHaveLength(4)
    expect(await c.ledger.retention.receiveTablePage(await tableOf(a), only(a.peerId))).toBe(4)
    expect(await c.ledger.retention.receiveCheckpoints([...a.ledger.retention.checkpoints.values()].map(s => s.entry))).toBe(2)
    expect(await c.ledger.receive(await logged(a))).toEqual(['applied', 'applied'])
    await c.ledger.whenIndexed()
    // No summary yet (and no peer to fetch it from): states, kinds and times from the rows.
    const partial = await states(c, tasks.slice(0, 4))
    const full = await states(a, tasks.slice(0, 4))
    partial.forEach((s, i) => expect(s).toMatchObject({ partial: true, compacted: true, state: full[i]?.state, kind: full[i]?.kind, submittedAt: full[i]?.submittedAt, updatedAt: full[i]?.updatedAt }))
    expect((await c.ledger.recentTasks()).map(s => s.id)).toEqual((await a.ledger.recentTasks()).map(s => s.id))
    expect((await c.ledger.tasksByState('succeeded')).map(s => s.id)).toEqual((await a.ledger.tasksByState('succeeded')).map(s => s.id))
    expect(await c.ledger.retention.totals()).toMatchObject({ tasks: 4 })
    // The summaries: every key range now equal to A's, the totals unchanged.
    expect(await c.ledger.retention.receiveSummaries(await summaryPageOf(a), only(a.peerId))).toEqual({ applied: 4, last: tasks[3] })
    expect(await states(c, tasks)).toEqual(await states(a, tasks))
    for (const prefix of [P.summary, P.table, P.state, P.recent, P.task]) expect(await range(c, prefix)).toEqual(await range(a, prefix))
    expect(await c.ledger.retention.totals()).toMatchObject({ tasks: 4 })
    // The same table again changes nothing.
    expect(await c.ledger.retention.receiveTablePage(await tableOf(a), only(a.peerId))).toBe(0)
  })

  test('a table page is rejected whole, nothing of it written: a row altered, a forged signature, a non-member signer, a malformed row', async () => {
    const { a, c } = await compactedAndNew()
    const stranger = await openLedger()
    const page = await tableOf(a)
    const rows = await rowsOf(a)
    const nothingWritten = async () => {
      for (const prefix of [P.table, P.state, P.recent]) expect(await range(c, prefix)).toEqual([])
      expect(await c.ledger.task('task-0000')).toBeUndefined()
      expect(await c.ledger.retention.totals()).toMatchObject({ tasks: 0 })
    }
    const attempt = async (forged: TablePage) => {
      await expect(c.ledger.retention.receiveTablePage(forged, only(a.peerId))).rejects.toMatchObject({ name: 'InvalidMessageError' })
      await nothingWritten()
    }
    // A row altered after A signed: a failed task shown as succeeded.
    const flipped = rows.map(([task, value]): [string, string] => [task, value.replace(' failed ', ' succeeded ')])
    expect(flipped).not.toEqual(rows)
    await attempt(decodeTablePage(encodeTablePage(flipped, () => page.sig, a.peerId)))
    // A signature that is not A's over this page: the stranger's, presented as A's.
    await attempt({ ...page, sig: decodeTablePage(stranger.ledger.retention.signTable(rows)).sig })
    // A correctly signed page whose signer is not a member C trusts.
    await attempt(decodeTablePage(stranger.ledger.retention.signTable(rows)))
    // Correctly signed by A, but a row that is not a row (a state that is not terminal), and rows out of order.
    await attempt(decodeTablePage(a.ledger.retention.signTable(rows.map(([task, value], i): [string, string] => [task, i === 0 ? value.replace(/ (succeeded|failed) /, ' running ') : value]))))
    await attempt(decodeTablePage(a.ledger.retention.signTable([...rows].reverse())))
    // The untouched page goes in.
    expect(await c.ledger.retention.receiveTablePage(page, only(a.peerId))).toBe(4)
  })

  test('a summary whose bytes do not hash to its row is rejected, with its whole page, even signed by a member', async () => {
    const { a, c, tasks } = await compactedAndNew()
    await c.ledger.retention.receiveTablePage(await tableOf(a), only(a.peerId))
    // A changes a result in one summary and signs the page itself: the signature holds, the digest does not.
    const altered = await summaryPageOf(a, json => json.replaceAll('"result":{"i":3}', '"result":{"i":42}'))
    await expect(c.ledger.retention.receiveSummaries(altered, only(a.peerId))).rejects.toMatchObject({ name: 'InvalidMessageError' })
    expect(await range(c, P.summary)).toEqual([])
    expect(await c.ledger.task(tasks[0])).toMatchObject({ partial: true })
    // Summaries of the same task ids from another history (another mesh) are not taken either.
    const stranger = await compactedAndNew()
    await expect(c.ledger.retention.receiveSummaries(await summaryPageOf(stranger.a), only(stranger.a.peerId))).rejects.toMatchObject({ name: 'InvalidMessageError' })
    expect(await range(c, P.summary)).toEqual([])
    expect((await c.ledger.retention.receiveSummaries(await summaryPageOf(a), only(a.peerId))).applied).toBe(4)
  })
})
