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
