import { describe, expect, test } from 'vitest'
import { planCompaction } from '../../ledger/plan.js'
import { summarize, summaryState, upgradeSummary, verifySummary, type Summary } from '../../ledger/summary.js'
import { canonicalJson, encodeSummary, SUMMARY_INLINE_BYTES, validateSummary, type TaskSummary } from '../../protocols/index.js'
import { foldTask } from '../../ledger/index.js'
import { author, type Author } from '../helpers/chains.js'

const chain = (...tasks: string[]) => tasks.map((task, i) => ({ seq: i + 1, task }))

describe('compaction plan', () => {
  test.each([
    { name: 'the prefix of finished tasks goes', chains: { a: chain('t1', 't2', 't3') }, candidates: ['t1', 't2'], cut: { a: 2 }, tasks: ['t1', 't2'] },
    { name: 'a live task stops the cut; candidates after it stay', chains: { a: chain('t1', 'live', 't2') }, candidates: ['t1', 't2'], cut: { a: 1 }, tasks: ['t1'] },
    { name: 'a task with an entry above another author\'s cut stays, and that shortens the first cut', chains: { a: chain('t1', 't2'), b: chain('t3', 'live', 't2') }, candidates: ['t1', 't2', 't3'], cut: { a: 1, b: 1 }, tasks: ['t1', 't3'] },
    { name: 'the cascade runs to a fixed point', chains: { a: chain('t1', 't2', 't3'), b: chain('t3', 'x', 't2') }, candidates: ['t1', 't2', 't3'], cut: { a: 1 }, tasks: ['t1'] },
    { name: 'no candidates: nothing moves', chains: { a: chain('t1') }, candidates: [], cut: {}, tasks: [] },
  ])('$name', ({ chains, candidates, cut, tasks }) => {
    const plan = planCompaction(new Map(Object.entries(chains)), new Set(candidates))
    expect(Object.fromEntries(plan.checkpoints)).toEqual(cut)
    expect([...plan.tasks].sort()).toEqual(tasks)
  })
})

async function finishedTask (a: Author, w: Author, task: string, wall = 1000) {
  return [
    a.append('submitted', task, { kind: 'noop', priority: 5, spec: { n: 1 } }, wall),
    a.append('awarded', task, { attempt: 1, node: w.peerId, leaseMs: 1000, epoch: 1 }, wall + 1),
    w.append('started', task, { attempt: 1 }, wall + 2),
    w.append('finished', task, { attempt: 1, outcome: 'succeeded', resultDigest: 'ab'.repeat(32), result: { text: 'hello' } }, wall + 3),
  ]
}

const roundTrip = (s: TaskSummary<unknown>) => verifySummary(validateSummary(JSON.parse(encodeSummary(s))))

