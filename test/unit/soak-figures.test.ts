import { describe, expect, test } from 'vitest'
import { plateau } from '../../scripts/bench/soak-figures.js'

const series = (values: number[]) => values.map((value, i) => ({ at: i * 10_000, value }))

describe('the soak plateau figure (slope of the last half after the warm-up, relative to its mean)', () => {
  test('a constant is flat, with no scatter', () => {
    expect(plateau(series(Array(20).fill(4)), 0)).toMatchObject({ samples: 10, mean: 4, change: 0, flat: true, changeError: 0 })
  })

  test('a line growing 10% across the last half is not flat; only samples after the warm-up count', () => {
    // After the warm-up 20 samples; the last half rises from 100 to 110 (mean 105): a change of 10/105.
    const p = plateau(series([...Array(10).fill(1), ...Array(10).fill(50), ...Array.from({ length: 10 }, (_, i) => 100 + i * 10 / 9)]), 100_000)
    expect(p.samples).toBe(10)
    expect(p.change).toBeCloseTo(10 / 105, 6)
    expect(p.flat).toBe(false)
  })

  test('a sawtooth around a level reads as a change beyond ±5%, within twice the error it reports', () => {
    const p = plateau(series(Array.from({ length: 40 }, (_, i) => 1 + 0.3 * (i % 2 === 0 ? -1 : 1))), 0)
    expect(Math.abs(p.change ?? 0)).toBeGreaterThan(0.05)
    expect(Math.abs(p.change ?? 1)).toBeLessThan(2 * (p.changeError ?? 0))
  })

  test('fewer than 3 samples after the warm-up: no figure', () => {
    expect(plateau(series([1, 2, 3, 4]), 20_000)).toMatchObject({ change: undefined, flat: false })
  })
})
