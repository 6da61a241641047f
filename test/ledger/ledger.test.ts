import { afterEach, describe, expect, test } from 'vitest'
import fc from 'fast-check'
import { decodeEntryBytes, encodeEntry, type Entry } from '../../protocols/ledger.js'
import { createEntrySigner } from '../../ledger/index.js'
import { openLedger, closeLedger, closeAllLedgers, type TestLedger } from '../helpers/ledgers.js'
import { removeTempDirs } from '../helpers/nodes.js'

afterEach(async () => {
  await closeAllLedgers()
  await removeTempDirs()
})

const all = async (t: TestLedger): Promise<Entry[]> => {
  const out: Entry[] = []
  for (const [author, seq] of Object.entries(t.ledger.versionVector())) out.push(...(await t.ledger.store.range(author, 1, seq, 1_000_000)).map(s => s.entry))
  return out
}

describe('task ledger', () => {
  test('appends are acknowledged, indexed and folded', async () => {
    const a = await openLedger()
    await a.ledger.append('submitted', 'task-0001', { kind: 'noop', priority: 5, spec: { n: 1 } })
    await a.ledger.append('awarded', 'task-0001', { attempt: 1, node: a.peerId, leaseMs: 1000, epoch: 1 })
    await a.ledger.append('submitted', 'task-0002', { kind: 'noop', priority: 1, spec: {} })
    expect(a.ledger.versionVector()).toEqual({ [a.peerId]: 3 })
    expect((await a.ledger.task('task-0001'))?.state).toBe('awarded')
    expect((await a.ledger.history('task-0001'))?.map(s => s.entry.type)).toEqual(['submitted', 'awarded'])
    expect((await a.ledger.tasksByState('pending')).map(t => t.id)).toEqual(['task-0002'])
    expect((await a.ledger.recentTasks(1)).map(t => t.id)).toEqual(['task-0002'])
    const [first, second] = (await a.ledger.history('task-0001')) ?? []
    expect(second.entry.prev).toBe(first.id)
    expect(await a.ledger.entry(second.id)).toEqual(second)
    expect(await a.ledger.entry('0'.repeat(64))).toBeUndefined()
  })

  test('concurrent appends share group commits and stay one contiguous chain across a reopen', async () => {
    const a = await openLedger()
    const acks = await Promise.all(Array.from({ length: 500 }, async (_, i) => a.ledger.append('submitted', `task-${String(i).padStart(5, '0')}`, { kind: 'noop', priority: 5, spec: {} })))
    expect(acks.map(s => s.entry.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1))
    await closeLedger(a)
    const again = await openLedger({ path: a.path, key: a.key })
    expect(again.ledger.entryCount()).toBe(500)
    const chain = await again.ledger.store.range(a.peerId, 1, 500, 1000)
    for (let i = 1; i < chain.length; i++) expect(chain[i].entry.prev).toBe(chain[i - 1].id)
    const next = await again.ledger.append('submitted', 'task-after', { kind: 'noop', priority: 5, spec: {} })
    expect(next.entry.seq).toBe(501)
    expect(next.entry.prev).toBe(chain[499].id)
  })

  test('property: random appends on 5 nodes, delivered in random orders, give identical states', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ author: fc.nat(4), type: fc.constantFrom('submitted', 'awarded', 'started', 'finished', 'cancelled', 'retried'), task: fc.nat(5), attempt: fc.integer({ min: 1, max: 2 }), node: fc.nat(4), ok: fc.boolean() }), { minLength: 5, maxLength: 40 }),
      fc.array(fc.nat(), { minLength: 5, maxLength: 5 }),
      async (ops, seeds) => {
        const nodes = await Promise.all([0, 1, 2, 3, 4].map(async () => openLedger()))
        try {
          for (const op of ops) {
            const at = nodes[op.author].ledger
            const task = `task-000${op.task}`
            const node = nodes[op.node].peerId
            if (op.type === 'submitted') await at.append('submitted', task, { kind: 'noop', priority: op.task, spec: {} })
            else if (op.type === 'awarded') await at.append('awarded', task, { attempt: op.attempt, node, leaseMs: 1000, epoch: 1 })
            else if (op.type === 'started') await at.append('started', task, { attempt: op.attempt })
            else if (op.type === 'finished') await at.append('finished', task, { attempt: op.attempt, outcome: op.ok ? 'succeeded' : 'failed' })
            else if (op.type === 'cancelled') await at.append('cancelled', task, {})
            else await at.append('retried', task, { attempt: op.attempt, reason: 'lease expired' })
          }
          const everything = (await Promise.all(nodes.map(all))).flat()
          // Each node receives every entry one at a time, in its own random order.
          await Promise.all(nodes.map(async (n, i) => {
            const order = shuffle(everything, seeds[i])
            for (const e of order) await n.ledger.receive([e])
            await n.ledger.whenIndexed(10_000)
          }))
          const states = await Promise.all(nodes.map(async n => Promise.all([0, 1, 2, 3, 4, 5].map(async t => n.ledger.task(`task-000${t}`)))))
          for (const s of states.slice(1)) expect(s).toEqual(states[0])
          for (const n of nodes.slice(1)) expect(n.ledger.versionVector()).toEqual(nodes[0].ledger.versionVector())
          expect(nodes[0].ledger.entryCount()).toBe(ops.length)
        } finally {
          await Promise.all(nodes.map(closeLedger))
        }
      },
    ), { numRuns: 12 })
  })

  test('a gap is held, then filled; a replay is a harmless duplicate', async () => {
    const a = await openLedger()
    const b = await openLedger()
    for (let i = 0; i < 3; i++) await a.ledger.append('submitted', `task-000${i}`, { kind: 'noop', priority: 5, spec: {} })
    const [e1, e2, e3] = await all(a)
    expect(await b.ledger.receive([e3])).toEqual(['held'])
    expect(await b.ledger.receive([e1])).toEqual(['applied'])
    expect(b.ledger.entryCount()).toBe(1)
    expect(await b.ledger.receive([e2])).toEqual(['applied'])
    expect(b.ledger.entryCount()).toBe(3) // the held entry joined the chain
    await b.ledger.whenIndexed()
    expect(b.ledger.indexedCount()).toBe(3)
    expect((await b.ledger.task('task-0002'))?.state).toBe('pending')
    expect(await b.ledger.receive([e2])).toEqual(['duplicate'])
    expect(await b.ledger.receive([e1, e2, e3])).toEqual(['duplicate'])
    expect(b.ledger.stats.held).toBe(0)
  })
})

