import { describe, expect, test } from 'vitest'
import { awardStatus, foldTask } from '../../ledger/index.js'
import type { Entry, EntryType, Bodies } from '../../protocols/ledger.js'

// Pure fold tests: entries need no valid signatures here (verification is elsewhere).
const A = '12D3KooWAuctioneerAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
const W1 = '12D3KooWWorker1111111111111111111111111111111111111'
const W2 = '12D3KooWWorker2222222222222222222222222222222222222'
let n = 0
function e<T extends EntryType> (author: string, wall: number, type: T, body: Bodies[T]): { id: string, entry: Entry } {
  n++
  return { id: `id${n}`, entry: { v: 1, author, seq: n, prev: null, hlc: { wall, logical: 0 }, type, task: 'task-0001', body: body as Record<string, unknown>, sig: '' } }
}
const submitted = (wall = 1) => e(A, wall, 'submitted', { kind: 'noop', priority: 5, spec: {} })
const award = (wall: number, attempt: number, node: string, author = A, epoch = 1) => e(author, wall, 'awarded', { attempt, node, leaseMs: 1000, epoch })
const adopt = (wall: number, author: string, epoch: number) => e(author, wall, 'adopted', { reason: 'auctioneer gone', epoch })
const start = (wall: number, attempt: number, node: string) => e(node, wall, 'started', { attempt })
const finish = (wall: number, attempt: number, node: string, outcome: 'succeeded' | 'failed' = 'succeeded') => e(node, wall, 'finished', { attempt, outcome })
const cancel = (wall: number, author = A) => e(author, wall, 'cancelled', { reason: 'user' })
const retry = (wall: number, attempt: number, author = A) => e(author, wall, 'retried', { attempt, reason: 'lease expired' })

