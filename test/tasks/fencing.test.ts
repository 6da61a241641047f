/**
 * Fenced awards (issue 15, item 2) on real in-process nodes: an auctioneer fenced off by an
 * adoption cannot get its stale award run, a runner never starts an attempt the ledger gave to
 * another node or a task that already ended, and a restarted node that is not connected never
 * takes over another node's tasks (while it still finishes its own).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { newSwarmKeyHex, nodeTracker, startTestNode, tempDir, waitFor } from '../helpers/nodes.js'
import { foldTask, type TaskState } from '../../ledger/index.js'
import { decodeAuctionMessage } from '../../protocols/auction.js'
import type { Entry } from '../../protocols/ledger.js'
import type { GryphgenNode } from '../../node/node.js'

const LEASE_MS = 2000
const nodes = nodeTracker()
let [a, b, c, d]: GryphgenNode[] = []

beforeAll(async () => {
  const swarmKey = newSwarmKeyHex()
  a = await nodes.start({ swarmKey, name: 'a' })
  ;[b, c, d] = await Promise.all(['b', 'c', 'd'].map(async name => nodes.start({ swarmKey, name, bootstrap: a.addresses() })))
  await waitFor(() => [a, b, c, d].every(n => n.peers().length === 3), 30_000)
})
afterAll(async () => { await nodes.stopAll() })

/** A noop task at A that no node can run yet (a label nobody has), known to every node. */
async function pendingAtA (label: string): Promise<string> {
  const { id } = await a.tasks.submit({ kind: 'noop', requirements: { labels: [label] } }, {})
  await waitFor(async () => (await Promise.all([b, c, d].map(async n => n.ledger.task(id)))).every(s => s?.state === 'pending'), 20_000)
  return id
}

const history = async (node: GryphgenNode, id: string): Promise<Entry[]> => ((await node.ledger.history(id)) ?? []).map(s => s.entry)

/** B takes A's task over (epoch 2), as if it had judged A dead; every node learns of it. */
async function adoptAtB (id: string): Promise<void> {
  await b.ledger.append('adopted', id, { reason: 'test: auctioneer judged gone', epoch: 2 })
  await waitFor(async () => (await Promise.all([a, c, d].map(async n => n.ledger.task(id)))).every(s => s?.auctioneer === b.peerId && s.epoch === 2), 20_000)
}

/** A, fenced off or stale, awards `attempt` to `to` and sends it the award with `entries` as its (stale) view. */
async function staleAward (id: string, attempt: number, to: GryphgenNode, keep: (e: Entry) => boolean): Promise<{ reply: unknown, state: TaskState }> {
  await a.ledger.append('awarded', id, { attempt, node: to.peerId, leaseMs: LEASE_MS, epoch: 1 })
  const entries = (await history(a, id)).filter(keep)
  const reply = decodeAuctionMessage(await a.taskService.wire.request(to.peerId, { t: 'award', task: id, attempt, entries }))
  const state = foldTask(entries.map((entry, i) => ({ id: String(i), entry }))) as TaskState
  return { reply, state }
}

/** The runner is handed `state` as if it had accepted the award: did it run the task (write anything)? */
async function runnerWrote (node: GryphgenNode, id: string, state: TaskState, attempt: number): Promise<Entry[]> {
  expect(node.taskService.runner.accept(state, attempt)).toEqual({ ok: true })
  await waitFor(() => !node.taskService.runner.holds(id), 20_000)
  await node.ledger.flush()
  return (await history(node, id)).filter(e => e.author === node.peerId && (e.type === 'started' || e.type === 'finished') && e.body.attempt === attempt)
}

