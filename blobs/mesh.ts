/**
 * What the blob service needs of the mesh: its protocol's handler and dials, the connected
 * peers, the peer store (to remember a provider's addresses) and the DHT's provider records.
 */
import type { Libp2p } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'

export interface BlobsMesh extends Pick<Libp2p, 'peerId' | 'handle' | 'unhandle' | 'dialProtocol' | 'getConnections' | 'peerStore'> {
  services: { dht: Pick<KadDHT, 'findProviders' | 'provide'> }
}
