/**
 * `gryphgen top`'s screen, pure: the mesh's nodes (this one first, marked `*`) with their load
 * and the tasks queued and running on each, then the newest unfinished tasks. Text that comes
 * from peers (names, labels) has its control characters replaced, so a peer cannot drive the
 * terminal.
 */
import type { NodeBodyT, PeerViewT } from '../../api/index.js'
import type { TaskViewT } from '../../../protocols/index.js'
import { ago, mb, shortId, table } from '../output.js'

export interface TopSnapshot {
  node: NodeBodyT
  peers: PeerViewT[]
  /** Unfinished tasks (pending, awarded, running), newest first. */
  tasks: TaskViewT[]
  at: number
}

// eslint-disable-next-line no-control-regex -- the point is to find control characters
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g
export const printable = (text: string): string => text.replace(CONTROL, '?')

const holder = (t: TaskViewT): string | undefined => t.attempts.at(-1)?.node

interface NodeRow { peerId: string, name: string, cpus: number, cpuPercent: number, availableMb: number, totalMb: number, labels: string[], seen: string }

export function formatTop (s: TopSnapshot, options: { tasks?: number } = {}): string {
  const self = s.node.capabilities
  const rows: NodeRow[] = [
    { peerId: s.node.peerId, name: self.name, cpus: self.cpu.cores, cpuPercent: self.load.cpuPercent, availableMb: self.memory.availableMb, totalMb: self.memory.totalMb, labels: self.labels, seen: 'self' },
    ...s.peers.map(p => ({
      peerId: p.peerId, name: p.capabilities.name, cpus: p.capabilities.cpu.cores, cpuPercent: p.capabilities.load.cpuPercent,
      availableMb: p.capabilities.memory.availableMb, totalMb: p.capabilities.memory.totalMb, labels: p.capabilities.labels, seen: ago(p.lastSeen, s.at),
    })),
  ]
  const count = (peerId: string, state: TaskViewT['state']): number => s.tasks.filter(t => t.state === state && holder(t) === peerId).length
  const names = new Map(rows.map(r => [r.peerId, printable(r.name)]))
  const pending = s.tasks.filter(t => t.state === 'pending').length
  const running = s.tasks.filter(t => t.state === 'running').length
  const header = `gryphgen top  ${new Date(s.at).toISOString().slice(11, 19)}  ${rows.length} node(s), ${running} running, ${s.tasks.length - pending - running} awarded, ${pending} pending`
  const nodes = table(
    ['', 'NODE', 'PEER', 'CPUS', 'CPU%', 'MEMORY FREE/TOTAL', 'QUEUED', 'RUNNING', 'LABELS', 'SEEN'],
    rows.map(r => [
      r.peerId === s.node.peerId ? '*' : '', printable(r.name), shortId(r.peerId), String(r.cpus), `${r.cpuPercent}%`,
      `${mb(r.availableMb)}/${mb(r.totalMb)}`, String(count(r.peerId, 'awarded')), String(count(r.peerId, 'running')),
      printable(r.labels.join(',')) || '-', r.seen,
    ]),
  )
  const shown = s.tasks.slice(0, options.tasks ?? 15)
  const tasks = shown.length === 0
    ? 'no unfinished tasks'
    : table(['TASK', 'KIND', 'STATE', 'NODE', 'SUBMITTED', 'WAITING FOR'], shown.map(t => {
      const node = holder(t)
      const blocked = t.state === 'pending' ? t.blocked?.reasons[0]?.reason : undefined
      return [t.id, printable(t.kind), t.state, node === undefined ? '-' : names.get(node) ?? shortId(node), ago(t.submittedAt, s.at), printable(blocked ?? '')]
    }))
  const more = s.tasks.length > shown.length ? `\n… and ${s.tasks.length - shown.length} more` : ''
  return `${header}\n\n${nodes}\n\n${tasks}${more}`
}
