/**
 * Task records are read from memory on the hot path (ledger/store.ts), and that memory never
 * disagrees with LevelDB: what a batch writes replaces or drops the cached record.
 */
import { afterEach, describe, expect, test } from 'vitest'
import { P } from '../../ledger/store.js'
import { openLedger, closeLedger, closeAllLedgers } from '../helpers/ledgers.js'
import { removeTempDirs } from '../helpers/nodes.js'

afterEach(async () => {
  await closeAllLedgers()
  await removeTempDirs()
})

const NOOP = { kind: 'noop', priority: 5, spec: {} } as const

describe('task record cache', () => {
  test('a task just written reads without LevelDB: its record is gone from the database behind the ledger, and it still reads', async () => {
    const a = await openLedger()
    await a.ledger.append('submitted', 'task-0001', NOOP)
    await a.ledger.append('awarded', 'task-0001', { attempt: 1, node: a.peerId, leaseMs: 1000, epoch: 1 })
    await a.db.del(P.task + 'task-0001')
    expect((await a.ledger.task('task-0001'))?.state).toBe('awarded')
    // The next append folds on the cached record (no read of the deleted one): the history stays whole.
    await a.ledger.append('finished', 'task-0001', { attempt: 1, outcome: 'succeeded' })
    expect((await a.ledger.task('task-0001'))?.state).toBe('succeeded')
    expect((await a.ledger.history('task-0001'))?.map(s => s.entry.type)).toEqual(['submitted', 'awarded', 'finished'])
    expect(JSON.parse(await a.db.get(P.task + 'task-0001') ?? 'null')).toMatchObject({ state: { state: 'succeeded' } })
  })

  test('a record read from LevelDB after a restart is then served from memory', async () => {
    const a = await openLedger()
    await a.ledger.append('submitted', 'task-0001', NOOP)
    await closeLedger(a)
    const again = await openLedger({ path: a.path, key: a.key })
    expect((await again.ledger.task('task-0001'))?.state).toBe('pending')
    await again.db.del(P.task + 'task-0001')
    expect((await again.ledger.task('task-0001'))?.state).toBe('pending')
  })

  test('a batch that writes or deletes a task record by other means (compaction, snapshots) replaces or drops the cached one', async () => {
    const a = await openLedger()
    await a.ledger.append('submitted', 'task-0001', NOOP)
    await a.ledger.append('submitted', 'task-0002', NOOP)
    const record = JSON.parse(await a.db.get(P.task + 'task-0001') ?? 'null') as { state: { state: string } }
    record.state.state = 'cancelled'
    await a.ledger.store.write([{ type: 'put', key: P.task + 'task-0001', value: JSON.stringify(record) }, { type: 'del', key: P.task + 'task-0002' }], false)
    expect((await a.ledger.task('task-0001'))?.state).toBe('cancelled')
    expect(await a.ledger.task('task-0002')).toBeUndefined()
  })

  test('a submission of a task id made just now (newTask) reads no record; any other first entry of a task does', async () => {
    const a = await openLedger()
    const getMany = a.db.getMany.bind(a.db)
    const read: string[] = []
    a.db.getMany = (async (keys: string[], options?: object) => { read.push(...keys); return getMany(keys, options as never) }) as typeof a.db.getMany
    await a.ledger.append('submitted', 'task-0001', NOOP, { newTask: true })
    expect(read).toEqual([])
    expect((await a.ledger.task('task-0001'))?.state).toBe('pending')
    await a.ledger.append('submitted', 'task-0002', NOOP)
    expect(read).toContain(P.task + 'task-0002')
  })

  test('history hands out a copy: sorting or changing it leaves the record as it was', async () => {
    const a = await openLedger()
    await a.ledger.append('submitted', 'task-0001', NOOP)
    await a.ledger.append('cancelled', 'task-0001', { reason: 'test' })
    const history = await a.ledger.history('task-0001') ?? []
    history.reverse()
    history.pop()
    expect((await a.ledger.history('task-0001'))?.map(s => s.entry.type)).toEqual(['submitted', 'cancelled'])
  })
})
