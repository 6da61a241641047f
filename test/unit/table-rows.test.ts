/**
 * State table pages (protocols/snapshot-table.ts), pure: what tableRows takes and what it
 * refuses, byte by byte (the signature is checked elsewhere: test/ledger/state-table.test.ts).
 */
import { describe, expect, test } from 'vitest'
import { decodeTablePage, encodeTablePage, tableRows } from '../../protocols/index.js'

const DIGEST = 'A'.repeat(43)
const row = (task: string, state = 'succeeded', kind = 'exec'): [string, string] => [task, `${DIGEST} ${state} 1700000000000 170000000000000.0000001 ${kind}`]
const pageOf = (rows: Array<[string, string]>) => decodeTablePage(encodeTablePage(rows, () => 'S'.repeat(86), 'signer-0123456789abcdef'))
/** The same page with its body's bytes changed (the header keeps the row count). */
const alter = (rows: Array<[string, string]>, change: (body: string) => string) => {
  const page = pageOf(rows)
  return { ...page, body: Buffer.from(change(Buffer.from(page.body).toString('latin1')), 'latin1') }
}

describe('state table rows', () => {
  const rows = [row('task-0001'), row('task-0002', 'failed', 'model%20run'), row('task-0003', 'cancelled')]

  test('a page gives back its rows as sent, in order', () => {
    expect(tableRows(pageOf(rows))).toEqual(rows)
    expect(tableRows(pageOf([rows[0]]))).toEqual([rows[0]])
  })

  test.each([
    ['a byte that is not ASCII', (b: string) => b.replace('exec', 'ex\u00e9c')],
    ['a trailing space in a row', (b: string) => b.replace('exec\n', 'exec \n')],
    ['no newline after the last row', (b: string) => b.slice(0, -1)],
    ['an empty line between rows', (b: string) => b.replace('\n', '\n\n')],
    ['a state that is not terminal', (b: string) => b.replace(' failed ', ' running ')],
    ['a digest one character short', (b: string) => b.replace(`${DIGEST} failed`, `${DIGEST.slice(1)} failed`)],
    ['a carriage return before the newline', (b: string) => b.replace('exec\n', 'exec\r\n')],
  ])('a page with %s is refused', (_what, change) => {
    expect(() => tableRows(alter(rows, change))).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
  })

  test('rows out of order, a repeated task and a count other than the header\'s are refused', () => {
    for (const bad of [[rows[1], rows[0]], [rows[0], rows[0]]]) expect(() => tableRows(pageOf(bad))).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
    expect(() => tableRows({ ...pageOf(rows), rows: 2 })).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
  })
})
