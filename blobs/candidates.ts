/**
 * The peers one blob fetch asks, in order, each at most once and never this node: the
 * caller's hints (text that is not a peer id is skipped); providers found on the kad-dht for
 * the blob's CID (at most `maxProviders`; the query has its own deadline and is skipped when
 * the node has no connection, since it would only wait for one); then connected peers, in
 * random order (at most `maxConnectedPeers`). Lazy: the DHT is only asked once the hints are
 * used up, and providers are yielded as the query finds them.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import type { Logger } from '../base/index.js'
import type { BlobsMesh } from './mesh.js'
import { blobCid } from './digest.js'
import { checkAborted, withDeadline } from './signals.js'

export interface CandidateOptions {
  hints: readonly string[]
  signal: AbortSignal
  maxProviders: number
  maxConnectedPeers: number
  findProvidersTimeoutMs: number
  logger: Logger
}

export async function * blobCandidates (mesh: BlobsMesh, digest: string, options: CandidateOptions): AsyncGenerator<PeerId> {
  const seen = new Set([mesh.peerId.toString()])
  const fresh = (peer: PeerId): boolean => {
    if (seen.has(peer.toString())) return false
    seen.add(peer.toString())
    return true
  }
  for (const hint of options.hints) {
    let peer: PeerId
    try { peer = peerIdFromString(hint) } catch { options.logger.debug({ hint }, 'ignoring a hint that is not a peer id'); continue }
    if (fresh(peer)) yield peer
  }
  yield * providers(mesh, digest, fresh, options)
  let count = 0
  for (const peer of shuffled(mesh.getConnections().map(c => c.remotePeer))) {
    if (count >= options.maxConnectedPeers) return
    if (fresh(peer)) { count++; yield peer }
  }
}

async function * providers (mesh: BlobsMesh, digest: string, fresh: (peer: PeerId) => boolean, options: CandidateOptions): AsyncGenerator<PeerId> {
  if (mesh.getConnections().length === 0 || options.maxProviders < 1) return
  let count = 0
  try {
    const query = mesh.services.dht.findProviders(blobCid(digest), { signal: withDeadline(options.findProvidersTimeoutMs, options.signal) })
    for await (const event of query) {
      if (event.name !== 'PROVIDER') continue
      for (const provider of event.providers) {
        if (!fresh(provider.id)) continue
        // Keep the addresses the record carries, so the dial can reach a peer not met before.
        if (provider.multiaddrs.length > 0) await mesh.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs }).catch(() => {})
        yield provider.id
        if (++count >= options.maxProviders) return
      }
    }
  } catch (err) {
    checkAborted(options.signal, 'blob get')
    options.logger.debug({ digest, err: (err as Error).message }, 'DHT provider query ended early')
  }
}

function shuffled<T> (items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]]
  }
  return items
}