test('entries from peers are indexed in the background, and indexing resumes after a restart', async () => {
  const a = await openLedger()
  const b = await openLedger()
  for (let i = 0; i < 50; i++) await a.ledger.append('submitted', `task-${String(i).padStart(4, '0')}`, { kind: 'noop', priority: 5, spec: {} })
  expect(a.ledger.indexedCount()).toBe(50) // local appends are indexed with their log records
  const release = b.ledger.deferIndexing()
  expect(await b.ledger.receive(await all(a))).toEqual(['applied'])
  expect(b.ledger.entryCount()).toBe(50)
  expect(b.ledger.indexedCount()).toBe(0)
  expect(await b.ledger.task('task-0007')).toBeUndefined()
  await closeLedger(b) // crash-like: the log is on disk, the index is not
  const again = await openLedger({ path: b.path, key: b.key })
  await again.ledger.whenIndexed()
  expect(again.ledger.indexedCount()).toBe(50)
  expect((await again.ledger.task('task-0007'))?.state).toBe('pending')
  expect((await again.ledger.tasksByState('pending', 100)).length).toBe(50)
  const [some] = await a.ledger.store.range(a.peerId, 9, 9, 1)
  expect((await again.ledger.entry(some.id))?.entry.seq).toBe(9)
  release()
})

describe('hostile entries', () => {
  async function setup (): Promise<{ a: TestLedger, b: TestLedger, entries: Entry[] }> {
    const a = await openLedger()
    const b = await openLedger()
    for (let i = 0; i < 3; i++) await a.ledger.append('submitted', `task-000${i}`, { kind: 'noop', priority: 5, spec: {} })
    return { a, b, entries: await all(a) }
  }

  test('a forged signature is rejected', async () => {
    const { b, entries } = await setup()
    const forged = { ...entries[0], body: { ...entries[0].body, priority: 9 } }
    expect(await b.ledger.receive([forged])).toEqual(['rejected'])
    const wrongAuthor = await setup()
    const stolen = { ...entries[0], author: wrongAuthor.a.peerId }
    expect(await b.ledger.receive([stolen])).toEqual(['rejected'])
    expect(b.ledger.entryCount()).toBe(0)
    expect(b.ledger.stats.rejected).toBe(2)
  })

  test('a broken chain in a run is rejected as a whole', async () => {
    const { a, b, entries } = await setup()
    const unsigned = { ...entries[1], prev: 'f'.repeat(64) }
    const { sig: _s, ...rest } = unsigned
    const resigned = createEntrySigner(a.key)(rest).entry // validly signed, but not linked to entry 1
    expect(await b.ledger.receive([entries[0], resigned, entries[2]])).toEqual(['rejected'])
    expect(b.ledger.entryCount()).toBe(0)
  })

  test('equivocation: a second entry for one author and seq is kept as evidence, not applied', async () => {
    const { a, b, entries } = await setup()
    await b.ledger.receive(entries)
    const { sig: _s, ...rest } = entries[1]
    const twin = createEntrySigner(a.key)({ ...rest, task: 'task-evil', body: { kind: 'noop', priority: 0, spec: {} } }).entry
    expect(await b.ledger.receive([twin])).toEqual(['equivocation'])
    expect(await b.ledger.task('task-evil')).toBeUndefined()
    expect(b.ledger.equivocators).toEqual([a.peerId])
    const evidence = await b.ledger.store.evidence()
    expect(evidence.map(e => e.task).sort()).toEqual(['task-0001', 'task-evil'])
    // Still serving and accepting honest entries afterwards.
    await a.ledger.append('submitted', 'task-0003', { kind: 'noop', priority: 5, spec: {} })
    const [latest] = await a.ledger.store.range(a.peerId, 4, 4, 1)
    expect(await b.ledger.receive([latest.entry])).toEqual(['applied'])
  })

  test('entries from the far future and malformed bytes are rejected', async () => {
    const now = Date.now()
    const future = await openLedger({ now: () => now + 10 * 60_000 })
    await future.ledger.append('submitted', 'task-0001', { kind: 'noop', priority: 5, spec: {} })
    const b = await openLedger()
    const [entry] = await all(future)
    expect(await b.ledger.receive([entry])).toEqual(['rejected'])
    for (const bytes of ['{', '{"v":1}', JSON.stringify({ ...entry, extra: 1 })]) {
      expect(() => decodeEntryBytes(new TextEncoder().encode(bytes))).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
    }
    // A body that does not fit its type's schema.
    expect(() => decodeEntryBytes(encodeEntry({ ...entry, type: 'awarded' }))).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
  })
})

function shuffle<T> (items: readonly T[], seed: number): T[] {
  const out = [...items]
  let s = seed + 1
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]]
  }
  return out
}
