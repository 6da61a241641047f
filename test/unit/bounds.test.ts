/** Bounds of in-memory structures that grow with traffic (docs/ARCHITECTURE.md, "Bounded memory"). Pure parts. */
import { describe, expect, test } from 'vitest'
import { createRunEstimates, estimateRunMs, nodeRunCount, observeRun } from '../../scheduler/index.js'
import { HeldEntries } from '../../ledger/held.js'
import type { Entry } from '../../protocols/index.js'
import { WeightedLru } from '../../pipeline/corpus/cache.js'

describe('run estimate table', () => {
  test('holds at most maxEntries means per map; a new program evicts the least recently observed', () => {
    const s = createRunEstimates({ maxEntries: 100 })
    observeRun(s, { kind: 'exec', program: 'pytest', node: 'n1', speed: 1, durationMs: 2000 })
    for (let i = 0; i < 500; i++) {
      observeRun(s, { kind: 'exec', program: `made-up-${i}`, node: 'n1', speed: 1, durationMs: 10 })
      // pytest is observed again now and then: recently used, it stays.
      if (i % 50 === 0) observeRun(s, { kind: 'exec', program: 'pytest', node: 'n1', speed: 1, durationMs: 2000 })
    }
    expect(s.classes.size).toBeLessThanOrEqual(100)
    expect(s.nodes.size).toBeLessThanOrEqual(100)
    expect(estimateRunMs(s, 'exec', undefined, 'n1', 1, 'pytest')).toBeCloseTo(2000)
    expect(nodeRunCount(s, 'exec', undefined, 'n1')).toBeGreaterThan(0)
    // An evicted program falls back to the kind's prior (5 s for exec), as one never seen.
    expect(estimateRunMs(s, 'exec', undefined, 'n1', 1, 'made-up-0')).toBe(estimateRunMs(createRunEstimates(), 'exec', undefined, 'n1', 1, 'never-seen'))
  })

  test('the default bound is 10,000 means', () => {
    const s = createRunEstimates()
    for (let i = 0; i < 12_000; i++) observeRun(s, { kind: 'exec', program: `p${i}`, node: `n${i % 7}`, speed: 1, durationMs: 5 })
    expect(s.classes.size).toBe(10_000)
    expect(s.nodes.size).toBe(10_000)
  })
})

describe('held ledger entries', () => {
  test('at most 10,000 entries are held, whatever arrives out of order', () => {
    const held = new HeldEntries()
    const run = (author: string, from: number, count: number): Entry[] =>
      Array.from({ length: count }, (_, i) => ({ author, seq: from + i }) as unknown as Entry)
    for (let a = 0; a < 30; a++) held.hold(run(`author-${a}`, 2, 500))
    expect(held.count).toBe(10_000)
    expect(held.hold(run('another', 2, 10))).toBe(10_000)
  })
})

describe('corpus cache (WeightedLru)', () => {
  test('holds at most its weight; the least recently used go first; an entry heavier than the cap is not kept', () => {
    const lru = new WeightedLru<string, string>(100, text => text.length)
    for (let i = 0; i < 10; i++) lru.set(`k${i}`, 'x'.repeat(20)) // 200 in all: only the last 5 fit
    expect([...Array(10).keys()].filter(i => lru.get(`k${i}`) !== undefined)).toEqual([5, 6, 7, 8, 9])
    lru.get('k5') // used: now the most recent
    lru.set('k10', 'x'.repeat(20))
    expect(lru.get('k5')).toBeDefined()
    expect(lru.get('k6')).toBeUndefined()
    lru.set('huge', 'x'.repeat(101))
    expect(lru.get('huge')).toBeUndefined()
  })
})