describe('task summaries', () => {
  test('a finished task: the summary keeps the folded state, verifies, and is the same bytes whatever the order', async () => {
    const [a, w] = await Promise.all([author(), author()])
    const entries = await finishedTask(a, w, 'task-0001')
    const summary = summarize(entries)
    expect(summaryState(summary!)).toEqual(foldTask(entries))
    expect(summary?.proof.map(e => e.type)).toEqual(['submitted', 'awarded', 'finished'])
    expect(summary?.upTo).toEqual({ [a.peerId]: 2, [w.peerId]: 2 })
    expect(encodeSummary(summarize([...entries].reverse())!)).toBe(encodeSummary(summary!))
    expect(roundTrip(summary!)).toEqual(summary)
  })

  test('a task that is not terminal has no summary', async () => {
    const [a, w] = await Promise.all([author(), author()])
    const entries = (await finishedTask(a, w, 'task-0002')).slice(0, 3)
    expect(summarize(entries)).toBeUndefined()
  })

  test('cancelled and abandoned tasks carry their deciding entry', async () => {
    const [a, w] = await Promise.all([author(), author()])
    const cancelled = summarize([a.append('submitted', 'task-cccc', { kind: 'noop', priority: 1, spec: {} }, 1), w.append('cancelled', 'task-cccc', { reason: 'user' }, 2)])
    expect(cancelled?.proof.map(e => e.type)).toEqual(['submitted', 'cancelled'])
    expect(roundTrip(cancelled!).state.state).toBe('cancelled')
    const abandoned = summarize([a.append('submitted', 'task-xxxx', { kind: 'noop', priority: 1, spec: {} }, 1), a.append('abandoned', 'task-xxxx', { reason: 'attempts exhausted' }, 2)])
    expect(roundTrip(abandoned!).state.state).toBe('failed')
  })

  test('forged summaries are rejected: an invented result, a changed outcome, a tampered or missing proof entry', async () => {
    const [a, w, m] = await Promise.all([author(), author(), author()])
    const summary = summarize(await finishedTask(a, w, 'task-0003'))!
    const forge = (change: (s: any) => void) => { const s = structuredClone(summary) as any; change(s); return () => roundTrip(s) }
    expect(forge(s => { s.state.attempts[0].result = { text: 'evil' } })).toThrow(/rejected/)
    expect(forge(s => { s.state.state = 'failed'; s.state.attempts[0].outcome = 'failed' })).toThrow(/rejected/)
    expect(forge(s => { s.proof[2].body.result = { text: 'evil' }; s.state.attempts[0].result = { text: 'evil' } })).toThrow(/signature/)
    expect(forge(s => { s.proof.splice(1, 1) })).toThrow(/award/)
    expect(forge(s => { s.state.spec = { n: 2 } })).toThrow(/submitted/)
    // A third node signs a finish of its own for the attempt: it was not the awarded node.
    const fake = m.append('finished', 'task-0003', { attempt: 1, outcome: 'succeeded', resultDigest: 'cd'.repeat(32) }, 2000)
    expect(forge(s => { s.proof[2] = fake.entry; s.state.attempts[0].node = m.peerId; s.state.attempts[0].resultDigest = 'cd'.repeat(32); delete s.state.attempts[0].result })).toThrow(/award/)
    expect(() => validateSummary({ ...summary, extra: 1 })).toThrow(/schema/)
  })

  test('late entries fold on top of an earlier summary, as if nothing had been compacted', async () => {
    const [a, w] = await Promise.all([author(), author()])
    const entries = await finishedTask(a, w, 'task-0004')
    const first = summarize(entries)!
    const late = [w.append('feedback', 'task-0004', { verdict: 'accept' }, 5000)]
    const again = summarize(late, first)!
    expect(summaryState(again)).toEqual(foldTask([...entries, ...late]))
    expect(again).toEqual(summarize([...entries, ...late]))
    expect(roundTrip(again)).toEqual(again)
  })

  test('format 2 holds each output once: the deciding result only in its signed finish, restored on read', async () => {
    const [a, w] = await Promise.all([author(), author()])
    const output = 'x'.repeat(12_000)
    const entries = [
      a.append('submitted', 'task-0005', { kind: 'exec', priority: 5, spec: {} }, 1000),
      a.append('awarded', 'task-0005', { attempt: 1, node: w.peerId, leaseMs: 1000, epoch: 1 }, 1001),
      w.append('finished', 'task-0005', { attempt: 1, outcome: 'succeeded', result: { stdout: output } }, 1003),
    ]
    const summary = summarize(entries)!
    expect(summary.v).toBe(2)
    expect(encodeSummary(summary).split(output).length - 1).toBe(1)
    expect(summary.state.attempts[0]).not.toHaveProperty('result')
    expect(summaryState(summary)).toEqual(foldTask(entries))
    expect(summaryState(roundTrip(summary)).attempts[0].result).toEqual({ stdout: output })
    // A v2 summary that also carries it in its state is not what summarize writes: rejected.
    const twice = structuredClone(summary) as any
    twice.state.attempts[0].result = { stdout: output }
    expect(() => roundTrip(twice)).toThrow(/deciding result/)
  })

  test(`an attempt that did not decide keeps its result inline only up to ${SUMMARY_INLINE_BYTES} bytes`, async () => {
    const [a, w1, w2] = await Promise.all([author(), author(), author()])
    const late = (result: Record<string, unknown>, task: string) => [
      a.append('submitted', task, { kind: 'exec', priority: 5, spec: {} }, 1000),
      a.append('awarded', task, { attempt: 1, node: w1.peerId, leaseMs: 1000, epoch: 1 }, 1001),
      a.append('retried', task, { attempt: 1, reason: 'lease expired' }, 1002),
      a.append('awarded', task, { attempt: 2, node: w2.peerId, leaseMs: 1000, epoch: 1 }, 1003),
      w2.append('finished', task, { attempt: 2, outcome: 'succeeded', result: { stdout: 'ok' } }, 1004),
      w1.append('finished', task, { attempt: 1, outcome: 'failed', result }, 1005),
    ]
    const small = summarize(late({ stdout: 'late' }, 'task-0006'))!
    expect(small.state.attempts[0]).toMatchObject({ outcome: 'late-failed', result: { stdout: 'late' } })
    const bigResult = { stdout: 'y'.repeat(SUMMARY_INLINE_BYTES) }
    const big = summarize(late(bigResult, 'task-0007'))!
    expect(big.state.attempts[0]).not.toHaveProperty('result')
    expect(big.state.attempts[0].resultOmittedBytes).toBe(Buffer.byteLength(canonicalJson(bigResult)))
    expect(encodeSummary(big)).not.toContain('y'.repeat(100))
    expect(summaryState(roundTrip(big)).attempts[1].result).toEqual({ stdout: 'ok' })
    const stuffed = structuredClone(big) as any
    stuffed.state.attempts[0].result = bigResult
    expect(() => roundTrip(stuffed)).toThrow(/inline limit/)
  })

  test('a format-1 summary still reads and verifies, and upgrades to the bytes summarize writes now', async () => {
    const [a, w] = await Promise.all([author(), author()])
    const entries = await finishedTask(a, w, 'task-0008')
    const v2 = summarize(entries)!
    // What format 1 wrote: the whole folded state, the deciding result included.
    const v1 = JSON.parse(canonicalJson({ ...v2, v: 1, state: foldTask(entries) })) as Summary
    expect(summaryState(roundTrip(v1))).toEqual(foldTask(entries))
    expect(encodeSummary(upgradeSummary(v1))).toBe(encodeSummary(v2))
  })
})
