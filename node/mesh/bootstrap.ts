/**
 * Keeps this node joined: dials every bootstrap address it is not connected to, quickly and
 * with backoff while it has no peers at all (a bootstrap node that starts later is still
 * found), slowly once it has. Each dial is bounded by a timeout: a peer with another swarm
 * key may hang the handshake instead of refusing it. Also dials peers that mDNS discovers, and
 * closes connections that never identified (identify-watch.ts) so that they are dialled again.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from '../../base/index.js'
import type { Mesh } from './libp2p.js'
import { IdentifyWatch, type IdentifyWatchInit } from './identify-watch.js'

export interface BootstrapInit {
  addresses: readonly string[]
  dialTimeoutMs?: number
  /** First retry delay while alone; doubles up to maxRetryMs. */
  minRetryMs?: number
  maxRetryMs?: number
  /** Re-check period once connected. */
  connectedCheckMs?: number
  identifyWatch?: IdentifyWatchInit
}

/** While alone, the warning that every bootstrap peer fails is repeated this often. */
const WARN_EVERY_MS = 5 * 60_000

export interface DialOutcome { address: string, ok: boolean, error?: string, at: number }

export class BootstrapKeeper {
  readonly #mesh: Mesh
  readonly #log: Logger
  readonly #targets: Array<{ addr: Multiaddr, peerId: string, text: string }>
  readonly #init: Required<Omit<BootstrapInit, 'addresses' | 'identifyWatch'>>
  readonly #identifyWatch: IdentifyWatch
  readonly #abort = new AbortController()
  readonly lastOutcome = new Map<string, DialOutcome>()
  /** Every address it was given (GET /v1/node shows them; `gryphgen doctor` probes them). */
  readonly addresses: readonly string[]
  #timer: NodeJS.Timeout | undefined
  #delay: number
  #warnedAt = -Infinity

  constructor (mesh: Mesh, logger: Logger, init: BootstrapInit) {
    this.#mesh = mesh
    this.#log = logger
    this.#init = { dialTimeoutMs: 5000, minRetryMs: 250, maxRetryMs: 30_000, connectedCheckMs: 30_000, ...init }
    this.#delay = this.#init.minRetryMs
    this.#identifyWatch = new IdentifyWatch(mesh, logger, init.identifyWatch)
    this.addresses = [...init.addresses]
    const self = mesh.peerId.toString()
    this.#targets = init.addresses.map(text => {
      const addr = multiaddr(text)
      return { addr, text, peerId: addr.getComponents().find(c => c.name === 'p2p')?.value ?? '' }
    }).filter(t => t.peerId !== '' && t.peerId !== self)
  }

  start (): void {
    this.#identifyWatch.start()
    this.#mesh.addEventListener('peer:discovery', this.#onDiscovery)
    void this.#round()
  }

  stop (): void {
    clearTimeout(this.#timer)
    this.#abort.abort()
    this.#identifyWatch.stop()
    this.#mesh.removeEventListener('peer:discovery', this.#onDiscovery)
  }

  async #round (): Promise<void> {
    if (this.#abort.signal.aborted) return
    const connected = new Set(this.#mesh.getConnections().map(c => c.remotePeer.toString()))
    await Promise.all(this.#targets.filter(t => !connected.has(t.peerId)).map(async t => this.#dial(t)))
    if (this.#abort.signal.aborted) return
    const alone = this.#mesh.getConnections().length === 0
    if (alone) this.#warnAlone()
    this.#delay = alone ? Math.min(this.#init.maxRetryMs, this.#delay * 2) : this.#init.minRetryMs
    this.#timer = setTimeout(() => { void this.#round() }, alone ? this.#delay : this.#init.connectedCheckMs)
    this.#timer.unref()
  }

  /** Every bootstrap peer failed and no peer is connected: say why, once every WARN_EVERY_MS. */
  #warnAlone (): void {
    const failed = this.#targets.map(t => this.lastOutcome.get(t.text)).filter(o => o !== undefined && !o.ok)
    if (failed.length === 0 || failed.length < this.#targets.length || Date.now() - this.#warnedAt < WARN_EVERY_MS) return
    this.#warnedAt = Date.now()
    const refused = failed.every(o => /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH/.test(o?.error ?? ''))
    this.#log.warn({ bootstrap: failed.map(o => ({ address: o?.address, error: o?.error })) }, refused
      ? 'alone: no bootstrap peer accepts a connection (is it running, and is the address right?); still trying'
      : 'alone: the bootstrap peers answer but the libp2p handshake fails: the swarm keys most likely differ (join with an invite from that mesh: `gryphgen invite` on a member); still trying')
  }

  async #dial (target: { addr: Multiaddr, text: string }): Promise<void> {
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#init.dialTimeoutMs)])
    try {
      await this.#mesh.dial(target.addr, { signal })
      this.lastOutcome.set(target.text, { address: target.text, ok: true, at: Date.now() })
      this.#log.info({ address: target.text }, 'connected to bootstrap peer')
    } catch (err) {
      if (this.#abort.signal.aborted) return
      const error = (err as Error).message
      this.lastOutcome.set(target.text, { address: target.text, ok: false, error, at: Date.now() })
      this.#log.debug({ address: target.text, err: error }, 'bootstrap dial failed')
    }
  }

  readonly #onDiscovery = (evt: CustomEvent<{ id: { toString: () => string } }>): void => {
    const id = evt.detail.id.toString()
    if (this.#abort.signal.aborted || this.#mesh.getConnections().length >= 50) return
    if (this.#mesh.getConnections(peerIdFromString(id)).length > 0) return
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#init.dialTimeoutMs)])
    this.#mesh.dial(peerIdFromString(id), { signal }).catch(() => {})
  }
}
