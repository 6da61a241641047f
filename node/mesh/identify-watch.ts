/**
 * Heals connections that never got identified. libp2p runs identify once per new connection
 * (bounded by its timeout); gossipsub and the DHT attach to a peer only when identify has
 * stored the peer's protocols. When that one identify fails (a peer's event loop stalled past
 * the timeout on a busy machine), the connection stays open and useless: no adverts, no
 * ledger, no peer discovery through it, and the bootstrap keeper does not redial a peer it is
 * connected to. Seen in a 5-node test beside `stress-ng`: one node connected to its bootstrap
 * peer and saw no peer for two minutes.
 *
 * So: `graceMs` after a connection opens, if gossipsub has no stream with the peer (neither
 * side's identify worked), identify runs again; if that fails too, the connection is closed
 * (the bootstrap keeper, or the peer, dials again and a fresh identify runs).
 */
import type { Connection, PeerId } from '@libp2p/interface'
import type { Logger } from '../../base/index.js'
import type { Mesh } from './libp2p.js'

export interface IdentifyWatchInit {
  /** After a connection opens, how long identify has before it is checked (default 15 s). */
  graceMs?: number
  /** The second identify's bound (default 15 s). */
  retryTimeoutMs?: number
}

interface IdentifyService { identify: (connection: Connection, options: { signal: AbortSignal }) => Promise<unknown> }

export class IdentifyWatch {
  readonly #mesh: Mesh
  readonly #log: Logger
  readonly #graceMs: number
  readonly #retryTimeoutMs: number
  readonly #abort = new AbortController()
  readonly #timers = new Set<NodeJS.Timeout>()
  /** Connections closed for want of identify (for tests and the log). */
  healed = 0

  constructor (mesh: Mesh, log: Logger, init: IdentifyWatchInit = {}) {
    this.#mesh = mesh
    this.#log = log
    this.#graceMs = init.graceMs ?? 15_000
    this.#retryTimeoutMs = init.retryTimeoutMs ?? 15_000
  }

  start (): void {
    this.#mesh.addEventListener('connection:open', this.#onOpen)
  }

  stop (): void {
    this.#abort.abort()
    this.#mesh.removeEventListener('connection:open', this.#onOpen)
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
  }

  readonly #onOpen = (evt: CustomEvent<Connection>): void => {
    const connection = evt.detail
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      void this.#check(connection)
    }, this.#graceMs)
    timer.unref()
    this.#timers.add(timer)
  }

  async #check (connection: Connection): Promise<void> {
    if (this.#abort.signal.aborted || connection.status !== 'open' || this.#attached(connection.remotePeer)) return
    const peer = connection.remotePeer.toString()
    const identify = this.#mesh.services.identify as IdentifyService
    try {
      // Success stores the peer's protocols and tells gossipsub and the DHT (libp2p's topologies).
      await identify.identify(connection, { signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#retryTimeoutMs)]) })
      this.#log.info({ peer }, 'a connection identified on the second try')
      return
    } catch (err) {
      if (this.#abort.signal.aborted) return
      this.#log.debug({ peer, err: (err as Error).message }, 'identify failed again')
    }
    if (connection.status !== 'open' || this.#attached(connection.remotePeer)) return
    this.healed++
    this.#log.warn({ peer, remote: connection.remoteAddr.toString() }, 'closing a connection whose peer never identified (it will be dialled again)')
    await connection.close({ signal: AbortSignal.timeout(5000) }).catch(() => { connection.abort(new Error('not identified')) })
  }

  /** Gossipsub speaks with the peer (either side's identify is enough: the other side accepts its stream). */
  #attached (peerId: PeerId): boolean {
    return this.#mesh.services.pubsub.getPeers().some(p => p.equals(peerId))
  }
}
