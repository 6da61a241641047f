import { afterEach, describe, expect, test } from 'vitest'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { preSharedKey } from '@libp2p/pnet'
import { multiaddr } from '@multiformats/multiaddr'
import { ADVERT_TOPIC, encodeAdvert } from '../../protocols/advert.js'
import { swarmKeyBytes } from '../../node/datadir/index.js'
import type { GryphgenNode } from '../../node/node.js'
import { startTestNode, newSwarmKeyHex, waitFor, tempDir, nodeTracker } from '../helpers/nodes.js'
import { caps } from '../helpers/fixtures.js'

const nodes = nodeTracker()
const others: Array<{ stop: () => Promise<void> | void }> = []
afterEach(async () => {
  await Promise.all(others.splice(0).map(async n => n.stop()))
  await nodes.stopAll()
})
const node = nodes.start
const peerIds = (n: GryphgenNode): string[] => n.peers().map(p => p.peerId).sort()

describe('mesh on loopback', () => {
  test('5 nodes join through one bootstrap node and each lists the other 4 with capabilities', async () => {
    const psk = newSwarmKeyHex()
    const first = await node({ swarmKey: psk, name: 'n0' })
    const others = await Promise.all([1, 2, 3, 4].map(async i => node({ swarmKey: psk, name: `n${i}`, bootstrap: first.addresses(), resources: i === 4 ? { gpus: [{ vendor: 'nvidia', model: 'H100', vramMb: 81920 }] } : {} })))
    const all = [first, ...others]
    await waitFor(() => all.every(n => n.peers().length === 4), 8000)
    for (const n of all) {
      expect(peerIds(n)).toEqual(all.filter(o => o !== n).map(o => o.peerId).sort())
      for (const p of n.peers()) {
        expect(p.capabilities.cpu.cores).toBeGreaterThan(0)
        expect(p.capabilities.memory.totalMb).toBeGreaterThan(0)
      }
    }
    // Each node advertises its sandbox once probed (bubblewrap is installed here).
    await waitFor(() => first.peers().every(p => p.capabilities.sandbox?.available === true), 8000)
    expect(first.peers()[0].capabilities.sandbox).toMatchObject({ isolation: 'bubblewrap', limits: expect.stringMatching(/cgroup1|cgroup2|rlimit/) })
    expect(first.peers()[0].capabilities.sandbox?.runtimes).toEqual(expect.arrayContaining(['sh', 'python3']))
    // A declared GPU stands in for a real one, as seen by every other node.
    // (Read once it is listed: with 500 ms adverts in tests, a peer whose adverts a busy machine
    // delays past 3 intervals drops out of the list until its next one.)
    const gpuNode = others[3].peerId
    await waitFor(() => first.peers().some(p => p.peerId === gpuNode), 8000)
    expect(first.peers().find(p => p.peerId === gpuNode)?.capabilities.gpus).toEqual([{ vendor: 'nvidia', model: 'H100', vramMb: 81920 }])
  })

  test('a node with another swarm key never connects and never appears in a peer table', async () => {
    const a = await node({ swarmKey: newSwarmKeyHex() })
    const b = await node({ swarmKey: newSwarmKeyHex(), bootstrap: a.addresses() })
    const c = await node({ swarmKey: newSwarmKeyHex(), bootstrap: a.addresses() })
    // Wait until both outsiders have tried (and failed) to dial a at least once.
    await waitFor(async () => (await b.describe()).bootstrap.length > 0 && (await c.describe()).bootstrap.length > 0, 15_000)
    expect((await b.describe()).bootstrap.every(o => !o.ok)).toBe(true)
    await new Promise(resolve => setTimeout(resolve, 1000))
    for (const n of [a, b, c]) {
      expect(n.peers()).toEqual([])
      expect(n.mesh.getConnections().length).toBe(0)
    }
  })

  test('a node that stops disappears from the others (its adverts expire)', async () => {
    const psk = newSwarmKeyHex()
    const a = await node({ swarmKey: psk })
    const b = await node({ swarmKey: psk, bootstrap: a.addresses() })
    const c = await node({ swarmKey: psk, bootstrap: a.addresses() })
    await waitFor(() => a.peers().length === 2 && b.peers().length === 2)
    const gone = c.peerId
    const promised = a.adverts.peers.get(gone)?.advert.intervalMs ?? 0
    expect(promised).toBeGreaterThan(0)
    await c.stop()
    await waitFor(() => !peerIds(a).includes(gone) && !peerIds(b).includes(gone))
    expect(peerIds(a)).toEqual([b.peerId])
  })

  test('a label change reaches every peer promptly', async () => {
    const psk = newSwarmKeyHex()
    const a = await node({ swarmKey: psk, baseIntervalMs: 60_000 })
    const b = await node({ swarmKey: psk, bootstrap: a.addresses(), baseIntervalMs: 60_000 })
    await waitFor(() => a.peers().length === 1 && b.peers().length === 1)
    await a.setLabels(['gpu-room'])
    await waitFor(() => b.peers()[0]?.capabilities.labels.includes('gpu-room') ?? false, 3000)
  })

  test('identity is stable across a restart, and the node rejoins through its peer book', async () => {
    const psk = newSwarmKeyHex()
    const a = await node({ swarmKey: psk })
    const dataDir = await tempDir()
    const b1 = await startTestNode({ swarmKey: psk, dataDir, bootstrap: a.addresses() })
    const id = b1.peerId
    await waitFor(() => a.peers().length === 1 && b1.peers().length === 1)
    await new Promise(resolve => setTimeout(resolve, 200)) // peer book write
    await b1.stop()
    // No bootstrap this time: the peer book remembers a.
    const b2 = await node({ swarmKey: psk, dataDir })
    expect(b2.peerId).toBe(id)
    await waitFor(() => b2.peers().some(p => p.peerId === a.peerId), 8000)
  })

  test('malformed and forged adverts are rejected, penalised and not propagated', async () => {
    const psk = newSwarmKeyHex()
    const b = await node({ swarmKey: psk })
    const c = await node({ swarmKey: psk, bootstrap: b.addresses() })
    await waitFor(() => b.peers().length === 1 && c.peers().length === 1)
    // A rogue peer with the right swarm key but no DHT, connected to b only.
    const rogue = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionProtector: preSharedKey({ psk: swarmKeyBytes(psk) }),
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify(), pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, heartbeatInterval: 200 }) },
    })
    others.push(rogue)
    const pubsub = rogue.services.pubsub as GossipSub
    pubsub.subscribe(ADVERT_TOPIC)
    await rogue.dial(multiaddr(b.addresses()[0]), { signal: AbortSignal.timeout(5000) })
    await waitFor(() => pubsub.getSubscribers(ADVERT_TOPIC).length > 0, 5000)
    const bad = [
      new TextEncoder().encode('{"v":1,"garbage'),
      new TextEncoder().encode(JSON.stringify({ v: 1, peerId: rogue.peerId.toString(), seq: 1 })),
      encodeAdvert({ v: 1, peerId: c.peerId, seq: Date.now() * 2, sentAt: Date.now(), intervalMs: 600, addresses: [], capabilities: { ...caps, labels: ['forged'] } }),
    ]
    for (const data of bad) await pubsub.publish(ADVERT_TOPIC, data)
    await waitFor(() => b.adverts.stats.rejected >= 3, 5000)
    expect(b.peers().map(p => p.peerId)).not.toContain(rogue.peerId.toString())
    expect(b.peers().find(p => p.peerId === c.peerId)?.capabilities.labels).not.toContain('forged')
    const scores = b.mesh.services.pubsub as unknown as { getScore: (peerId: string) => number }
    await waitFor(() => scores.getScore(rogue.peerId.toString()) < 0, 3000)
    // c never saw them: b did not forward what it rejected, and c is not connected to the rogue.
    await new Promise(resolve => setTimeout(resolve, 500))
    expect(c.mesh.getConnections().some(conn => conn.remotePeer.equals(rogue.peerId))).toBe(false)
    expect(c.adverts.stats.rejected).toBe(0)
    expect(c.peers().map(p => p.peerId)).toEqual([b.peerId])
    // Both honest nodes keep running and answering.
    expect((await b.describe()).peerId).toBe(b.peerId)
  })
})
