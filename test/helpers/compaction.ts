/** Two ledgers that replicate a small workload (test/ledger/retention.test.ts, state-table.test.ts). */
import { expect } from 'vitest'
import type { Entry } from '../../protocols/index.js'
import { openLedger, type TestLedger } from './ledgers.js'

export const ids = (n: number) => Array.from({ length: n }, (_, i) => `task-${String(i).padStart(4, '0')}`)

/** Every entry a ledger still holds in its log. */
export async function logged (t: TestLedger): Promise<Entry[]> {
  const out: Entry[] = []
  for (const [author, seq] of Object.entries(t.ledger.versionVector())) out.push(...(await t.ledger.store.range(author, 1, seq, 1_000_000)).map(s => s.entry))
  return out
}

/**
 * A (auctioneer) submits and awards 6 tasks to B; B runs them; the first 4 finish (one fails),
 * the last 2 stay running. Both ledgers hold every entry.
 */
export async function twoReplicas (): Promise<{ a: TestLedger, b: TestLedger, tasks: string[] }> {
  const [a, b] = await Promise.all([openLedger(), openLedger()])
  const tasks = ids(6)
  for (const task of tasks) {
    await a.ledger.append('submitted', task, { kind: 'noop', priority: 5, spec: { task } })
    await a.ledger.append('awarded', task, { attempt: 1, node: b.peerId, leaseMs: 5000, epoch: 1 })
  }
  expect(await b.ledger.receive(await logged(a))).toEqual(['applied'])
  for (const [i, task] of tasks.entries()) {
    await b.ledger.append('started', task, { attempt: 1 })
    if (i < 4) await b.ledger.append('finished', task, { attempt: 1, outcome: i === 2 ? 'failed' : 'succeeded', resultDigest: 'ab'.repeat(32), result: { i } })
  }
  expect(await a.ledger.receive((await logged(b)).filter(e => e.author === b.peerId))).toEqual(['applied'])
  await Promise.all([a.ledger.whenIndexed(), b.ledger.whenIndexed()])
  return { a, b, tasks }
}

