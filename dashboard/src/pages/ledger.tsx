/** Ledger: entries and how many are indexed, the version vector per author, sync lag per peer. */
import { api } from '../api.js'
import { ago, short, useMesh, usePoll } from '../hooks.js'

interface Status { entries: number, indexed: number, versionVector: Record<string, number> }
interface Lag { peers: Array<{ peerId: string, behind: number, syncedAt: number }> }

export function LedgerPage () {
  const mesh = useMesh(5000)
  const status = usePoll(async signal => api<Status>('GET', '/v1/ledger/status', undefined, signal), 3000)
  const lag = usePoll(async signal => api<Lag>('GET', '/v1/ledger/peers', undefined, signal), 3000)
  const s = status.data
  return (
    <>
      <h2>Ledger</h2>
      {status.error !== undefined && <p class='error'>{status.error}</p>}
      {s !== undefined && <p><strong data-testid='ledger-entries'>{s.entries}</strong> entries, <strong>{s.indexed}</strong> indexed{s.indexed < s.entries ? ` (${s.entries - s.indexed} to go)` : ''}</p>}
      <h3>Version vector <span class='muted'>(latest sequence number held, per author)</span></h3>
      <table>
        <thead><tr><th>author</th><th>peer id</th><th>entries</th></tr></thead>
        <tbody>{Object.entries(s?.versionVector ?? {}).sort((a, b) => b[1] - a[1]).map(([author, seq]) => (
          <tr key={author} data-testid='vv-row'><td>{mesh.name(author)}</td><td title={author}>{short(author)}</td><td>{seq}</td></tr>
        ))}</tbody>
      </table>
      <h3>Sync lag per peer <span class='muted'>(entries of this node's ledger each peer lacked at its last sync from this node)</span></h3>
      <table>
        <thead><tr><th>peer</th><th>behind</th><th>last sync</th></tr></thead>
        <tbody>{(lag.data?.peers ?? []).map(p => (
          <tr key={p.peerId} data-testid='lag-row'><td>{mesh.name(p.peerId)}</td><td>{p.behind}</td><td>{ago(p.syncedAt)}</td></tr>
        ))}</tbody>
      </table>
    </>
  )
}