describe('task fold', () => {
  test('no submitted entry: no state', () => {
    expect(foldTask([award(2, 1, W1)])).toBeUndefined()
  })

  test('happy path: pending -> awarded -> running -> succeeded', () => {
    const s = submitted()
    expect(foldTask([s])?.state).toBe('pending')
    expect(foldTask([s, award(2, 1, W1)])?.state).toBe('awarded')
    expect(foldTask([s, award(2, 1, W1), start(3, 1, W1)])?.state).toBe('running')
    const done = foldTask([s, award(2, 1, W1), start(3, 1, W1), finish(4, 1, W1)])
    expect(done?.state).toBe('succeeded')
    expect(done?.attempts).toMatchObject([{ attempt: 1, node: W1, outcome: 'succeeded', awardedAt: 2, startedAt: 3, endedAt: 4 }])
  })

  test('only the auctioneer may award; only the awarded node may start or finish', () => {
    const s = foldTask([submitted(), award(2, 1, W1, W2), start(3, 1, W2)])
    expect(s?.state).toBe('pending')
    expect(s?.attempts).toEqual([])
    const t = foldTask([submitted(), award(2, 1, W1), finish(3, 1, W2)])
    expect(t?.state).toBe('awarded')
    expect(t?.conflicts).toHaveLength(1)
  })

  test('two finished for one attempt: the first in HLC order wins', () => {
    const base = [submitted(), award(2, 1, W1), start(3, 1, W1)]
    const ok = finish(5, 1, W1, 'succeeded')
    const bad = finish(6, 1, W1, 'failed')
    for (const order of [[ok, bad], [bad, ok]]) {
      const s = foldTask([...base, ...order])
      expect(s?.state).toBe('succeeded')
      expect(s?.conflicts).toEqual([bad.id])
    }
  })

  test('a cancel racing a finish: the earlier decides', () => {
    const base = [submitted(), award(2, 1, W1), start(3, 1, W1)]
    expect(foldTask([...base, cancel(5), finish(6, 1, W1)])?.state).toBe('cancelled')
    expect(foldTask([...base, finish(5, 1, W1), cancel(6)])?.state).toBe('succeeded')
    const cancelled = foldTask([...base, cancel(5)])
    expect(cancelled?.attempts[0]).toMatchObject({ outcome: 'cancelled', endedAt: 5 })
    const late = foldTask([...base, cancel(5), finish(6, 1, W1)])
    expect(late?.attempts[0].outcome).toBe('late-succeeded')
    expect(late?.state).toBe('cancelled')
  })

  test('the output of a cancelled run is kept on its attempt, once, and decides nothing', () => {
    const base = [submitted(), award(2, 1, W1), start(3, 1, W1)]
    const output = (wall: number, stdout: string, node = W1) => e(node, wall, 'finished', { attempt: 1, outcome: 'cancelled', result: { stdout } })
    const kept = foldTask([...base, cancel(5), output(6, 'a\n'), output(7, 'b\n')])
    expect(kept?.state).toBe('cancelled')
    expect(kept?.attempts[0]).toMatchObject({ outcome: 'cancelled', result: { stdout: 'a\n' } })
    // Not from the attempt's node, or for an attempt that was not cancelled: ignored.
    expect(foldTask([...base, cancel(5), output(6, 'x', W2)])?.attempts[0].result).toBeUndefined()
    const running = foldTask([...base, output(4, 'x')])
    expect(running?.state).toBe('running')
    expect(running?.attempts[0].result).toBeUndefined()
  })

  test('lease expiry: retried re-opens the task; a late result is recorded and applied once', () => {
    const base = [submitted(), award(2, 1, W1), start(3, 1, W1), retry(10, 1), award(11, 2, W2), start(12, 2, W2)]
    const s = foldTask(base)
    expect(s?.state).toBe('running')
    expect(s?.attempts.map(a => a.outcome)).toEqual(['lost', undefined])
    // W1's late success arrives, then W2 also succeeds: exactly one success applies.
    const both = foldTask([...base, finish(13, 1, W1), finish(14, 2, W2)])
    expect(both?.state).toBe('succeeded')
    expect(both?.decidedBy).toBe(1) // the first success decides; the second is recorded, not applied
    expect(both?.attempts.map(a => a.outcome)).toEqual(['late-succeeded', 'late-succeeded'])
    // Without the late result, attempt 2 decides.
    expect(foldTask([...base, finish(14, 2, W2)])?.decidedBy).toBe(2)
  })

  test('an award while an attempt is open is ignored; attempts are sequential', () => {
    const s = foldTask([submitted(), award(2, 1, W1), award(3, 2, W2), award(4, 3, W2)])
    expect(s?.attempts).toHaveLength(1)
    expect(s?.conflicts).toHaveLength(2)
  })

  test('the fold ignores arrival order', () => {
    const all = [submitted(), award(2, 1, W1), start(3, 1, W1), retry(10, 1), award(11, 2, W2), finish(12, 1, W1), finish(13, 2, W2, 'failed'), cancel(14)]
    const expected = foldTask(all)
    for (let i = 0; i < 20; i++) {
      const shuffled = [...all].sort(() => Math.random() - 0.5)
      expect(foldTask(shuffled)).toEqual(expected)
    }
  })

  test('takeover: only an auctioneer of record retries, awards, blocks or abandons; adopted makes one', () => {
    const base = [submitted(), award(2, 1, W1)]
    // W2 is no auctioneer: its retry and award are conflicts.
    const rogue = foldTask([...base, retry(3, 1, W2), award(4, 2, W2, W2)])
    expect(rogue?.state).toBe('awarded')
    expect(rogue?.conflicts).toHaveLength(2)
    // After adopting, W2 may.
    const adopted = foldTask([...base, adopt(3, W2, 2), retry(4, 1, W2), award(5, 2, W1, W2, 2)])
    expect(adopted?.auctioneer).toBe(W2)
    expect(adopted?.attempts.map(a => a.outcome)).toEqual(['lost', undefined])
    expect(adopted?.state).toBe('awarded')
  })

  test("an attempt's own node may give it back (retryable fault); nobody else but an auctioneer may", () => {
    const base = [submitted(), award(2, 1, W1), start(3, 1, W1)]
    const given = foldTask([...base, e(W1, 4, 'retried', { attempt: 1, reason: 'WorkerLostError: worker lost' })])
    expect(given?.state).toBe('pending')
    expect(given?.attempts).toMatchObject([{ attempt: 1, node: W1, outcome: 'lost', error: 'WorkerLostError: worker lost' }])
    // Attempt 2 belongs to W2: W1 cannot give it back.
    const other = foldTask([...base, retry(4, 1, W1), award(5, 2, W2), retry(6, 2, W1)])
    expect(other?.state).toBe('awarded')
    expect(other?.conflicts).toHaveLength(1)
  })

  test('blocked is reported while pending and cleared by the next award; abandoned fails a task', () => {
    const blocked = e(A, 2, 'blocked', { verdict: 'impossible', nodes: 3, reasons: [{ check: 'memory', fit: 'never', reason: 'needs 1 TB', nodes: 3 }] })
    expect(foldTask([submitted(), blocked])?.blocked?.verdict).toBe('impossible')
    expect(foldTask([submitted(), blocked, award(3, 1, W1)])?.blocked).toBeUndefined()
    const gaveUp = foldTask([submitted(), award(2, 1, W1), retry(3, 1), e(A, 4, 'abandoned', { reason: 'attempts exhausted' })])
    expect(gaveUp?.state).toBe('failed')
    expect(gaveUp?.abandonedReason).toBe('attempts exhausted')
    // Not while an attempt is open, and not from a stranger.
    expect(foldTask([submitted(), award(2, 1, W1), e(A, 3, 'abandoned', { reason: 'x' })])?.state).toBe('awarded')
    expect(foldTask([submitted(), e(W2, 3, 'abandoned', { reason: 'x' })])?.state).toBe('pending')
  })

  test('checkpoints: only the open attempt\'s runner, steps in order across attempts; feedback from anyone', () => {
    const cp = (wall: number, attempt: number, node: string, step: number, basedOn: number | null = null) => e(node, wall, 'checkpoint', { attempt, step, basedOn, files: { 'a.py': { digest: 'a'.repeat(64), size: 3 } }, summary: { passed: step } })
    const base = [submitted(), award(2, 1, W1), start(3, 1, W1)]
    expect(foldTask([...base, cp(4, 1, W1, 1), cp(5, 1, W1, 2, 1)])?.checkpoints?.map(c => [c.step, c.basedOn, c.node])).toEqual([[1, null, W1], [2, 1, W1]])
    // A stranger, a skipped step number, a base that does not exist yet: refused.
    expect(foldTask([...base, cp(4, 1, W2, 1)])?.checkpoints).toBeUndefined()
    expect(foldTask([...base, cp(4, 1, W1, 2)])?.checkpoints).toBeUndefined()
    expect(foldTask([...base, cp(4, 1, W1, 1, 1)])?.checkpoints).toBeUndefined()
    // The task re-run on W2 after W1 lost its lease continues the numbering; W1's late step loses.
    const resumed = foldTask([...base, cp(4, 1, W1, 1), retry(5, 1), award(6, 2, W2), cp(7, 1, W1, 2), cp(8, 2, W2, 2, 1)])
    expect(resumed?.checkpoints?.map(c => [c.step, c.attempt, c.node])).toEqual([[1, 1, W1], [2, 2, W2]])
    expect(resumed?.conflicts).toHaveLength(1)
    const fb = foldTask([...base, e(W2, 9, 'feedback', { verdict: 'reject', note: 'wrong API' })])
    expect(fb?.feedback).toMatchObject([{ verdict: 'reject', note: 'wrong API', node: W2 }])
  })
})

