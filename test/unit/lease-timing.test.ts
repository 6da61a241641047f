/** The pure lease decisions under load (issue 20, item 2): margin, expiry, early renewal, windowed max. */
import { describe, expect, test } from 'vitest'
import { leaseExpired, leaseMarginMs, MAX_MARGIN_LEASES, renewalIntervalMs, WindowedMax } from '../../tasks/lease-timing.js'

const base = { leaseMs: 2000, holderLatenessMs: 0, ownDelayMs: 0 }

describe('leaseExpired', () => {
  test.each([
    // [missed by, holder lateness, own delay, expired]
    [1999, 0, 0, false],
    [2001, 0, 0, true],
    [3000, 1200, 0, false], // a holder whose renewals came 1.2 s late keeps a 3 s gap
    [3300, 1200, 0, true],
    [3000, 0, 1500, false], // this node stalled itself: its queued renewals are unread
    [3200, 800, 500, false], // both add up
    [3400, 500, 500, true],
    [5999, 50_000, 0, false], // the margin is capped...
    [6001, 50_000, 50_000, true], // ...so a dead holder still loses its lease
  ])('missed by %i ms, holder %i ms late, own delay %i ms: expired %s', (missed, holderLatenessMs, ownDelayMs, expired) => {
    expect(leaseExpired({ ...base, now: 10_000 + missed, lastRenewal: 10_000, holderLatenessMs, ownDelayMs })).toBe(expired)
  })

  test('negative figures add nothing; the cap is MAX_MARGIN_LEASES leases', () => {
    expect(leaseMarginMs({ ...base, holderLatenessMs: -300, ownDelayMs: -1 })).toBe(0)
    expect(leaseMarginMs({ ...base, holderLatenessMs: 1e9 })).toBe(MAX_MARGIN_LEASES * base.leaseMs)
  })
})

describe('renewalIntervalMs', () => {
  test.each([
    [1000, 0, 1000],
    [1000, 100, 800], // renew early as the loop delay grows
    [1000, 300, 400],
    [1000, 5000, 250], // never below a quarter of the heartbeat
    [1000, -5, 1000],
  ])('heartbeat %i ms, loop delay %i ms: next renewal in %i ms', (heartbeatMs, delayMs, expected) => {
    expect(renewalIntervalMs(heartbeatMs, delayMs)).toBe(expected)
  })
})

describe('WindowedMax', () => {
  test('keeps the largest value within the window, forgets older ones', () => {
    const max = new WindowedMax(1000)
    expect(max.max(0)).toBe(0)
    max.add(0, 500)
    max.add(100, 200)
    expect(max.max(900)).toBe(500)
    expect(max.max(1050)).toBe(200) // 500 left the window
    max.add(1100, 300)
    expect(max.max(1150)).toBe(300)
    expect(max.max(5000)).toBe(0)
  })

  test('is bounded by its capacity', () => {
    const max = new WindowedMax(1e9, 4)
    for (let i = 0; i < 100; i++) max.add(i, 1000 - i) // decreasing: every sample is kept until capacity
    expect(max.max(100)).toBe(1000 - 96)
  })
})
