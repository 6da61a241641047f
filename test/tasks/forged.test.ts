/**
 * Peers are untrusted: forged awards, tampered entries, unsolicited and malformed auction
 * messages, and bids that name another task are all rejected, and the nodes go on working.
 * The attacker is a real libp2p node with the swarm key (a member gone bad).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { newSwarmKeyHex, nodeTracker, waitFor } from '../helpers/nodes.js'
import { caps } from '../helpers/fixtures.js'
import { createMesh, startMesh, type Mesh } from '../../node/mesh/libp2p.js'
import { AuctionWire } from '../../tasks/wire.js'
import { silentLogger } from '../../base/index.js'
import { createEntrySigner } from '../../ledger/index.js'
import { ADVERT_TOPIC, encodeAdvert } from '../../protocols/advert.js'
import { AUCTION_PROTOCOL, decodeAuctionMessage, encodeAuctionMessage, type AuctionMessage } from '../../protocols/auction.js'
import type { Entry } from '../../protocols/ledger.js'
import type { GryphgenNode } from '../../node/node.js'

const nodes = nodeTracker()
let a: GryphgenNode
let b: GryphgenNode
let attacker: Mesh
let attackerKey: PrivateKey
let wire: AuctionWire

beforeAll(async () => {
  const swarmKey = newSwarmKeyHex()
  a = await nodes.start({ swarmKey, name: 'a' })
  b = await nodes.start({ swarmKey, name: 'b', bootstrap: a.addresses() })
  await waitFor(() => a.peers().length === 1 && b.peers().length === 1, 15_000)
  attackerKey = await generateKeyPair('Ed25519')
  attacker = await createMesh({ privateKey: attackerKey, swarmKey, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
  await startMesh(attacker, ['/ip4/127.0.0.1/tcp/0'])
  await attacker.dial(b.mesh.getMultiaddrs()[0])
  await attacker.dial(a.mesh.getMultiaddrs()[0])
  wire = new AuctionWire({ mesh: attacker, logger: silentLogger() })
})
afterAll(async () => {
  await wire.stop()
  await attacker.stop()
  await nodes.stopAll()
})

const ask = async (to: GryphgenNode, message: AuctionMessage): Promise<AuctionMessage> => decodeAuctionMessage(await wire.request(to.peerId, message))

/** A task at A that no node can run now (a label nobody has): pending, never awarded. */
async function pendingAtA (): Promise<{ id: string, entries: Entry[] }> {
  const { id } = await a.tasks.submit({ kind: 'noop', requirements: { labels: ['nowhere'] } }, {})
  const entries = ((await a.ledger.history(id)) ?? []).map(s => s.entry)
  return { id, entries }
}

describe('forged auction messages', () => {
  test('an award from a node that is not the auctioneer of record is declined', async () => {
    const { id, entries } = await pendingAtA()
    // Genuine entries, but no award in them.
    expect(await ask(b, { t: 'award', task: id, attempt: 1, entries })).toMatchObject({ t: 'declined', reason: expect.stringMatching(/auctioneer of record/) })
    // The attacker signs its own award: valid signature, wrong author.
    const sign = createEntrySigner(attackerKey)
    const forged = sign({ v: 1, author: attacker.peerId.toString(), seq: 1, prev: null, hlc: { wall: Date.now(), logical: 0 }, type: 'awarded', task: id, body: { attempt: 1, node: b.peerId, leaseMs: 5000, epoch: 1 } }).entry
    const reply = await ask(b, { t: 'award', task: id, attempt: 1, entries: [...entries, forged] })
    expect(reply).toMatchObject({ t: 'declined', reason: expect.stringMatching(/auctioneer of record/) })
    expect(b.taskService.runner.holds(id)).toBe(false)
    await new Promise(resolve => setTimeout(resolve, 300))
    expect((await b.ledger.history(id))?.some(s => s.entry.type === 'started')).not.toBe(true)
    expect((await a.tasks.get(id)).state).toBe('pending')
  })

  test('tampered entries fail verification', async () => {
    const { id, entries } = await pendingAtA()
    const tampered = entries.map(e => e.type === 'submitted' ? { ...e, body: { ...e.body, priority: 9 } } : e)
    expect(await ask(b, { t: 'award', task: id, attempt: 1, entries: tampered })).toMatchObject({ t: 'declined', reason: expect.stringMatching(/verification/) })
    expect(await ask(b, { t: 'replicate', entries: tampered })).toMatchObject({ t: 'error' })
  })

  test('unsolicited and malformed messages get an error; the node keeps working', async () => {
    expect(await ask(b, { t: 'bid', task: 'task-0001', costMs: 0, completionMs: 0 })).toMatchObject({ t: 'error', message: expect.stringMatching(/unexpected/) })
    for (const bytes of [Buffer.from('not json'), Buffer.from('{"t":"award","task":"x"}'), Buffer.from('{"t":"bid?","task":{"id":"task-0001","kind":"noop","priority":99,"requirements":{},"submittedAt":1}}')]) {
      const stream = await attacker.dialProtocol(b.mesh.peerId, AUCTION_PROTOCOL)
      const lp = lpStream(stream)
      await lp.write(bytes)
      const reply = decodeAuctionMessage((await lp.read()).subarray())
      expect(reply.t).toBe('error')
      await stream.close().catch(() => {})
    }
    expect(b.taskService.wire.stats.malformed).toBeGreaterThanOrEqual(3)
    const { id } = await b.tasks.submit({ kind: 'noop' }, {})
    await waitFor(async () => (await b.tasks.get(id)).state === 'succeeded', 10_000)
  })

  test('a bid that names another task, or comes from a node not asked, does not count', async () => {
    // The attacker advertises itself with a label only it has, then answers every bid request
    // with a bid for some other task.
    await attacker.handle(AUCTION_PROTOCOL, async (stream) => {
      const lp = lpStream(stream)
      decodeAuctionMessage((await lp.read()).subarray())
      await lp.write(encodeAuctionMessage({ t: 'bid', task: 'some-other-task', costMs: 0, completionMs: 0 }))
      await stream.close()
    })
    const advert = { v: 1 as const, peerId: attacker.peerId.toString(), seq: 1, sentAt: Date.now(), intervalMs: 60_000, addresses: attacker.getMultiaddrs().map(String), capabilities: { ...caps, labels: ['rogue'], gpus: [] } }
    await waitFor(async () => {
      await attacker.services.pubsub.publish(ADVERT_TOPIC, encodeAdvert({ ...advert, seq: advert.seq++, sentAt: Date.now() })).catch(() => {})
      return a.peers().some(p => p.peerId === attacker.peerId.toString())
    }, 10_000, 200)
    const { id } = await a.tasks.submit({ kind: 'noop', requirements: { labels: ['rogue'] } }, {})
    await waitFor(() => a.taskService.auctioneer.stats.noBids >= 2, 10_000)
    const view = await a.tasks.get(id)
    expect(view.state).toBe('pending')
    expect(view.attempts).toHaveLength(0)
    await a.tasks.cancel(id)
  })
})