describe('fenced awards', () => {
  test('an award from an auctioneer an adoption fenced off is declined; the adopter\'s award runs', async () => {
    const id = await pendingAtA('fence-1')
    await adoptAtB(id)
    // A has not seen the adoption (its view lacks the entry) and awards attempt 1 to C.
    const { reply } = await staleAward(id, 1, c, e => e.type !== 'adopted')
    expect(reply).toMatchObject({ t: 'declined', reason: expect.stringMatching(/auctioneer of record/) })
    await d.setLabels(['fence-1'])
    await waitFor(async () => (await d.ledger.task(id))?.state === 'succeeded', 20_000)
    const s = await d.ledger.task(id)
    expect(s?.attempts).toMatchObject([{ attempt: 1, node: d.peerId, epoch: 2, outcome: 'succeeded' }])
    expect((await history(d, id)).filter(e => e.author === c.peerId)).toEqual([]) // C never ran it
  })

  test('two awards of one attempt: the runner whose award the ledger did not keep never starts it', async () => {
    const id = await pendingAtA('fence-2')
    await adoptAtB(id)
    // The adopter's award of attempt 1 goes to D (no message: D need not run it for this test).
    await b.ledger.append('awarded', id, { attempt: 1, node: d.peerId, leaseMs: LEASE_MS, epoch: 2 })
    await waitFor(async () => (await c.ledger.task(id))?.attempts[0]?.node === d.peerId, 20_000)
    // C holds a stale fold in which A awarded attempt 1 to C.
    const { state } = await staleAward(id, 1, c, e => e.type !== 'adopted' && !(e.type === 'awarded' && e.author === b.peerId))
    expect(state.attempts[0]?.node).toBe(c.peerId)
    expect(await runnerWrote(c, id, state, 1)).toEqual([])
  })

  test('a task that already ended is never started again', async () => {
    const { id } = await a.tasks.submit({ kind: 'noop' }, {})
    await waitFor(async () => (await Promise.all([a, c].map(async n => n.ledger.task(id)))).every(s => s?.state === 'succeeded'), 20_000)
    // A stale view without the finish, in which A gave attempt 1 up (lease judged expired) and
    // awards attempt 2 to C: C declines it, and a runner handed it does not start it.
    await a.ledger.append('retried', id, { attempt: 1, reason: 'test: lease judged expired' })
    const { reply, state } = await staleAward(id, 2, c, e => e.type !== 'finished' && e.type !== 'started')
    expect(reply).toMatchObject({ t: 'declined', reason: expect.stringMatching(/already succeeded/) })
    expect(state.attempts[1]).toMatchObject({ attempt: 2, node: c.peerId }) // current in the stale view
    expect(await runnerWrote(c, id, state, 2)).toEqual([])
    expect((await a.ledger.task(id))?.attempts).toHaveLength(1)
  })
})

describe('a restarted node', () => {
  test('does not take over another node\'s tasks while it is not connected, and still finishes its own', async () => {
    const swarmKey = newSwarmKeyHex()
    const auction = { leaseMs: LEASE_MS }
    const pDir = await tempDir()
    const rDir = await tempDir()
    const p = await startTestNode({ swarmKey, dataDir: pDir, name: 'p', auction })
    let r = await startTestNode({ swarmKey, dataDir: rDir, name: 'r', auction, bootstrap: p.addresses() })
    try {
      await waitFor(() => p.peers().length === 1 && r.peers().length === 1, 20_000)
      const pId = p.peerId
      const theirs = (await p.tasks.submit({ kind: 'noop', requirements: { labels: ['fence-never'] } }, {})).id
      const mine = (await r.tasks.submit({ kind: 'noop', requirements: { labels: ['fence-later'] } }, {})).id
      await waitFor(async () => (await r.ledger.task(theirs))?.state === 'pending' && (await r.ledger.task(mine))?.blocked !== undefined, 20_000)
      await r.stop()
      await p.stop()
      // R comes back alone (P is down, so R's peer book finds nobody) and can now run its own task.
      const restartedAt = Date.now()
      r = await startTestNode({ swarmKey, dataDir: rDir, name: 'r', auction, labels: ['fence-later'] })
      await waitFor(async () => (await r.ledger.task(mine))?.state === 'succeeded', 30_000, 100)
      // Its heartbeats run (its own task was auctioned): give a takeover several leases to show.
      const ownDoneAt = Date.now()
      await waitFor(() => Date.now() > Math.max(restartedAt + 5 * LEASE_MS, ownDoneAt + 2 * LEASE_MS), 30_000, 100)
      const s = await r.ledger.task(theirs)
      expect(s).toMatchObject({ state: 'pending', auctioneer: pId, epoch: 1 })
      expect((await history(r, theirs)).map(e => e.type)).not.toContain('adopted')
    } finally {
      await Promise.allSettled([r.stop(), p.stop()])
    }
  })
})
