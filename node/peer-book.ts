/**
 * Peer book in LevelDB (`<data-dir>/db`, sublevel `peers`): the addresses of peers this node
 * has seen, so that after a restart it can rejoin through them even when its bootstrap
 * peers are gone. Bounded: only the most recently seen MAX_PEERS are kept and re-dialled.
 */
import type { ClassicLevel } from 'classic-level'
import { multiaddr } from '@multiformats/multiaddr'

const MAX_PEERS = 64

interface Record { addresses: string[], lastSeen: number }

export class PeerBook {
  readonly #db
  readonly #known = new Map<string, string>()

  constructor (db: ClassicLevel<string, string>) {
    this.#db = db.sublevel<string, string>('peers', { valueEncoding: 'utf8' })
  }

  /** Dialable addresses (with /p2p/) of the most recently seen peers. */
  async recent (options: { signal?: AbortSignal } = {}): Promise<string[]> {
    const records: Array<[string, Record]> = []
    for await (const [id, value] of this.#db.iterator({ signal: options.signal } as object)) {
      try { records.push([id, JSON.parse(value) as Record]) } catch { /* a damaged record is skipped, not fatal */ }
    }
    records.sort((a, b) => b[1].lastSeen - a[1].lastSeen)
    const stale = records.slice(MAX_PEERS).map(([id]) => ({ type: 'del' as const, key: id }))
    if (stale.length > 0) await this.#db.batch(stale)
    return records.slice(0, MAX_PEERS).flatMap(([id, r]) => r.addresses.map(a => withPeer(a, id)).filter((a): a is string => a !== undefined))
  }

  /** Remember a peer's addresses; writes only when they changed. */
  async remember (peerId: string, addresses: readonly string[], now: number): Promise<void> {
    const key = JSON.stringify(addresses)
    if (this.#known.get(peerId) === key) return
    this.#known.set(peerId, key)
    await this.#db.put(peerId, JSON.stringify({ addresses: [...addresses], lastSeen: now } satisfies Record))
  }
}

function withPeer (address: string, peerId: string): string | undefined {
  try {
    const ma = multiaddr(address)
    return ma.getComponents().some(c => c.name === 'p2p') ? ma.toString() : `${ma.toString()}/p2p/${peerId}`
  } catch {
    return undefined
  }
}
