import { describe, expect, test } from 'vitest'
import fc from 'fast-check'
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

  test('property: the same counts as a sweep of every remembered award, over random awards, answers and asks', () => {
    fc.assert(fc.property(fc.array(fc.record({ gap: fc.nat(400), node: fc.nat(2), close: fc.nat(5), declined: fc.boolean(), askBack: fc.nat(999) }), { maxLength: 300 }), steps => {
      const memoryMs = 1000
      const awards = new RecentAwards(memoryMs)
      // The reference: every award ever made, filtered as the definition says (a bid is asked
      // within the memory, so what was forgotten never counts).
      const all: Array<{ node: string, mark: { at: number, open: boolean, declined: boolean } }> = []
      let now = 0
      for (const step of steps) {
        now += step.gap
        const node = `n${step.node}`
        all.push({ node, mark: awards.started(node, now) })
        // Close one of the recent awards (answers come out of order), sometimes as declined.
        const target = all[Math.max(0, all.length - 1 - step.close)].mark
        if (target.open && step.close % 2 === 0) { target.open = false; target.declined = step.declined }
        const askedAt = now - step.askBack
        for (const n of ['n0', 'n1', 'n2']) {
          const expected = all.filter(a => a.node === n && (a.mark.open || (a.mark.at >= askedAt && !a.mark.declined))).length
          expect(awards.unseen(n, askedAt)).toBe(expected)
        }
      }
    }), { numRuns: 200 })
  })
})
