/** `gryphgen peers` and `gryphgen node`: readable tables by default, `--json` for scripts. */
import type { NodeBodyT, PeerViewT } from '../../api/index.js'
import type { Capabilities } from '../../../protocols/index.js'
import { ago, mb, shortId, table } from '../output.js'

const gpus = (c: Capabilities): string => c.gpus.length === 0 ? '-' : c.gpus.map(g => `${g.model} (${mb(g.vramMb)})`).join(', ')

export function formatPeers (peers: PeerViewT[], now = Date.now()): string {
  if (peers.length === 0) return 'no live peers (see `gryphgen doctor`)'
  return table(
    ['PEER', 'NAME', 'CPUS', 'MEMORY FREE/TOTAL', 'GPUS', 'LOAD', 'LABELS', 'SEEN'],
    peers.map(p => [
      shortId(p.peerId), p.capabilities.name, String(p.capabilities.cpu.cores),
      `${mb(p.capabilities.memory.availableMb)}/${mb(p.capabilities.memory.totalMb)}`, gpus(p.capabilities),
      `${p.capabilities.load.cpuPercent}%`, p.capabilities.labels.join(',') || '-', ago(p.lastSeen, now),
    ]),
  )
}

export function formatNode (n: NodeBodyT): string {
  const c = n.capabilities
  const rows: Array<[string, string]> = [
    ['peer id', n.peerId],
    ['name', n.name],
    ['version', `${c.version} (node ${c.nodeVersion})`],
    ['started', n.startedAt],
    ['addresses', n.addresses.join('\n             ') || '-'],
    ['connections', `${n.connections.inbound} in, ${n.connections.outbound} out`],
    ['cpu', `${c.cpu.model}, ${c.cpu.cores} cores (${c.cpu.physicalCores} physical), ${c.cpu.arch}`],
    ['memory', `${mb(c.memory.availableMb)} free of ${mb(c.memory.totalMb)}`],
    ['gpus', gpus(c)],
    ['disk free', mb(c.diskFreeMb)],
    ['load', `${c.load.cpuPercent}% cpu, load avg ${c.load.avg1}`],
    ['os', `${c.os.distro} ${c.os.release} (${c.os.platform})`],
    ['labels', c.labels.join(', ') || '-'],
    ['sandbox', c.sandbox === null ? 'not available' : `${c.sandbox.available ? 'available' : 'unavailable'} (${c.sandbox.isolation}, limits: ${c.sandbox.limits})`],
    ['models', c.models.length === 0 ? '-' : c.models.map(m => m.name).join(', ')],
    ['adverts', `${n.adverts.published} sent, ${n.adverts.accepted} accepted, ${n.adverts.rejected} rejected`],
  ]
  return rows.map(([k, v]) => `${k.padEnd(11)}  ${v}`).join('\n')
}
