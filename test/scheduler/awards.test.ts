import { describe, expect, test } from 'vitest'
import { RecentAwards } from '../../scheduler/index.js'

describe('awards a bid cannot know of', () => {
  test('open awards and awards chosen since the bid was asked count; declined and earlier closed ones do not', () => {
    const awards = new RecentAwards(30_000)
    const early = awards.started('n1', 100)
    early.open = false // answered before the next auction asked: its node's bid includes it
    expect(awards.unseen('n1', 200)).toBe(0)
    const inFlight = awards.started('n1', 150) // chosen before the ask, answer still awaited
    expect(awards.unseen('n1', 200)).toBe(1)
    const since = awards.started('n1', 250) // chosen after the ask (a concurrent auction)
    since.open = false
    expect(awards.unseen('n1', 200)).toBe(2)
    inFlight.open = false
    expect(awards.unseen('n1', 200)).toBe(1)
    const declined = awards.started('n1', 260)
    declined.open = false
    declined.declined = true
    expect(awards.unseen('n1', 200)).toBe(1)
    expect(awards.unseen('n2', 200)).toBe(0)
  })

  test('closed awards are forgotten after the memory; open ones are kept however old', () => {
    const awards = new RecentAwards(1_000)
    const old = awards.started('n', 0)
    const stuck = awards.started('n', 10) // never answered yet
    old.open = false
    awards.started('n', 5_000).open = false // prunes what is older than the memory
    expect(awards.unseen('n', 0)).toBe(2) // stuck (open) and the new one; the old closed one is gone
    expect(awards.unseen('n', 6_000)).toBe(1) // asked after them all: only the open one
    stuck.open = false
    expect(awards.unseen('n', 6_000)).toBe(0)
  })
})
