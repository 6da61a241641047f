/** Mesh: every live node with its resources, load, labels, sandbox and models; this node marked; charts of the last hour. */
import { api } from '../api.js'
import { Charts } from '../charts.js'
import { ago, short, useMesh, usePoll } from '../hooks.js'
import type { Capabilities, StatsHistory } from '../types.js'

interface Row { peerId: string, addresses: string[], caps: Capabilities, self: boolean, lastSeen?: string, skew?: number, connected?: boolean, queued?: number, running?: number }

const gb = (mb: number): string => `${(mb / 1024).toFixed(1)} GiB`

function NodeRow ({ r }: { r: Row }) {
  const c = r.caps
  return (
    <tr data-testid='node-row' class={r.self ? 'self' : ''}>
      <td><span data-testid='node-name'>{c.name}</span>{r.self && <span class='badge'>this node</span>}<div class='muted' title={r.peerId}>{short(r.peerId)}</div></td>
      <td class='addresses'>{r.addresses.map(a => <div key={a}>{a}</div>)}</td>
      <td>{c.cpu.cores} cores<div class='muted'>{c.cpu.model}</div></td>
      <td>{gb(c.memory.availableMb)} free<div class='muted'>of {gb(c.memory.totalMb)}</div></td>
      <td>{c.gpus.length === 0 ? '—' : c.gpus.map((g, i) => <div key={i}>{g.model ?? g.vendor ?? 'GPU'}{g.vramMb !== undefined ? ` (${gb(g.vramMb)})` : ''}</div>)}</td>
      <td>{c.load.cpuPercent.toFixed(0)}%<div class='muted'>avg1 {c.load.avg1.toFixed(2)}</div></td>
      <td>{gb(c.diskFreeMb)}</td>
      <td>{c.labels.map(l => <span key={l} class='label' data-testid='node-label'>{l}</span>)}</td>
      <td>{c.sandbox === null ? 'probing' : c.sandbox.available ? `${c.sandbox.isolation ?? 'yes'}` : 'none'}<div class='muted'>{(c.sandbox?.runtimes ?? []).join(', ')}</div></td>
      <td>{c.models.map(m => <div key={m.name}>{m.name}{m.generationTokensPerSecond !== undefined ? ` ${m.generationTokensPerSecond.toFixed(1)} tok/s` : ''}{m.loaded ? ' (loaded)' : ''}</div>)}</td>
      <td>{r.self ? 'now' : r.lastSeen === undefined ? '' : ago(r.lastSeen)}<div class='muted'>{r.skew === undefined ? '' : `skew ${r.skew} ms`}{r.connected === false ? ' · not connected' : ''}</div></td>
    </tr>
  )
}

export function MeshPage () {
  const mesh = useMesh()
  const stats = usePoll(async signal => api<StatsHistory>('GET', '/v1/stats/history', undefined, signal), 15_000)
  const rows: Row[] = []
  if (mesh.self !== undefined) rows.push({ peerId: mesh.self.peerId, addresses: mesh.self.addresses, caps: mesh.self.capabilities, self: true })
  for (const p of mesh.peers) rows.push({ peerId: p.peerId, addresses: p.addresses, caps: p.capabilities, self: false, lastSeen: p.lastSeen, skew: p.clockSkewMs, connected: p.connected })
  return (
    <>
      <h2>Mesh <span class='muted' data-testid='node-count'>{rows.length} nodes</span></h2>
      {mesh.error !== undefined && <p class='error'>{mesh.error}</p>}
      <div class='scroll'>
        <table>
          <thead><tr><th>node</th><th>addresses</th><th>CPU</th><th>RAM</th><th>GPU / VRAM</th><th>load</th><th>disk free</th><th>labels</th><th>sandbox</th><th>models</th><th>last seen</th></tr></thead>
          <tbody>{rows.map(r => <NodeRow key={r.peerId} r={r} />)}</tbody>
        </table>
      </div>
      <h3>Last hour <span class='muted'>(sampled every {(stats.data?.intervalMs ?? 15_000) / 1000} s by this node)</span></h3>
      {stats.data !== undefined && <Charts history={stats.data} />}
    </>
  )
}
