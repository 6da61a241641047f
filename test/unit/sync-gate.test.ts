import { describe, expect, test } from 'vitest'
import { SyncGate } from '../../tasks/sync-gate.js'

const LEASE = 1000
const gate = (): SyncGate => new SyncGate({ startedAt: 0, leaseMs: LEASE, aloneMs: 2 * LEASE })
const facts = (f: Partial<{ connected: boolean, synced: boolean, entries: number, indexed: number }> = {}) => ({ connected: false, synced: false, entries: 10, indexed: 10, ...f })

describe('sync gate: a (re)started node acts on its ledger only once it has synced', () => {
  test('connected but not synced: neither resumes its own tasks nor takes over, however long', () => {
    const g = gate()
    for (const now of [0, LEASE, 10 * LEASE, 100 * LEASE]) expect(g.observe(now, facts({ connected: true }))).toEqual({ resume: false, takeOver: false })
  })

  test('synced but the sync not indexed yet: waits for the index to reach what the sync brought', () => {
    const g = gate()
    expect(g.observe(100, facts({ connected: true, synced: true, entries: 500, indexed: 20 })).resume).toBe(false)
    expect(g.observe(200, facts({ connected: true, synced: true, entries: 520, indexed: 499 })).resume).toBe(false)
    expect(g.observe(300, facts({ connected: true, synced: true, entries: 530, indexed: 500 })).resume).toBe(true)
    expect(g.readyAt).toBe(300)
  })

  test('takes over only a full lease after it became ready, and only while connected', () => {
    const g = gate()
    expect(g.observe(100, facts({ connected: true, synced: true }))).toEqual({ resume: true, takeOver: false })
    expect(g.observe(100 + LEASE - 1, facts({ connected: true, synced: true })).takeOver).toBe(false)
    expect(g.observe(100 + LEASE, facts({ connected: true, synced: true })).takeOver).toBe(true)
    expect(g.observe(100 + 2 * LEASE, facts({ connected: false, synced: true }))).toEqual({ resume: true, takeOver: false })
  })

  test('never connected: resumes its own tasks after aloneMs, never takes over', () => {
    const g = gate()
    expect(g.observe(2 * LEASE - 1, facts()).resume).toBe(false)
    expect(g.observe(2 * LEASE, facts())).toEqual({ resume: true, takeOver: false })
    expect(g.observe(50 * LEASE, facts({ synced: true }))).toEqual({ resume: true, takeOver: false })
  })

  test('connected once and cut off before syncing: keeps waiting for a sync (others may hold its tasks)', () => {
    const g = gate()
    g.observe(10, facts({ connected: true }))
    expect(g.observe(10 * LEASE, facts())).toEqual({ resume: false, takeOver: false })
  })
})
