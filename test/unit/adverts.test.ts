import { describe, expect, test } from 'vitest'
import { ADVERT_MAX_BYTES, decodeAdvert, encodeAdvert, type Advert, type Capabilities } from '../../protocols/advert.js'
import { meanIntervalMs, nextDelayMs, promisedIntervalMs, promptRefillPerMs, EXPIRY_INTERVALS } from '../../node/capabilities/interval.js'
import { PublishBudget } from '../../node/capabilities/budget.js'
import { PeerTable } from '../../node/capabilities/peer-table.js'
import { isSignificantChange } from '../../node/capabilities/capabilities.js'
import { caps } from '../helpers/fixtures.js'

const PEER = '12D3KooWL1LGqoqgH2GSq6Hsj2KxN9ZnQwwnU5KE1ZUTwod7rv1y'
const advert = (over: Partial<Advert> = {}): Advert => ({ v: 1, peerId: PEER, seq: 10, sentAt: 1000, intervalMs: 6000, addresses: [], capabilities: caps, ...over })
const bytes = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v))

describe('advert validation', () => {
  test('a valid advert decodes', () => {
    expect(decodeAdvert(encodeAdvert(advert()), PEER)).toEqual(advert())
  })

  test.each([
    ['not JSON', new TextEncoder().encode('{nope')],
    ['not UTF-8', new Uint8Array([0xff, 0xfe, 0x00])],
    ['wrong version', bytes(advert({ v: 2 as 1 }))],
    ['missing capabilities', bytes({ ...advert(), capabilities: undefined })],
    ['negative cores', bytes(advert({ capabilities: { ...caps, cpu: { ...caps.cpu, cores: -1 } } }))],
    ['extra field', bytes({ ...advert(), admin: true })],
    ['huge label', bytes(advert({ capabilities: { ...caps, labels: ['x'.repeat(100)] } }))],
    ['oversized', bytes({ ...advert(), pad: 'x'.repeat(ADVERT_MAX_BYTES) })],
    ['interval too short', bytes(advert({ intervalMs: 1 }))],
  ])('%s is rejected', (_name, data) => {
    expect(() => decodeAdvert(data, PEER)).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
  })

  test('an advert signed by another peer than it claims is forged', () => {
    expect(() => decodeAdvert(encodeAdvert(advert()), '12D3KooWRjxfZ2pwHSkhskHFsuRAFp79ga4VCnXH8iwu2MhxSXyJ')).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
  })

  test('an advert stays compact', () => {
    expect(encodeAdvert(advert()).byteLength).toBeLessThan(1024)
  })
})

describe('advert pacing keeps the receive rate bounded', () => {
  const init = { baseIntervalMs: 5000, maxReceiveRate: 20 }
  test.each([
    [1, 5000], [5, 5000], [80, 5000], [100, 6250], [1000, 62_500], [10_000, 625_000],
  ])('%i nodes: mean interval %i ms', (nodes, expected) => {
    expect(meanIntervalMs(nodes, init)).toBe(expected)
  })

  test.each([1, 5, 80, 100, 1000, 10_000, 100_000])('%i nodes: regular plus prompt adverts of all nodes stay within 20/s', (nodes) => {
    const perNode = 1000 / meanIntervalMs(nodes, init) + promptRefillPerMs(nodes, init) * 1000
    expect(nodes * perNode).toBeLessThanOrEqual(20 + 1e-9)
    expect(promptRefillPerMs(nodes, init)).toBeGreaterThan(0) // always some room for a prompt change
  })

  test('jitter stays within +-20% and the promise covers the longest gap', () => {
    for (const r of [0, 0.25, 0.5, 0.999]) {
      const d = nextDelayMs(50, init, r)
      expect(d).toBeGreaterThanOrEqual(4000)
      expect(d).toBeLessThanOrEqual(promisedIntervalMs(50, init))
    }
  })

  test('the prompt budget allows a burst of 3, then its refill rate', () => {
    const budget = new PublishBudget(0)
    const refill = 1 / 5000
    let sent = 0
    for (let t = 0; t <= 60_000; t += 100) if (budget.trySpend(t, refill)) sent++
    expect(sent).toBeLessThanOrEqual(60_000 / 5000 + 3)
    expect(sent).toBeGreaterThanOrEqual(60_000 / 5000)
    expect(budget.trySpend(60_000, refill)).toBe(false)
  })
})

describe('peer table', () => {
  test('expires a peer after 3 promised intervals', () => {
    const table = new PeerTable()
    expect(table.upsert(advert(), 0)).toBe('new')
    expect(table.sweep(EXPIRY_INTERVALS * 6000 - 1)).toEqual([])
    expect(table.sweep(EXPIRY_INTERVALS * 6000)).toEqual([PEER])
    expect(table.size).toBe(0)
  })

  test('a newer advert extends life; a replayed one changes nothing', () => {
    const table = new PeerTable()
    table.upsert(advert({ seq: 10 }), 0)
    expect(table.upsert(advert({ seq: 11, capabilities: { ...caps, labels: ['new'] } }), 10_000)).toBe('updated')
    expect(table.upsert(advert({ seq: 10 }), 11_000)).toBe('stale')
    expect(table.get(PEER)?.advert.capabilities.labels).toEqual(['new'])
    expect(table.sweep(20_000)).toEqual([])
  })

  test('bounded: a full table refuses new peers (known ones still update) until expired ones are swept', () => {
    const table = new PeerTable(3)
    for (const [i, intervalMs] of [[1, 1000], [2, 60_000], [3, 60_000]]) expect(table.upsert(advert({ peerId: `peer-${i}`, intervalMs }), 0)).toBe('new')
    expect(table.upsert(advert({ peerId: 'peer-4' }), 1000)).toBe('full')
    expect(table.size).toBe(3)
    expect(table.upsert(advert({ peerId: 'peer-2', seq: 99 }), 1000)).toBe('updated')
    // peer-1 promised adverts every second: 3 intervals later it is gone, and there is room.
    expect(table.upsert(advert({ peerId: 'peer-4' }), EXPIRY_INTERVALS * 1000)).toBe('new')
    expect(table.get('peer-1')).toBeUndefined()
    expect(table.size).toBe(3)
  })

  test('clock skew is estimated from sentAt', () => {
    const table = new PeerTable()
    table.upsert(advert({ sentAt: 100_000 }), 40_000)
    expect(table.get(PEER)?.clockSkewMs).toBe(60_000)
  })
})

describe('significant change', () => {
  test.each([
    ['identical', caps, false],
    ['small load change', { ...caps, load: { avg1: 1, cpuPercent: 20 } }, false],
    ['load jump', { ...caps, load: { avg1: 1, cpuPercent: 60 } }, true],
    ['memory drop of 10%', { ...caps, memory: { totalMb: 16000, availableMb: 6000 } }, true],
    ['label change', { ...caps, labels: ['slow'] }, true],
    ['gpu removed', { ...caps, gpus: [] }, true],
  ])('%s', (_name, after, expected) => {
    expect(isSignificantChange(caps, after as Capabilities)).toBe(expected)
  })
})
