/** Real meshes on loopback (port 0, mDNS off), each with a blob store and service; all stopped by `stopAll()`. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createMesh, startMesh, type Mesh } from '../../node/mesh/libp2p.js'
import { newSwarmKeyHex } from '../../node/datadir/index.js'
import { silentLogger } from '../../base/index.js'
import { BlobStore, createBlobService, type BlobService, type BlobServiceInit } from '../../blobs/index.js'

export interface BlobNode { mesh: Mesh, store: BlobStore, service: BlobService, dataDir: string }

export async function tempDir (): Promise<string> {
  return mkdtemp(join(tmpdir(), 'gryphgen-blobs-'))
}

/** Until `check` holds, polling; throws after `timeoutMs`. */
export async function waitFor (check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

export function dhtPeers (mesh: Mesh): number {
  return (mesh.services.dht as unknown as { routingTable: { size: number } }).routingTable.size
}

/** Dial `to` from `from` and wait until each has the other in its DHT routing table. */
export async function connect (from: Mesh, to: Mesh): Promise<void> {
  const before = [dhtPeers(from), dhtPeers(to)]
  await from.dial(to.getMultiaddrs()[0], { signal: AbortSignal.timeout(5000) })
  await waitFor(() => dhtPeers(from) > before[0] && dhtPeers(to) > before[1])
}

export function blobMeshes (): {
  swarmKey: string
  mesh: () => Promise<Mesh>
  node: (init?: BlobServiceInit) => Promise<BlobNode>
  stopAll: () => Promise<void>
} {
  const swarmKey = newSwarmKeyHex()
  const stops: Array<() => Promise<void>> = []
  const mesh = async (): Promise<Mesh> => {
    const m = await createMesh({ privateKey: await generateKeyPair('Ed25519'), swarmKey, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
    await startMesh(m, ['/ip4/127.0.0.1/tcp/0'])
    stops.push(async () => m.stop())
    return m
  }
  return {
    swarmKey,
    mesh,
    node: async (init) => {
      const m = await mesh()
      const dataDir = await tempDir()
      const store = await BlobStore.open({ dataDir })
      const service = createBlobService({ mesh: m, store, logger: silentLogger() }, init)
      await service.start()
      stops.push(async () => {
        await service.stop()
        await store.close()
        await rm(dataDir, { recursive: true, force: true })
      })
      return { mesh: m, store, service, dataDir }
    },
    stopAll: async () => {
      // Services before their meshes: the reverse of the start order.
      for (const stop of stops.splice(0).reverse()) await stop()
    },
  }
}