describe('fencing: epochs decide which award is current (issue 15)', () => {
  const W3 = '12D3KooWWorker3333333333333333333333333333333333333'

  test('a dead auctioneer\'s award and its adopter\'s award of the same attempt: exactly one counts, in every arrival order', () => {
    // A awarded attempt 2 to W1 and died before anyone saw it; W2 adopted (epoch 2) and awarded attempt 2 to W3.
    const base = [submitted(), award(2, 1, W1), retry(3, 1)]
    for (const [aWall, adoptWall] of [[4, 5], [6, 5]]) {
      const fromA = award(aWall, 2, W1)
      const entries = [...base, fromA, adopt(adoptWall, W2, 2), award(7, 2, W3, W2, 2)]
      for (const order of [entries, [...entries].reverse()]) {
        const s = foldTask(order)
        expect(s?.attempts).toHaveLength(2)
        expect(s?.epoch).toBe(2)
        expect(s?.auctioneer).toBe(W2)
        const winner = s?.attempts[1].node
        const loser = winner === W1 ? W3 : W1
        expect(awardStatus(s, 2, winner ?? '')).toBe('current')
        expect(awardStatus(s, 2, loser)).toBe('superseded')
      }
      // Before the adoption (A's award sorts first) A's award holds; after it, the adopter's.
      expect(foldTask(entries)?.attempts[1].node).toBe(aWall < adoptWall ? W1 : W3)
    }
  })

  test('an adoption fences the old auctioneer off: its later awards, retries and blocks are conflicts', () => {
    const s = foldTask([submitted(), adopt(2, W2, 2), award(3, 1, W1), award(4, 1, W1, A, 2), retry(5, 1)])
    expect(s?.state).toBe('pending')
    expect(s?.attempts).toEqual([])
    expect(s?.conflicts).toHaveLength(3)
    const t = foldTask([submitted(), award(2, 1, W1), adopt(3, W2, 2), retry(4, 1), e(A, 5, 'abandoned', { reason: 'x' })])
    expect(t?.state).toBe('awarded') // the open attempt survives the adoption; A can no longer close it
    expect(t?.attempts[0]).toMatchObject({ node: W1, epoch: 1 })
    expect(t?.attempts[0].outcome).toBeUndefined()
  })

  test('an award must carry the current epoch, even from the current auctioneer', () => {
    expect(foldTask([submitted(), award(2, 1, W1, A, 2)])?.attempts).toEqual([])
    expect(foldTask([submitted(), adopt(2, W2, 2), award(3, 1, W1, W2, 1)])?.attempts).toEqual([])
    expect(foldTask([submitted(), adopt(2, W2, 2), award(3, 1, W1, W2, 2)])?.attempts).toMatchObject([{ node: W1, epoch: 2 }])
  })

  test('two nodes adopting at once: the first in canonical order wins; the second cannot award', () => {
    const s = foldTask([submitted(), adopt(2, W2, 2), adopt(3, W3, 2), award(4, 1, W1, W3, 2), award(5, 1, W1, W2, 2)])
    expect(s?.auctioneer).toBe(W2)
    expect(s?.attempts).toHaveLength(1)
    expect(s?.conflicts).toHaveLength(2)
    // An adoption must raise the epoch by exactly one.
    expect(foldTask([submitted(), adopt(2, W2, 3)])?.auctioneer).toBe(A)
    expect(foldTask([submitted(), adopt(2, W2, 2), adopt(3, W3, 3)])).toMatchObject({ auctioneer: W3, epoch: 3 })
  })

  test('a terminal task is never adopted, awarded again, or current for any runner', () => {
    const done = [submitted(), award(2, 1, W1), start(3, 1, W1), finish(4, 1, W1)]
    const s = foldTask([...done, adopt(5, W2, 2), award(6, 2, W3, W2, 2), award(7, 2, W3)])
    expect(s).toMatchObject({ state: 'succeeded', auctioneer: A, epoch: 1 })
    expect(s?.attempts).toHaveLength(1)
    expect(awardStatus(s, 2, W3)).toBe('terminal')
    expect(awardStatus(s, 1, W1)).toBe('terminal')
  })

  test('awardStatus: unknown while the award is on its way, superseded once closed or replaced', () => {
    expect(awardStatus(undefined, 1, W1)).toBe('unknown')
    expect(awardStatus(foldTask([submitted()]), 1, W1)).toBe('unknown')
    expect(awardStatus(foldTask([submitted(), award(2, 1, W1)]), 1, W1)).toBe('current')
    expect(awardStatus(foldTask([submitted(), award(2, 1, W1), start(3, 1, W1)]), 1, W1)).toBe('current')
    expect(awardStatus(foldTask([submitted(), award(2, 1, W1), retry(3, 1)]), 1, W1)).toBe('superseded')
    expect(awardStatus(foldTask([submitted(), award(2, 1, W1), retry(3, 1), award(4, 2, W2)]), 1, W1)).toBe('superseded')
    expect(awardStatus(foldTask([submitted(), award(2, 1, W1)]), 1, W2)).toBe('superseded')
  })

  test('an award stored before epochs existed counts as epoch 1', () => {
    const legacy = e(A, 2, 'awarded', { attempt: 1, node: W1, leaseMs: 1000 } as unknown as Bodies['awarded'])
    expect(foldTask([submitted(), legacy])?.attempts).toMatchObject([{ node: W1, epoch: 1 }])
  })
})
