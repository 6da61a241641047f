/** TaskEvents' backlog: kept while a task runs and a little while after it ends, then dropped. */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { TaskEvents } from '../../tasks/events.js'

const log = (task: string, line: string) => ({ type: 'log' as const, task, stream: 'stdout' as const, line })

describe('task event backlog', () => {
  beforeEach(() => { vi.useFakeTimers({ toFake: ['Date'] }) })
  afterEach(() => { vi.useRealTimers() })

  test('a late watcher of a task that ended moments ago still gets its recent events; later they are gone', () => {
    const events = new TaskEvents()
    events.emit(log('t1', 'one'))
    events.emit(log('t1', 'two'))
    expect(events.endedRecently('t1')).toBe(false)
    events.forget('t1')
    expect(events.endedRecently('t1')).toBe(true)
    expect(events.recent('t1').map(e => (e as { line: string }).line)).toEqual(['one', 'two'])
    vi.advanceTimersByTime(9_000)
    events.emit(log('t2', 'x')) // activity purges what expired: nothing yet
    expect(events.recent('t1')).toHaveLength(2)
    vi.advanceTimersByTime(2_000)
    events.emit(log('t2', 'y'))
    expect(events.endedRecently('t1')).toBe(false)
    expect(events.recent('t1')).toEqual([])
    expect(events.recent('t2')).toHaveLength(2)
  })

  test('the backlog keeps the last 200 events of a task', () => {
    const events = new TaskEvents()
    for (let i = 0; i < 250; i++) events.emit(log('t', String(i)))
    const recent = events.recent('t')
    expect(recent).toHaveLength(200)
    expect((recent[0] as { line: string }).line).toBe('50')
  })
})

describe('event ids and resume (Last-Event-ID)', () => {
  const state = (id: string, name: 'pending' | 'running' | 'succeeded') => ({ type: 'state' as const, task: { id, state: name } as never })
  const collect = (): { got: Array<[string, string | undefined]>, listener: (e: any, id?: string) => void } => {
    const got: Array<[string, string | undefined]> = []
    return { got, listener: (e, id) => { got.push([e.type === 'state' ? `${e.task.id}:${e.task.state}` : e.line, id]) } }
  }

  test('every event gets an increasing id of this instance; a task replays only what came after the given id', () => {
    const events = new TaskEvents()
    const live = collect()
    const off = events.subscribe('t', live.listener)
    for (const line of ['a', 'b', 'c']) events.emit(log('t', line))
    off?.()
    const ids = live.got.map(([, id]) => id as string)
    expect(ids.every(id => id.startsWith(`${events.epoch}.`))).toBe(true)
    expect(new Set(ids).size).toBe(3)
    const resumed = collect()
    events.replay('t', resumed.listener, { lastEventId: ids[0] })
    expect(resumed.got).toEqual(live.got.slice(1))
    // An id of another instance (a restarted node) or garbage: the whole backlog.
    for (const lastEventId of ['0abc.1', 'garbage', `${events.epoch}.999999`]) {
      const all = collect()
      events.replay('t', all.listener, { lastEventId })
      expect(all.got.map(([line]) => line)).toEqual(['a', 'b', 'c'])
    }
  })

  test("'*' replays the state changes after the id, filtered by state, also once its last subscriber left", () => {
    const events = new TaskEvents()
    const live = collect()
    const off = events.subscribe('*', live.listener)
    events.emit(state('t1', 'pending'))
    off?.() // the only '*' subscriber leaves; state changes are still built and held for its return
    expect(events.watched('t2', 'running')).toBe(true)
    events.emit(state('t1', 'succeeded'))
    events.emit(state('t2', 'running'))
    const resumed = collect()
    events.replay('*', resumed.listener, { lastEventId: live.got[0][1], states: ['succeeded'] })
    expect(resumed.got.map(([what]) => what)).toEqual(['t1:succeeded'])
    const fresh = collect()
    events.replay('*', fresh.listener, {}) // no id: nothing to resume
    expect(fresh.got).toEqual([])
  })

  test("'*' holds at most the last 1000 state changes", () => {
    const events = new TaskEvents()
    const first = collect()
    const off = events.subscribe('*', first.listener)
    for (let i = 0; i < 1500; i++) events.emit(state(`t${i}`, 'pending'))
    off?.()
    const resumed = collect()
    events.replay('*', resumed.listener, { lastEventId: first.got[0][1] })
    expect(resumed.got).toHaveLength(1000)
    expect(resumed.got[0][0]).toBe('t500:pending')
  })
})

describe('backlog sizes', () => {
  test('a task backlog holds at most 1 MiB of text, and all backlogs together 32 MiB (the oldest tasks go first)', () => {
    const events = new TaskEvents()
    const big = 'x'.repeat(60_000)
    for (let i = 0; i < 50; i++) events.emit(log('t', big)) // 3 MB of lines for one task
    expect(events.recent('t').length).toBeLessThanOrEqual(18)
    expect(events.held().bytes).toBeLessThanOrEqual(1024 * 1024)
    for (let task = 0; task < 100; task++) for (let i = 0; i < 17; i++) events.emit(log(`t${task}`, big))
    const held = events.held()
    expect(held.bytes).toBeLessThanOrEqual(32 * 1024 * 1024)
    expect(held.tasks).toBeLessThan(40)
    expect(events.recent('t')).toEqual([]) // the oldest task's backlog went
    expect(events.recent('t99')).toHaveLength(17)
  })
})
