/** The stats history's ring and sampling (node/stats), with a scripted source. */
import { describe, expect, test } from 'vitest'
import { Ring, StatsHistory, syncLag, type StatsSource } from '../../node/stats/index.js'
import { silentLogger } from '../../base/index.js'

describe('Ring', () => {
  test('keeps the latest `capacity` items, oldest first', () => {
    const ring = new Ring<number>(3)
    expect(ring.toArray()).toEqual([])
    for (let i = 1; i <= 2; i++) ring.push(i)
    expect(ring.toArray()).toEqual([1, 2])
    for (let i = 3; i <= 7; i++) ring.push(i)
    expect(ring.toArray()).toEqual([5, 6, 7])
    expect(ring.size).toBe(3)
  })

  test('refuses a capacity that is not a positive integer', () => {
    expect(() => new Ring(0)).toThrow(RangeError)
    expect(() => new Ring(1.5)).toThrow(RangeError)
  })
})

function source (): StatsSource & { emit: (state: string) => void, fail: boolean } {
  let listener: ((state: string) => void) | undefined
  const s = {
    fail: false,
    emit: (state: string) => listener?.(state),
    nodes: async () => {
      if (s.fail) throw new Error('not running')
      return [{ peerId: 'a', name: 'a', cpuPercent: 10 }, { peerId: 'b', name: 'b', cpuPercent: 50 }]
    },
    tasksIn: async (state: 'awarded' | 'running') => state === 'running' ? [{ node: 'a' }, { node: 'a' }, { node: 'b' }] : [{ node: 'b' }, {}],
    onStateChange: (l: (state: string) => void) => { listener = l; return () => { listener = undefined } },
  }
  return s
}

describe('StatsHistory', () => {
  test('a sample per node: advertised CPU, queued and running from the ledger; transitions since the sample before', async () => {
    const src = source()
    const history = new StatsHistory(src, silentLogger(), { intervalMs: 3_600_000 })
    history.start()
    await history.stop() // the first sample was taken at start
    expect(history.samples()).toHaveLength(1)
    expect(history.samples()[0].nodes).toEqual([
      { peerId: 'a', name: 'a', cpuPercent: 10, queued: 0, running: 2 },
      { peerId: 'b', name: 'b', cpuPercent: 50, queued: 1, running: 1 },
    ])
    history.start()
    await history.sample() // after the sample start takes
    src.emit('succeeded'); src.emit('succeeded'); src.emit('failed')
    await history.sample()
    expect(history.samples().at(-1)?.transitions).toEqual({ succeeded: 2, failed: 1 })
    await history.sample()
    expect(history.samples().at(-1)?.transitions).toEqual({})
    await history.stop()
    src.emit('succeeded') // after stop: not counted
    await history.sample()
    expect(history.samples().at(-1)?.transitions).toEqual({})
  })

  test('bounded: keeps keepMs / intervalMs samples; a failed sample leaves none', async () => {
    const src = source()
    const history = new StatsHistory(src, silentLogger(), { intervalMs: 1000, keepMs: 4000 })
    for (let i = 0; i < 10; i++) await history.sample()
    expect(history.samples()).toHaveLength(4)
    src.fail = true
    const before = history.samples()
    await history.sample()
    expect(history.samples()).toEqual(before)
    expect(history.view().intervalMs).toBe(1000)
  })
})

describe('syncLag', () => {
  test('entries a peer lacked, summed over authors; a peer ahead on an author is not negative', () => {
    const peers = new Map<string, { vv: Record<string, number>, at: number }>([['p1', { vv: { a: 3, b: 9 }, at: 5 }], ['p2', { vv: {}, at: 6 }]])
    expect(syncLag({ a: 5, b: 7, c: 1 }, peers)).toEqual([{ peerId: 'p1', behind: 3, syncedAt: 5 }, { peerId: 'p2', behind: 13, syncedAt: 6 }])
  })
})
