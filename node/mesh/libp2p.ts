/**
 * The libp2p stack of a node: TCP, pnet (mandatory), noise (libsodium's cipher: noise-cipher.ts), yamux, identify, ping, gossipsub
 * (small-mesh parameters, StrictSign, advert topic scoring), kad-dht in LAN mode under our
 * own protocol prefix, optional mDNS. Connection limits and handshake deadlines for a private
 * mesh (known peers' IPs bypass them): see admission.ts. Nothing here dials: see bootstrap.ts.
 */
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { kadDHT, removePublicAddressesMapper, type KadDHT } from '@libp2p/kad-dht'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { ComponentLogger, Metrics, PeerDiscovery, PrivateKey } from '@libp2p/interface'
import { AddressInUseError, type Logger } from '../../base/index.js'
import type { SwarmKeyHex } from '../datadir/swarm-key.js'
import { ADVERT_TOPIC, LEDGER_TOPIC, LEASE_TOPIC } from '../../protocols/index.js'
import { pnetProtector } from './pnet-protector.js'
import { noiseCrypto } from './noise-cipher.js'
import { allowList, connectionLimits, MAX_PENDING_PER_IP, pendingPerIpGater, PNET_HANDSHAKE_MS, withHandshakeDeadline } from './admission.js'

export const DHT_PROTOCOL = '/gryphgen/kad/1.0.0'

export interface MeshInit {
  privateKey: PrivateKey
  swarmKey: SwarmKeyHex
  listen: readonly string[]
  mdns: boolean
  /** libp2p's metrics service (node/monitoring), when wanted. */
  metrics?: (components: { logger: ComponentLogger }) => Metrics
  /** Known mesh peers' addresses (bootstrap, peer book): their IPs bypass the inbound limits. */
  known?: readonly string[]
  /** Warns once when pnet's native cipher cannot load. */
  log?: Logger
}

// eslint-disable-next-line @typescript-eslint/consistent-type-definitions -- libp2p needs an index signature
export type MeshServices = {
  pubsub: GossipSub
  dht: KadDHT
  identify: unknown
  ping: unknown
}

export type Mesh = Libp2p<MeshServices>

/**
 * Topic scoring (adverts, ledger announcements and leases): an invalid message costs the sender -10 x (count squared), decaying
 * slowly, so a few forged or malformed adverts push a peer below the gossip (-10), publish
 * (-50) and graylist (-80) thresholds. Delivery-rate penalties are off: adverts are sparse.
 */
const topicScore = {
  topicWeight: 1,
  timeInMeshWeight: 0.01,
  timeInMeshQuantum: 1000,
  timeInMeshCap: 100,
  firstMessageDeliveriesWeight: 0.1,
  firstMessageDeliveriesDecay: 0.9,
  firstMessageDeliveriesCap: 10,
  meshMessageDeliveriesWeight: 0,
  meshMessageDeliveriesDecay: 0.5,
  meshMessageDeliveriesCap: 1,
  meshMessageDeliveriesThreshold: 0,
  meshMessageDeliveriesWindow: 10,
  meshMessageDeliveriesActivation: 5000,
  meshFailurePenaltyWeight: 0,
  meshFailurePenaltyDecay: 0.5,
  invalidMessageDeliveriesWeight: -10,
  invalidMessageDeliveriesDecay: 0.99,
}

export async function createMesh (init: MeshInit): Promise<Mesh> {
  const peerDiscovery: Array<(components: any) => PeerDiscovery> = []
  if (init.mdns) {
    // Loaded only when wanted: mDNS multicasts on every non-loopback interface.
    const { mdns } = await import('@libp2p/mdns')
    peerDiscovery.push(mdns({ interval: 10_000 }))
  }
  const node = await createLibp2p({
    privateKey: init.privateKey,
    start: false,
    ...(init.metrics === undefined ? {} : { metrics: init.metrics }),
    addresses: { listen: [...init.listen] },
    transports: [tcp()],
    connectionProtector: withHandshakeDeadline(pnetProtector({ swarmKey: init.swarmKey, ...(init.log === undefined ? {} : { log: init.log }) }), PNET_HANDSHAKE_MS),
    connectionManager: connectionLimits(allowList(init.known ?? [])),
    connectionGater: pendingPerIpGater({ maxPerIp: MAX_PENDING_PER_IP, allowed: init.known ?? [] }),
    connectionEncrypters: [noise({ crypto: noiseCrypto() })],
    streamMuxers: [yamux()],
    peerDiscovery,
    services: {
      // 15 s, not 5: a peer's event loop may stall for seconds on a busy machine, and a failed
      // identify leaves the connection without gossipsub (identify-watch.ts heals it).
      identify: identify({ timeout: 15_000 }),
      ping: ping(),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        globalSignaturePolicy: 'StrictSign',
        emitSelf: false,
        D: 4, Dlo: 2, Dhi: 6,
        heartbeatInterval: 500,
        scoreParams: { topics: { [ADVERT_TOPIC]: topicScore, [LEDGER_TOPIC]: topicScore, [LEASE_TOPIC]: topicScore } },
      }),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        clientMode: false,
        peerInfoMapper: removePublicAddressesMapper,
      }),
    },
  })
  return node as unknown as Mesh
}

/** Start the node, turning a taken port into an error that names the address. */
export async function startMesh (node: Mesh, listen: readonly string[]): Promise<void> {
  try {
    await node.start()
  } catch (err) {
    const text = `${(err as Error).message} ${String((err as { cause?: unknown }).cause ?? '')}`
    if (/EADDRINUSE|address already in use/i.test(text)) {
      throw new AddressInUseError(`cannot listen on ${listen.join(', ')}: address already in use (another gryphgen node? pick another port with --listen)`, { cause: err })
    }
    throw err
  }
}

/**
 * A peer's own advertised addresses, added to libp2p's address book: a stream to a peer this
 * node only heard of through others (gossip relayed by a common peer) can then be dialled
 * directly, also after that common peer is gone. Unparsable addresses are left out.
 */
export async function learnAddresses (node: Mesh, peerId: string, addresses: readonly string[]): Promise<void> {
  if (peerId === node.peerId.toString()) return
  const multiaddrs = addresses.flatMap(a => { try { return [multiaddr(a)] } catch { return [] } })
  if (multiaddrs.length > 0) await node.peerStore.merge(peerIdFromString(peerId), { multiaddrs })
}
