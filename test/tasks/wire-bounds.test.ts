/** The auction wire keeps at most `maxSessions` session streams open (real libp2p meshes on loopback). */
import { afterAll, expect, test } from 'vitest'
import { AuctionWire } from '../../tasks/wire.js'
import { silentLogger } from '../../base/index.js'
import { blobMeshes, connect } from '../blobs/meshes.js'

const meshes = blobMeshes()
const wires: AuctionWire[] = []
afterAll(async () => {
  for (const wire of wires) await wire.stop()
  await meshes.stopAll()
})

test('a session beyond maxSessions closes the least recently used one; requests still work', async () => {
  const [a, b, c] = await Promise.all([meshes.mesh(), meshes.mesh(), meshes.mesh()])
  await connect(a, b)
  await connect(a, c)
  const client = new AuctionWire({ mesh: a, logger: silentLogger() }, { maxSessions: 1 })
  wires.push(client)
  await client.start(async () => {})
  for (const server of [b, c]) {
    const wire = new AuctionWire({ mesh: server, logger: silentLogger() })
    wires.push(wire)
    await wire.start(async (message, _from, send) => { await send({ t: 'error', message: `echo ${(message as { message: string }).message}` }) })
  }
  const ask = async (peer: string, text: string): Promise<string> => new TextDecoder().decode(await client.request(peer, { t: 'error', message: text }, { timeoutMs: 30_000 }))
  expect(await ask(b.peerId.toString(), 'one')).toContain('echo one')
  expect(client.sessionCount).toBe(1)
  expect(await ask(c.peerId.toString(), 'two')).toContain('echo two')
  expect(client.sessionCount).toBe(1)
  expect(await ask(b.peerId.toString(), 'three')).toContain('echo three')
  expect(client.sessionCount).toBe(1)
  expect(client.stats.sessions).toBe(3) // b, then c (b closed), then b again (c closed)
})
