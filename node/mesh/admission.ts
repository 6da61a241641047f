/**
 * Who may open a connection to this node, and for how long before it proves it knows the
 * swarm key. libp2p's defaults suit an open network: 10 connections may sit in the upgrade at
 * once for 10 s each, so a dozen idle sockets kept open keep every new peer out. A private
 * mesh does better:
 * - the pnet nonce exchange (the first thing on a connection) of an inbound connection must
 *   finish within PNET_HANDSHAKE_MS, the whole upgrade within INBOUND_UPGRADE_MS (libp2p passes the upgrade's
 *   signal to the protector, which then ignores its own `timeout`: the deadline is added here);
 * - at most MAX_PENDING_PER_IP connections per remote IP wait in the upgrade (a gater), and one
 *   IP may open INBOUND_PER_IP_PER_SECOND per second (libp2p's `inboundConnectionThreshold`), so
 *   one host cannot fill the MAX_PENDING_INBOUND slots;
 * - the IPs of known mesh peers (bootstrap addresses and the peer book, as of start) bypass the
 *   pending cap, the per-IP limits and the connection limit (libp2p's `allow` list).
 * The limits hold per process; nothing here is persisted.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { tryGetNetConfig } from '@libp2p/utils'
import type { AbortOptions, ConnectionGater, ConnectionProtector, MessageStream, MultiaddrConnection } from '@libp2p/interface'

export const PNET_HANDSHAKE_MS = 1000
export const INBOUND_UPGRADE_MS = 5000
export const MAX_PENDING_INBOUND = 128
export const MAX_PENDING_PER_IP = 8
export const INBOUND_PER_IP_PER_SECOND = 10

/** The connection manager's limits (merged into libp2p's `connectionManager` options). */
export function connectionLimits (allow: readonly string[]): { allow: string[], inboundUpgradeTimeout: number, maxIncomingPendingConnections: number, inboundConnectionThreshold: number } {
  return { allow: [...allow], inboundUpgradeTimeout: INBOUND_UPGRADE_MS, maxIncomingPendingConnections: MAX_PENDING_INBOUND, inboundConnectionThreshold: INBOUND_PER_IP_PER_SECOND }
}

/** The IP (or undefined: a DNS name, a unix socket, garbage) an address starts with. */
function hostOf (address: Parameters<typeof tryGetNetConfig>[0]): string | undefined {
  const config = tryGetNetConfig(address)
  return config?.type === 'ip4' || config?.type === 'ip6' ? config.host : undefined
}

/** Known peers' addresses as the IP-only multiaddrs libp2p's allow list takes; DNS names and unparsable ones are left out. Pure. */
export function allowList (addresses: readonly string[]): string[] {
  const out = new Set<string>()
  for (const text of addresses) {
    let host: string | undefined
    try { host = hostOf(multiaddr(text)) } catch { continue }
    if (host !== undefined) out.add(`/${host.includes(':') ? 'ip6' : 'ip4'}/${host}`)
  }
  return [...out]
}

/**
 * A connection gater that lets at most `maxPerIp` connections per remote IP wait before their
 * encryption handshake succeeds (which needs the swarm key); `allowed` IPs are not counted.
 */
export function pendingPerIpGater (init: { maxPerIp: number, allowed: readonly string[] }): ConnectionGater & { pending: (ip: string) => number } {
  const allowed = new Set(allowList(init.allowed).map(a => a.split('/')[2]))
  const pending = new Map<string, number>()
  const open = new WeakMap<MultiaddrConnection, string>()
  const settle = (maConn: MultiaddrConnection): void => {
    const host = open.get(maConn)
    if (host === undefined) return
    open.delete(maConn)
    const n = (pending.get(host) ?? 1) - 1
    if (n <= 0) pending.delete(host)
    else pending.set(host, n)
  }
  return {
    pending: ip => pending.get(ip) ?? 0,
    denyInboundConnection: maConn => {
      const host = hostOf(maConn.remoteAddr)
      if (host === undefined || allowed.has(host)) return false
      const n = pending.get(host) ?? 0
      if (n >= init.maxPerIp) return true
      pending.set(host, n + 1)
      open.set(maConn, host)
      maConn.addEventListener('close', () => { settle(maConn) }, { once: true })
      return false
    },
    // Past pnet and noise: the peer holds the swarm key; it no longer counts as pending.
    denyInboundEncryptedConnection: (_peer, maConn) => { settle(maConn); return false },
  }
}

/**
 * `inner` with a deadline of `timeoutMs` on the handshake of inbound connections, whatever
 * signal the upgrader passes. Outbound ones keep the dial's own timeout (a busy peer we dial
 * is given the time the dial allows).
 */
export function withHandshakeDeadline (inner: () => ConnectionProtector, timeoutMs: number): () => ConnectionProtector {
  return () => {
    const protector = inner()
    return {
      async protect (connection: MessageStream, options: AbortOptions = {}): Promise<MessageStream> {
        if (connection.direction !== 'inbound') return await protector.protect(connection, options)
        const deadline = AbortSignal.timeout(timeoutMs)
        const signal = options.signal === undefined ? deadline : AbortSignal.any([options.signal, deadline])
        return await protector.protect(connection, { ...options, signal })
      },
    }
  }
}
