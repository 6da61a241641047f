/**
 * A connection whose identify failed is healed (node/mesh/identify-watch.ts): real meshes on
 * loopback. Identify over one connection fails on both sides, and again on the watch's retry
 * (simulated: as it times out when a peer's event loop stalls on a busy machine): the
 * connection is closed. Over another it fails once on both sides and works on the retry: it
 * stays, gossipsub attached, as does a peer whose identify worked at once.
 */
import { afterAll, expect, test } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection } from '@libp2p/interface'
import { createMesh, startMesh, type Mesh } from '../../node/mesh/libp2p.js'
import { IdentifyWatch } from '../../node/mesh/identify-watch.js'
import { newSwarmKeyHex } from '../../node/datadir/index.js'
import { silentLogger } from '../../base/index.js'
import { waitFor } from '../helpers/nodes.js'

const LISTEN = ['/ip4/127.0.0.1/tcp/0']
const meshes: Mesh[] = []

async function mesh (swarmKey: string): Promise<Mesh> {
  const m = await createMesh({ privateKey: await generateKeyPair('Ed25519'), swarmKey, listen: LISTEN, mdns: false })
  await startMesh(m, LISTEN)
  meshes.push(m)
  return m
}

afterAll(async () => { await Promise.all(meshes.map(async m => { await m.stop() })) })

/**
 * Makes `mesh`'s identify of `peer` fail (as it times out when the peer's event loop stalls)
 * for the next `times` calls: the automatic one on connection open and the watch's retries.
 */
function failIdentify (mesh: Mesh, peer: Mesh, times: number): void {
  const service = mesh.services.identify as { identify: (connection: Connection, options?: object) => Promise<unknown> }
  const original = service.identify.bind(service)
  let left = times
  service.identify = async (connection, options) => {
    if (connection.remotePeer.equals(peer.peerId) && left-- > 0) throw new Error('identify timed out (simulated)')
    return await original(connection, options)
  }
}

test('a connection whose identify failed twice is closed; one whose second identify works stays, with gossipsub', async () => {
  const key = newSwarmKeyHex()
  const home = await mesh(key)
  const watch = new IdentifyWatch(home, silentLogger(), { graceMs: 2000, retryTimeoutMs: 3000 })
  watch.start()
  try {
    const mute = await mesh(key)
    const slow = await mesh(key)
    const good = await mesh(key)
    // Both sides' identify fails (either side's success lets gossipsub attach through it).
    failIdentify(home, mute, 2)
    failIdentify(mute, home, 1)
    failIdentify(home, slow, 1)
    failIdentify(slow, home, 1)
    for (const peer of [mute, slow, good]) await peer.dial(home.getMultiaddrs()[0], { signal: AbortSignal.timeout(10_000) })
    await waitFor(() => watch.healed.length > 0 && home.getConnections(mute.peerId).length === 0, 30_000)
    // The others are still there, with gossipsub attached, well after the grace.
    await waitFor(() => [slow, good].every(p => home.services.pubsub.getPeers().some(id => id.equals(p.peerId))), 30_000)
    await new Promise(resolve => setTimeout(resolve, 1000))
    for (const peer of [slow, good]) expect(home.getConnections(peer.peerId).length).toBeGreaterThan(0)
    // (One entry per connection closed: the two nodes may have dialled each other.)
    expect(new Set(watch.healed)).toEqual(new Set([mute.peerId.toString()]))
  } finally {
    watch.stop()
  }
})

test('with the node\'s own test of being heard (its advert is live), a peer connected but never heard is disconnected', async () => {
  const key = newSwarmKeyHex()
  const home = await mesh(key)
  const quiet = await mesh(key)
  const good = await mesh(key)
  const watch = new IdentifyWatch(home, silentLogger(), { graceMs: () => 300, retryTimeoutMs: 3000, heard: id => id !== quiet.peerId.toString() })
  watch.start()
  try {
    for (const peer of [quiet, good]) await peer.dial(home.getMultiaddrs()[0], { signal: AbortSignal.timeout(10_000) })
    await waitFor(() => watch.healed.length > 0 && home.getConnections(quiet.peerId).length === 0, 30_000)
    await new Promise(resolve => setTimeout(resolve, 1000))
    expect(home.getConnections(good.peerId).length).toBeGreaterThan(0)
    expect(new Set(watch.healed)).toEqual(new Set([quiet.peerId.toString()]))
  } finally {
    watch.stop()
  }
})

test('connections opened before the watch starts are watched too (peers may dial in before the node starts it)', async () => {
  const key = newSwarmKeyHex()
  const home = await mesh(key)
  const quiet = await mesh(key)
  const good = await mesh(key)
  for (const peer of [quiet, good]) await peer.dial(home.getMultiaddrs()[0], { signal: AbortSignal.timeout(10_000) })
  // Both connections are open on home's side, and their `connection:open` events are past.
  await waitFor(() => [quiet, good].every(p => home.getConnections(p.peerId).some(c => c.status === 'open')), 30_000)
  await new Promise(resolve => setTimeout(resolve, 1000))
  const opened: string[] = []
  home.addEventListener('connection:open', evt => { opened.push(evt.detail.remotePeer.toString()) })
  const watch = new IdentifyWatch(home, silentLogger(), { graceMs: () => 300, retryTimeoutMs: 3000, heard: id => id !== quiet.peerId.toString() })
  watch.start()
  try {
    await waitFor(() => watch.healed.length > 0 && home.getConnections(quiet.peerId).length === 0, 30_000)
    // Healed from the watch's start, not from a later connection:open.
    expect(opened).not.toContain(quiet.peerId.toString())
    expect(home.getConnections(good.peerId).length).toBeGreaterThan(0)
    expect(new Set(watch.healed)).toEqual(new Set([quiet.peerId.toString()]))
  } finally {
    watch.stop()
  }
})
