/**
 * Abuse of a node's libp2p port from loopback (issue 15, item 1), for the join-under-abuse
 * test and benchmark: `idle` TCP sockets that send nothing, each reopened as soon as it closes
 * (after `reopenMs`), and `garbage` connections that send random bytes, `garbageInFlight` at
 * a time. Each kind comes from its own loopback source address (the whole of 127.0.0.0/8 is
 * local on Linux), so the abusers are hosts other than the mesh's peers. Bounded: idle
 * sockets are reopened at most `maxReopens` times and never after `maxMs`; every socket is
 * closed by `stop()`.
 */
import net from 'node:net'
import { randomBytes } from 'node:crypto'

export interface AbuseInit {
  port: number
  host?: string
  idle?: number
  idleFrom?: string
  garbage?: number
  garbageFrom?: string
  garbageInFlight?: number
  reopenMs?: number
  maxReopens?: number
  maxMs?: number
}

export interface Abuse {
  stats: { idleOpen: number, idleOpened: number, garbageSent: number, garbageDone: number }
  /** Resolves when every garbage connection has been made and closed. */
  garbageDone: Promise<void>
  stop: () => Promise<void>
}

export function startAbuse (init: AbuseInit): Abuse {
  const o = { host: '127.0.0.1', idle: 50, idleFrom: '127.0.0.2', garbage: 1000, garbageFrom: '127.0.0.3', garbageInFlight: 20, reopenMs: 20, maxReopens: 50_000, maxMs: 180_000, ...init }
  const stats = { idleOpen: 0, idleOpened: 0, garbageSent: 0, garbageDone: 0 }
  const sockets = new Set<net.Socket>()
  const timers = new Set<NodeJS.Timeout>()
  const until = Date.now() + o.maxMs
  let stopped = false
  const live = (): boolean => !stopped && Date.now() < until
  const later = (fn: () => void, ms: number): void => {
    const t = setTimeout(() => { timers.delete(t); fn() }, ms)
    timers.add(t)
  }
  const connect = (from: string): net.Socket => {
    const socket = net.connect({ host: o.host, port: o.port, localAddress: from })
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => { sockets.delete(socket) })
    return socket
  }

  const openIdle = (): void => {
    if (!live() || stats.idleOpened >= o.idle + o.maxReopens) return
    stats.idleOpened++
    const socket = connect(o.idleFrom)
    let counted = false
    socket.on('connect', () => { counted = true; stats.idleOpen++ })
    socket.on('data', () => {}) // read what the node sends (its pnet nonce), answer nothing
    socket.on('close', () => {
      if (counted) stats.idleOpen--
      if (live()) later(openIdle, o.reopenMs)
    })
  }
  for (let i = 0; i < o.idle; i++) openIdle()

  let next = 0
  const garbageDone = new Promise<void>(resolve => {
    const one = (): void => {
      if (next >= o.garbage || stopped) { if (stats.garbageDone === next) resolve(); return }
      next++
      const socket = connect(o.garbageFrom)
      socket.on('connect', () => { stats.garbageSent++; socket.end(randomBytes(64 + Math.floor(Math.random() * 448))) })
      socket.setTimeout(2000, () => socket.destroy())
      socket.on('close', () => {
        stats.garbageDone++
        if (stats.garbageDone === o.garbage || (stopped && stats.garbageDone === next)) resolve()
        one()
      })
    }
    for (let i = 0; i < Math.min(o.garbageInFlight, o.garbage); i++) one()
    if (o.garbage === 0) resolve()
  })

  return {
    stats,
    garbageDone,
    stop: async () => {
      stopped = true
      for (const t of timers) clearTimeout(t)
      timers.clear()
      const closed = [...sockets].map(async s => await new Promise<void>(resolve => { if (s.destroyed) resolve(); else { s.once('close', () => resolve()); s.destroy() } }))
      await Promise.all(closed)
    },
  }
}
