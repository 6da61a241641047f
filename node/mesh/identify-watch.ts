/**
 * Heals connections over which nothing is heard. libp2p runs identify once per new connection
 * (bounded by its timeout); gossipsub and the DHT attach to a peer only when identify has
 * stored the peer's protocols. When that identify fails (a peer's event loop stalled past the
 * timeout on a busy machine), or gossipsub's streams over the connection went wrong, the
 * connection stays open and useless: no adverts, no ledger, no peer discovery through it, and
 * the bootstrap keeper does not redial a peer it is connected to. Seen in 5-node tests beside
 * `stress-ng`: a node connected to its bootstrap peer saw no peer for two minutes.
 *
 * So: `graceMs` after a connection opens, if the peer is not heard (the node passes "its advert
 * is live"; by default: gossipsub has a stream with it), identify runs again; if the peer is
 * still not heard one more `graceMs` later, the connection is closed (the bootstrap keeper, or
 * the peer, dials again: a fresh identify and fresh gossipsub streams).
 */
import type { Connection } from '@libp2p/interface'
import type { Logger } from '../../base/index.js'
import type { Mesh } from './libp2p.js'

export interface IdentifyWatchInit {
  /** How long a connection has to be heard, checked twice (default 15 s; a function: read at each check). */
  graceMs?: number | (() => number)
  /** The second identify's bound (default 15 s). */
  retryTimeoutMs?: number
  /** Whether the peer is heard (default: gossipsub has a stream with it). */
  heard?: (peerId: string) => boolean
}

interface IdentifyService { identify: (connection: Connection, options: { signal: AbortSignal }) => Promise<unknown> }

export class IdentifyWatch {
  readonly #mesh: Mesh
  readonly #log: Logger
  readonly #graceMs: () => number
  readonly #retryTimeoutMs: number
  readonly #heard: (peerId: string) => boolean
  readonly #abort = new AbortController()
  readonly #timers = new Set<NodeJS.Timeout>()
  /** The peers of connections closed for want of being heard, one per connection (tests, the log). */
  readonly healed: string[] = []

  constructor (mesh: Mesh, log: Logger, init: IdentifyWatchInit = {}) {
    this.#mesh = mesh
    this.#log = log
    const grace = init.graceMs ?? 15_000
    this.#graceMs = typeof grace === 'number' ? () => grace : grace
    this.#retryTimeoutMs = init.retryTimeoutMs ?? 15_000
    this.#heard = init.heard ?? (peer => this.#mesh.services.pubsub.getPeers().some(p => p.toString() === peer))
  }

  /** Watches new connections, and those already open (peers may dial in before the node starts this). */
  start (): void {
    this.#mesh.addEventListener('connection:open', this.#onOpen)
    for (const connection of this.#mesh.getConnections()) this.#later(connection, false)
  }

  stop (): void {
    this.#abort.abort()
    this.#mesh.removeEventListener('connection:open', this.#onOpen)
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
  }

  readonly #onOpen = (evt: CustomEvent<Connection>): void => { this.#later(evt.detail, false) }

  #later (connection: Connection, retried: boolean): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      void this.#check(connection, retried)
    }, this.#graceMs())
    timer.unref()
    this.#timers.add(timer)
  }

  async #check (connection: Connection, retried: boolean): Promise<void> {
    if (this.#abort.signal.aborted || connection.status !== 'open') return
    const peer = connection.remotePeer.toString()
    if (this.#heard(peer)) return
    if (!retried) {
      // Success stores the peer's protocols and tells gossipsub and the DHT (libp2p's topologies).
      const identify = this.#mesh.services.identify as IdentifyService
      await identify.identify(connection, { signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#retryTimeoutMs)]) })
        .catch((err: Error) => { this.#log.debug({ peer, err: err.message }, 'identify failed again') })
      if (!this.#abort.signal.aborted) this.#later(connection, true)
      return
    }
    this.healed.push(peer)
    this.#log.warn({ peer, remote: connection.remoteAddr.toString() }, 'closing a connection over which the peer is not heard (it will be dialled again)')
    await connection.close({ signal: AbortSignal.timeout(5000) }).catch(() => { connection.abort(new Error('peer not heard')) })
  }
}
