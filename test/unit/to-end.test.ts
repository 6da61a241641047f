import { expect, test } from 'vitest'
import { runToEnd, type TaskOps } from '../../tasks/index.js'
import type { TaskEvent, TaskViewT } from '../../protocols/index.js'

/** A task table in memory: enough of TaskOps to follow one task. */
function fakeOps (): TaskOps & { emit: (view: Partial<TaskViewT>) => void, cancelled: string[] } {
  let listener: ((event: TaskEvent) => void) | undefined
  let view = { id: 't1', state: 'pending' } as TaskViewT
  const cancelled: string[] = []
  return {
    cancelled,
    submitWatched: async (_body, l) => { listener = l; return { id: 't1' } },
    get: async () => view,
    cancel: async (id) => { cancelled.push(id) },
    emit: (next) => { view = { ...view, ...next }; listener?.({ type: 'state', task: view } as TaskEvent) },
  }
}

test('a task blocked as impossible ends the wait, and cancel() still cancels it', async () => {
  const ops = fakeOps()
  const running = await runToEnd(ops, { kind: 'embed' })
  ops.emit({ blocked: { at: new Date().toISOString(), verdict: 'impossible', nodes: 1, reasons: [] } })
  expect((await running.done).blocked?.verdict).toBe('impossible')
  running.cancel()
  expect(ops.cancelled).toEqual(['t1'])
})

test('a task that ended is not cancelled', async () => {
  const ops = fakeOps()
  const running = await runToEnd(ops, { kind: 'noop' })
  ops.emit({ state: 'succeeded' })
  expect((await running.done).state).toBe('succeeded')
  running.cancel()
  expect(ops.cancelled).toEqual([])
})
