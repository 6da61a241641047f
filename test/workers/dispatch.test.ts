/** Least-recently-used dispatch with credit, as pure state. */
import { describe, expect, test } from 'vitest'
import { Dispatcher } from '../../workers/dispatch.js'

function dispatcher (workers: Array<[string, number]>, tasks: number[] = []): Dispatcher {
  const d = new Dispatcher()
  for (const [id, slots] of workers) d.addWorker(id, 'exec', slots)
  for (const task of tasks) d.enqueue('exec', task)
  return d
}

describe('assign', () => {
  test.each([
    { name: 'no workers: everything waits', workers: [], tasks: [1, 2], expected: [] },
    { name: 'no tasks: nothing to do', workers: [['a', 1]], tasks: [], expected: [] },
    { name: 'one slot each, in the order workers became ready', workers: [['a', 1], ['b', 1]], tasks: [1, 2, 3], expected: [['a', 1], ['b', 2]] },
    { name: 'credit spreads over workers before stacking on one', workers: [['a', 2], ['b', 2]], tasks: [1, 2, 3, 4, 5], expected: [['a', 1], ['b', 2], ['a', 3], ['b', 4]] },
    { name: 'uneven credit', workers: [['a', 3], ['b', 1]], tasks: [1, 2, 3, 4, 5], expected: [['a', 1], ['b', 2], ['a', 3], ['a', 4]] },
  ] as Array<{ name: string, workers: Array<[string, number]>, tasks: number[], expected: Array<[string, number]> }>)('$name', ({ workers, tasks, expected }) => {
    const d = dispatcher(workers, tasks)
    expect(d.assign('exec').map(a => [a.workerId, a.taskId])).toEqual(expected)
    expect(d.load('exec').queued).toBe(tasks.length - expected.length)
  })

  test('the worker that finished first gets the next task (least recently used)', () => {
    const d = dispatcher([['a', 1], ['b', 1], ['c', 1]], [1, 2, 3])
    d.assign('exec')
    expect(d.complete('c', 3)).toBe(true)
    expect(d.complete('a', 1)).toBe(true)
    d.enqueue('exec', 4)
    d.enqueue('exec', 5)
    expect(d.assign('exec')).toEqual([{ workerId: 'c', taskId: 4 }, { workerId: 'a', taskId: 5 }])
  })

  test('kinds are separate', () => {
    const d = new Dispatcher()
    d.addWorker('m', 'model', 1)
    d.enqueue('exec', 1)
    expect(d.assign('exec')).toEqual([])
    expect(d.assign('model')).toEqual([])
    d.enqueue('model', 2)
    expect(d.assign('model')).toEqual([{ workerId: 'm', taskId: 2 }])
  })
})

describe('bookkeeping', () => {
  test('complete frees a slot only for the worker running the task, once', () => {
    const d = dispatcher([['a', 1], ['b', 1]], [1])
    d.assign('exec')
    expect(d.complete('b', 1)).toBe(false)
    expect(d.complete('a', 1)).toBe(true)
    expect(d.complete('a', 1)).toBe(false)
    expect(d.complete('ghost', 1)).toBe(false)
  })

  test('removing a worker returns its running tasks, which can never complete afterwards', () => {
    const d = dispatcher([['a', 2], ['b', 1]], [1, 2, 3])
    d.assign('exec')
    expect(d.removeWorker('a').sort()).toEqual([1, 3])
    expect(d.complete('a', 1)).toBe(false)
    expect(d.removeWorker('a')).toEqual([])
    expect(d.load('exec')).toEqual({ queued: 0, running: 1, idle: 0, workers: 1, capacity: 1 })
    d.enqueue('exec', 4)
    expect(d.assign('exec')).toEqual([])
  })

  test('dequeue takes only queued tasks; drainQueue empties the queue in order', () => {
    const d = dispatcher([['a', 1]], [1, 2, 3, 4])
    d.assign('exec')
    expect(d.dequeue('exec', 1)).toBe(false)
    expect(d.dequeue('exec', 3)).toBe(true)
    expect(d.drainQueue('exec')).toEqual([2, 4])
    expect(d.load('exec').queued).toBe(0)
  })

  test('a second READY changes the slots', () => {
    const d = dispatcher([['a', 1]], [1, 2, 3])
    d.assign('exec')
    d.addWorker('a', 'exec', 3)
    expect(d.assign('exec').map(a => a.taskId)).toEqual([2, 3])
    expect(() => d.addWorker('a', 'model', 1)).toThrow()
  })

  test('load counts queued, running, idle workers and capacity', () => {
    const d = dispatcher([['a', 2], ['b', 1], ['c', 4]], [1, 2])
    d.assign('exec')
    expect(d.load('exec')).toEqual({ queued: 0, running: 2, idle: 1, workers: 3, capacity: 7 })
    expect(d.running('a')).toBe(1)
    expect(d.running('ghost')).toBe(0)
  })
})
