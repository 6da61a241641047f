/**
 * Data dir format 1 → 2 → 3 → 4: a ledger written by format 1 (test/fixtures/datadir-format-1, made
 * by an earlier build: 4 compacted tasks whose summaries sit in their task records and under
 * L:summary, a late entry on one of them, 2 live tasks) is migrated in place: each summary is
 * then stored once, with its state table row, as a format-2 summary (each output once), and every
 * task answers with the state it had before.
 */
import { cp, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, test } from 'vitest'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { P, END } from '../../ledger/store.js'
import { decodeTableRow, encodeSummary, summaryDigest, validateSummary } from '../../protocols/index.js'
import { upgradeSummary, verifySummary, type Summary } from '../../ledger/summary.js'
import { ensureDataDirFormat, readDataDirFormat } from '../../node/datadir/index.js'
import { openLedger, closeAllLedgers } from '../helpers/ledgers.js'
import { removeTempDirs, tempDir } from '../helpers/nodes.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/datadir-format-1', import.meta.url))

afterEach(async () => {
  await closeAllLedgers()
  await removeTempDirs()
})

describe('data dir formats 2, 3 and 4: summaries stored once, with their state table rows, each output once', () => {
  test('a format-1 ledger with summaries stored twice is migrated and answers the same states', async () => {
    const dir = join(await tempDir('gryphgen-format1-'), 'data')
    await cp(FIXTURE, dir, { recursive: true })
    const expected = JSON.parse(await readFile(join(dir, 'expected-states.json'), 'utf8')) as Record<string, unknown>
    expect(await readDataDirFormat(dir)).toBe(1)
    expect(await ensureDataDirFormat(dir, 'test')).toMatchObject({ found: 1, format: 4, migrated: true })
    // Idempotent: a second open finds format 4 and changes nothing.
    expect(await ensureDataDirFormat(dir, 'test')).toMatchObject({ found: 4, migrated: false })
    const t = await openLedger({ path: join(dir, 'db'), key: privateKeyFromProtobuf(await readFile(join(dir, 'identity.key'))) })
    const records = await t.db.iterator({ gt: P.task, lt: P.task + END }).all()
    // Live tasks 4 and 5, and task 1 (its late feedback entry on top of its summary); none embeds a summary.
    expect(records.map(([k]) => k.slice(P.task.length))).toEqual(['task-0001', 'task-0004', 'task-0005'])
    for (const [, value] of records) expect(JSON.parse(value)).not.toHaveProperty('summary')
    expect(JSON.parse(records[0][1])).toMatchObject({ summarized: true })
    const summaries = await t.db.iterator({ gt: P.summary, lt: P.summary + END }).all()
    expect(summaries.length).toBe(4)
    // 3 → 4: every summary is format 2, and as summarize writes it now (the upgrade is idempotent).
    for (const [, json] of summaries) {
      const summary = JSON.parse(json) as Summary
      expect(summary.v).toBe(2)
      expect(encodeSummary(upgradeSummary(summary))).toBe(json)
      expect(verifySummary(validateSummary(summary)).task).toBe(summary.task)
    }
    // 2 → 3: each summary has its state table row, naming its digest (what a joiner is sent).
    const rows = await t.db.iterator({ gt: P.table, lt: P.table + END }).all()
    expect(rows.map(([k, v]) => [k.slice(P.table.length), decodeTableRow(v).digest])).toEqual(summaries.map(([k, json]) => [k.slice(P.summary.length), summaryDigest(json)]))
    for (const [id, state] of Object.entries(expected)) expect(await t.ledger.task(id)).toEqual(state)
    expect((await t.ledger.history('task-0001'))?.map(s => s.entry.type)).toEqual(['feedback'])
    expect((await t.ledger.tasksByState('succeeded')).map(s => s.id).sort()).toEqual(['task-0000', 'task-0001', 'task-0003'])
  })
})
