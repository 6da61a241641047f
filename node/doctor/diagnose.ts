/**
 * Pure diagnosis: from facts gathered about the data dir, the running node and its bootstrap
 * addresses, explain in plain words why peers may not be seen, and what to do.
 */
import type { NodeBodyT, PeerViewT } from '../api/index.js'

export type Severity = 'ok' | 'warn' | 'fail'

export interface Finding { check: string, severity: Severity, message: string, advice?: string }

export interface DoctorFacts {
  dataDir: string
  /** An error message per data-dir file that exists but is unreadable or corrupt. */
  fileErrors: string[]
  hasSwarmKey: boolean
  /** Why the node's API could not be reached, or undefined when it answered. */
  notRunning?: string
  node?: NodeBodyT
  peers?: PeerViewT[]
  /** Each configured or invited bootstrap address and whether a TCP connection opened. */
  bootstrapReachability: Array<{ address: string, tcpOk: boolean, error?: string }>
  now: number
}

const SKEW_LIMIT_MS = 30_000
const FIREWALL_GRACE_MS = 60_000

export function diagnose (f: DoctorFacts): Finding[] {
  const out: Finding[] = []
  for (const e of f.fileErrors) out.push({ check: 'data dir', severity: 'fail', message: e, advice: 'restore the file from a backup, or move it away to have a new one created' })
  if (!f.hasSwarmKey) {
    out.push({ check: 'swarm key', severity: 'fail', message: `no swarm.key in ${f.dataDir}`, advice: 'run `gryphgen init` for a new mesh, or `gryphgen start --join INVITE` to join one' })
  } else if (f.fileErrors.length === 0) {
    out.push({ check: 'data dir', severity: 'ok', message: `identity, swarm key and token readable in ${f.dataDir}` })
  }
  if (f.notRunning !== undefined || f.node === undefined) {
    out.push({ check: 'node', severity: 'fail', message: `node not running: ${f.notRunning ?? 'no answer'}`, advice: `start it with \`gryphgen start --data-dir ${f.dataDir}\`` })
    out.push(...bootstrapFindings(f, new Set()))
    return out
  }
  const node = f.node
  out.push({ check: 'node', severity: 'ok', message: `running as ${node.peerId} since ${node.startedAt}` })
  if (node.addresses.length === 0) {
    out.push({ check: 'listening', severity: 'fail', message: 'nothing is listening for peers', advice: 'check --listen; the node has no transport address' })
  } else if (node.addresses.every(a => /\/ip4\/127\.|\/ip6\/::1\//.test(a))) {
    out.push({ check: 'listening', severity: 'warn', message: 'listening on loopback only: other machines cannot reach this node', advice: 'listen on a LAN address, e.g. --listen /ip4/0.0.0.0/tcp/7410' })
  } else {
    out.push({ check: 'listening', severity: 'ok', message: `listening on ${node.addresses.length} address(es)` })
  }
  const peers = f.peers ?? []
  const connected = new Set(peers.filter(p => p.connected).map(p => p.peerId))
  const total = node.connections.inbound + node.connections.outbound
  if (peers.length === 0 && total === 0) {
    const ways = f.bootstrapReachability.length > 0 || node.mdns
    out.push({
      check: 'peers', severity: 'fail', message: 'no peers and no connections',
      advice: ways ? 'see the bootstrap findings below' : 'mDNS is off and no bootstrap peers are set: join with `gryphgen start --join INVITE` or pass --bootstrap',
    })
  } else if (peers.length === 0) {
    out.push({ check: 'peers', severity: 'warn', message: `${total} connection(s) but no adverts received yet`, advice: 'wait a few advert intervals; if it stays so, the peers may run another gryphgen version (advert topic mismatch)' })
  } else {
    out.push({ check: 'peers', severity: 'ok', message: `${peers.length} live peer(s), ${total} connection(s)` })
  }
  const age = f.now - Date.parse(node.startedAt)
  if (node.connections.inbound === 0 && node.connections.outbound > 0 && age > FIREWALL_GRACE_MS) {
    out.push({ check: 'firewall', severity: 'warn', message: 'only outbound connections after a minute: peers may be unable to dial this node', advice: `open the node's TCP port in the firewall (addresses: ${node.addresses.join(', ')})` })
  }
  const skewed = peers.filter(p => Math.abs(p.clockSkewMs) > SKEW_LIMIT_MS)
  if (skewed.length > 0) {
    out.push({ check: 'clock', severity: 'warn', message: `clock differs by more than 30 s from ${skewed.length} peer(s) (${skewed.map(p => `${p.capabilities.name}: ${Math.round(p.clockSkewMs / 1000)} s`).join(', ')})`, advice: 'enable time sync (NTP, e.g. systemd-timesyncd or chrony) on every machine' })
  } else if (peers.length > 0) {
    out.push({ check: 'clock', severity: 'ok', message: 'clocks agree with peers within 30 s' })
  }
  if (f.node.adverts.rejected > 0) {
    out.push({ check: 'adverts', severity: 'warn', message: `${f.node.adverts.rejected} invalid advert(s) rejected`, advice: 'a peer runs an incompatible or faulty version, or is hostile; check `gryphgen peers` versions' })
  }
  out.push(...bootstrapFindings(f, connected))
  return out
}

function bootstrapFindings (f: DoctorFacts, connectedPeers: Set<string>): Finding[] {
  const dialed = new Map((f.node?.bootstrap ?? []).map(o => [o.address, o]))
  return f.bootstrapReachability.map(b => {
    const peerId = b.address.split('/p2p/')[1] ?? ''
    if (connectedPeers.has(peerId)) return { check: 'bootstrap', severity: 'ok', message: `${b.address}: connected` }
    if (!b.tcpOk) {
      return { check: 'bootstrap', severity: 'fail', message: `${b.address}: unreachable (${b.error ?? 'no TCP connection'})`, advice: 'is that node running? is the address right? a firewall between the machines?' }
    }
    const outcome = dialed.get(b.address)
    if (outcome !== undefined && !outcome.ok) {
      return { check: 'bootstrap', severity: 'fail', message: `${b.address}: TCP port open but the libp2p handshake fails (${outcome.error ?? 'error'})`, advice: 'the swarm keys most likely differ: join with an invite from that mesh (`gryphgen invite` on a member)' }
    }
    return { check: 'bootstrap', severity: 'warn', message: `${b.address}: TCP port open, not connected yet`, advice: 'wait a moment; if it persists, compare swarm keys' }
  })
}
