import { describe, expect, test } from 'vitest'
import { compareQueued, effectivePriority, queueKey, type Queued } from '../../scheduler/index.js'

const AGING = 1_000
const q = (id: string, priority: number, submittedAt: number): Queued => ({ id, priority, submittedAt })

describe('queue order with aging', () => {
  test.each([
    ['higher priority first', [q('a', 1, 0), q('b', 5, 0)], ['b', 'a']],
    ['same priority: older first', [q('a', 5, 10), q('b', 5, 0)], ['b', 'a']],
    ['same everything: by id', [q('b', 5, 0), q('a', 5, 0)], ['a', 'b']],
    ['old low priority overtakes new high priority', [q('new9', 9, 10_000), q('old0', 0, 0)], ['old0', 'new9']],
    ['not yet: 8.5 levels of age is not 9', [q('new9', 9, 8_500), q('old0', 0, 0)], ['new9', 'old0']],
  ])('%s', (_name, tasks, order) => {
    expect([...tasks].sort(compareQueued(AGING)).map(t => t.id)).toEqual(order)
  })

  test('effective priority grows with waiting, and the order it gives is the static key\'s', () => {
    const a = q('a', 2, 0)
    const b = q('b', 6, 3_000)
    expect(effectivePriority(a, 0, AGING)).toBe(2)
    expect(effectivePriority(a, 5_000, AGING)).toBe(7)
    for (const now of [3_000, 5_000, 100_000]) {
      const byEffective = Math.sign(effectivePriority(b, now, AGING) - effectivePriority(a, now, AGING))
      expect(byEffective).toBe(Math.sign(queueKey(a, AGING) - queueKey(b, AGING)))
    }
  })

  test('nothing starves under a constant stream of priority 9 work', () => {
    // One slot; a priority-9 task of 100 ms arrives every 100 ms forever; a priority-0 task waits.
    const queue: Queued[] = [q('low', 0, 0)]
    const cmp = compareQueued(AGING)
    let now = 0
    let next = 0
    let ranLowAt = -1
    for (let step = 0; step < 1_000 && ranLowAt < 0; step++) {
      for (; next <= now; next += 100) queue.push(q(`hi${next}`, 9, next))
      queue.sort(cmp)
      const run = queue.shift()
      if (run?.id === 'low') ranLowAt = now
      now += 100
    }
    expect(ranLowAt).toBeGreaterThan(0)
    expect(ranLowAt).toBeLessThanOrEqual(9 * AGING + 100)
  })
})
