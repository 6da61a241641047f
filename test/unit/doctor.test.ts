import { describe, expect, test } from 'vitest'
import { diagnose, type DoctorFacts } from '../../node/doctor/index.js'
import type { NodeBodyT, PeerViewT } from '../../node/api/index.js'
import { caps, taskStats, workerStats } from '../helpers/fixtures.js'

const NOW = Date.parse('2026-01-01T00:10:00Z')
const PEER = '12D3KooWRjxfZ2pwHSkhskHFsuRAFp79ga4VCnXH8iwu2MhxSXyJ'
const BOOT = `/ip4/127.0.0.1/tcp/7410/p2p/${PEER}`
const node = (over: Partial<NodeBodyT> = {}): NodeBodyT => ({
  peerId: 'me', name: 'me', startedAt: '2026-01-01T00:00:00Z', addresses: ['/ip4/192.168.1.2/tcp/7410/p2p/me'],
  connections: { inbound: 1, outbound: 1 }, capabilities: caps, adverts: { published: 3, accepted: 3, rejected: 0, stale: 0 },
  bootstrap: [], mdns: false, workers: workerStats, tasks: taskStats, ...over,
})
const peer = (over: Partial<PeerViewT> = {}): PeerViewT => ({ peerId: PEER, addresses: [], capabilities: caps, lastSeen: new Date(NOW).toISOString(), clockSkewMs: 5, connected: true, ...over })
const facts = (over: Partial<DoctorFacts> = {}): DoctorFacts => ({ dataDir: '/d', fileErrors: [], hasSwarmKey: true, node: node(), peers: [peer()], bootstrapReachability: [], now: NOW, ...over })
const find = (f: DoctorFacts, check: string) => diagnose(f).filter(x => x.check === check)

describe('doctor', () => {
  test('a healthy node has no failures or warnings', () => {
    expect(diagnose(facts()).every(f => f.severity === 'ok')).toBe(true)
  })

  test('no swarm key', () => {
    expect(find(facts({ hasSwarmKey: false }), 'swarm key')[0].severity).toBe('fail')
  })

  test('node not running still checks bootstrap reachability', () => {
    const f = diagnose(facts({ node: undefined, peers: undefined, notRunning: 'ECONNREFUSED', bootstrapReachability: [{ address: BOOT, tcpOk: false, error: 'ECONNREFUSED' }] }))
    expect(f.find(x => x.check === 'node')?.severity).toBe('fail')
    expect(f.find(x => x.check === 'bootstrap')?.message).toContain('unreachable')
  })

  test('TCP open but handshake failing points at the swarm key', () => {
    const f = facts({
      peers: [], node: node({ connections: { inbound: 0, outbound: 0 }, bootstrap: [{ address: BOOT, ok: false, error: 'stream reset', at: NOW }] }),
      bootstrapReachability: [{ address: BOOT, tcpOk: true }],
    })
    const [b] = find(f, 'bootstrap')
    expect(b.severity).toBe('fail')
    expect(b.advice).toContain('swarm key')
    expect(find(f, 'peers')[0].severity).toBe('fail')
  })

  test('nothing to find peers with', () => {
    const [p] = find(facts({ peers: [], node: node({ connections: { inbound: 0, outbound: 0 } }) }), 'peers')
    expect(p.advice).toContain('--join')
  })

  test('loopback-only listening is a warning', () => {
    expect(find(facts({ node: node({ addresses: ['/ip4/127.0.0.1/tcp/1/p2p/me'] }) }), 'listening')[0].severity).toBe('warn')
  })

  test('only outbound connections after a minute suggests a firewall', () => {
    expect(find(facts({ node: node({ connections: { inbound: 0, outbound: 3 } }) }), 'firewall')[0].severity).toBe('warn')
    expect(find(facts({ node: node({ connections: { inbound: 0, outbound: 3 }, startedAt: new Date(NOW - 5000).toISOString() }) }), 'firewall')).toEqual([])
  })

  test('clock skew over 30 s is reported', () => {
    expect(find(facts({ peers: [peer({ clockSkewMs: 90_000 })] }), 'clock')[0].severity).toBe('warn')
  })

  test('corrupt files fail', () => {
    expect(find(facts({ fileErrors: ['identity.key is corrupt'] }), 'data dir')[0].severity).toBe('fail')
  })
})
