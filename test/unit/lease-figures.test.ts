/** The pinned-sleep lease run's figures from merged task histories (scripts/bench/lease-figures.ts). */
import { describe, expect, test } from 'vitest'
import { gaugeValues, leaseFigures, retryCause, type HistoryEntry } from '../../scripts/bench/lease-figures.js'

const e = (type: string, body: Record<string, unknown> = {}): HistoryEntry => ({ type, author: 'x', body })
const once = [e('submitted'), e('awarded', { attempt: 1 }), e('started', { attempt: 1 }), e('finished', { attempt: 1, outcome: 'succeeded' })]

describe('leaseFigures', () => {
  test('a task that ran once counts nothing', () => {
    const f = leaseFigures(new Map([['t1', once]]))
    expect(f).toMatchObject({ tasks: 1, retriedTasks: 0, leasesLost: 0, ranTwice: 0 })
  })

  test('a lease expiry while the first attempt ran: a lease lost, a task run twice', () => {
    const f = leaseFigures(new Map([['t1', [
      e('submitted'), e('awarded', { attempt: 1 }), e('started', { attempt: 1 }),
      e('retried', { attempt: 1, reason: 'lease expired: no heartbeat from P for 5200 ms' }),
      e('awarded', { attempt: 2 }), e('started', { attempt: 2 }), e('finished', { attempt: 2, outcome: 'succeeded' }),
      e('finished', { attempt: 1, outcome: 'succeeded' }),
    ]]]))
    expect(f).toMatchObject({ retriedTasks: 1, leasesLost: 1, ranTwice: 1 })
    expect(f.causes['lease expired']).toBe(1)
    expect(f.examples['ran twice']).toEqual(['t1'])
  })

  test('a takeover is a lease lost; a declined award is a second attempt but neither lost nor run twice', () => {
    const f = leaseFigures(new Map([
      ['t1', [...once, e('adopted', { epoch: 2, reason: 'auctioneer A gone' })]],
      ['t2', [e('submitted'), e('awarded', { attempt: 1 }), e('retried', { attempt: 1, reason: 'award declined: busy' }), e('awarded', { attempt: 2 }), e('started', { attempt: 2 })]],
    ]))
    expect(f).toMatchObject({ retriedTasks: 1, leasesLost: 1, ranTwice: 0 })
    expect(f.causes).toMatchObject({ takeover: 1, 'award declined': 1 })
  })

  test.each([
    ['lease expired: no heartbeat from P for 9000 ms', 'lease expired'],
    ['WorkerLostError: worker 3 exited', 'worker lost'],
    ['award declined: not mine', 'award declined'],
    ['something else', 'other'],
  ])('retry reason %j is %s', (reason, cause) => {
    expect(retryCause(reason)).toBe(cause)
  })
})

test('gaugeValues reads a gauge with and without labels, and not a longer name', () => {
  const text = [
    '# HELP gryphgen_lease_margin_seconds x',
    'gryphgen_lease_margin_seconds{holder="P1"} 0.25',
    'gryphgen_lease_margin_seconds{holder="P2"} 1.5',
    'nodejs_eventloop_lag_p99_seconds 0.012',
    'nodejs_eventloop_lag_p99_seconds_extra 9',
  ].join('\n')
  expect(gaugeValues(text, 'gryphgen_lease_margin_seconds')).toEqual([{ labels: 'holder="P1"', value: 0.25 }, { labels: 'holder="P2"', value: 1.5 }])
  expect(gaugeValues(text, 'nodejs_eventloop_lag_p99_seconds')).toEqual([{ labels: '', value: 0.012 }])
})
