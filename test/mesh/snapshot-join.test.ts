import { afterEach, describe, expect, test } from 'vitest'
import type { GryphgenNode } from '../../node/node.js'
import { nodeTracker, newSwarmKeyHex, tempDir, waitFor } from '../helpers/nodes.js'

const nodes = nodeTracker()
afterEach(nodes.stopAll)
const node = nodes.start

const name = (i: number) => `task-snap${String(i).padStart(4, '0')}`
/**
 * Tasks of a kind no node runs (replication only): the first two thirds are cancelled
 * (terminal), the last third stays pending. (A pending task pins its author's chain from its
 * first entry: the terminal ones come first so that the chain can be cut after them.)
 */
async function workload (n: GryphgenNode, from: number, count: number, ended = count * 2 / 3): Promise<string[]> {
  const tasks = Array.from({ length: count }, (_, i) => name(from + i))
  for (const [i, task] of tasks.entries()) {
    await n.ledger.append('submitted', task, { kind: 'ledger-test', priority: 5, spec: { i } })
    if (i < ended) await n.ledger.append('cancelled', task, { reason: 'done with it' })
  }
  return tasks
}
const statesOf = async (n: GryphgenNode, tasks: string[]) => JSON.stringify(await Promise.all(tasks.map(async t => n.ledger.task(t))))
const summariesOf = async (n: GryphgenNode) => n.ledger.store.db.iterator({ gt: 'L:summary:', lt: 'L:summary:\uffff' }).all()
/** Compact everything terminal so far (a horizon a moment after the last entry). */
async function compactAll (n: GryphgenNode): Promise<{ tasks: number, entries: number }> {
  await new Promise(resolve => setTimeout(resolve, 5))
  return n.compactLedger({ olderThanMs: 0 })
}

describe('snapshot join', () => {
  test('a node joining after a compaction syncs summaries + checkpoints + the live tail, and derives the same states', async () => {
    const psk = newSwarmKeyHex()
    const a = await node({ swarmKey: psk })
    const tasks = await workload(a, 0, 60)
    expect(await compactAll(a)).toMatchObject({ tasks: 40 })
    const status = await a.ledgerRetention()
    expect(status).toMatchObject({ compactedTasks: 40, liveEntries: 20 })
    const b = await node({ swarmKey: psk, bootstrap: a.addresses() })
    await waitFor(async () => { await b.ledger.whenIndexed(); return await statesOf(b, tasks) === await statesOf(a, tasks) })
    expect(b.ledger.versionVector()).toEqual(a.ledger.versionVector())
    expect(await b.ledgerRetention()).toMatchObject({ compactedTasks: 40, liveEntries: 20, compactedEntries: status.compactedEntries })
    expect(await summariesOf(b)).toEqual(await summariesOf(a))
    const history = await b.taskHistory(tasks[1])
    expect(history).toMatchObject({ compacted: true, entries: [], summary: { task: tasks[1], state: { state: 'cancelled' } } })
    expect((await b.taskService.get(tasks[1])).compacted).toBe(true)
    // Entries after the checkpoint reach the joiner by gossip and chain on.
    await a.ledger.append('cancelled', tasks[0], { reason: 'later' })
    await waitFor(async () => (await b.ledger.task(tasks[0]))?.state === 'cancelled')
  })

  test('a node away longer than the window rejoins by snapshot', async () => {
    const psk = newSwarmKeyHex()
    const a = await node({ swarmKey: psk })
    const dataDir = await tempDir()
    const b = await node({ swarmKey: psk, bootstrap: a.addresses(), dataDir })
    const early = await workload(a, 0, 30, 30)
    await waitFor(() => JSON.stringify(b.ledger.versionVector()) === JSON.stringify(a.ledger.versionVector()))
    const away = b.ledger.versionVector()[a.peerId]
    await b.stop()
    const later = await workload(a, 30, 30)
    // The cut passes every task of both batches that ended, above what b held.
    expect((await compactAll(a)).tasks).toBe(50)
    expect(a.ledger.retention.floor(a.peerId)).toBeGreaterThan(away)
    const back = await node({ swarmKey: psk, bootstrap: a.addresses(), dataDir })
    const all = [...early, ...later]
    await waitFor(async () => { await back.ledger.whenIndexed(); return await statesOf(back, all) === await statesOf(a, all) })
    expect(back.ledger.retention.checkpoints.get(a.peerId)?.id).toBe(a.ledger.retention.checkpoints.get(a.peerId)?.id)
    expect((await back.ledgerRetention()).liveEntries).toBe((await a.ledgerRetention()).liveEntries)
  })

  test('a joiner is ready on the state table, then backfills summaries that take several pages (> 4 MiB), byte for byte', async () => {
    const psk = newSwarmKeyHex()
    const a = await node({ swarmKey: psk })
    // 3,200 cancelled tasks of ~1.5 KB each: ~5 MiB of summaries, more than one page holds; a
    // full page of small ones (a long header of sizes) is a frame just over 4 MiB.
    const spec = { text: 'x'.repeat(1400) }
    const tasks = Array.from({ length: 3200 }, (_, i) => name(i))
    for (let i = 0; i < tasks.length; i += 200) {
      await Promise.all(tasks.slice(i, i + 200).map(async task => a.ledger.append('submitted', task, { kind: 'ledger-test', priority: 5, spec })))
      await Promise.all(tasks.slice(i, i + 200).map(async task => a.ledger.append('cancelled', task, { reason: 'done with it' })))
    }
    expect((await compactAll(a)).tasks).toBe(3200)
    const b = await node({ swarmKey: psk, bootstrap: a.addresses() })
    await waitFor(async () => (await b.ledgerRetention()).compactedTasks === 3200)
    // Lists answer from the rows at once (the summaries may still be on their way).
    expect((await b.ledger.tasksByState('cancelled', 100)).map(t => t.id)).toEqual(tasks.slice(0, 100))
    await waitFor(async () => JSON.stringify(await summariesOf(b)) === JSON.stringify(await summariesOf(a)))
    expect(b.ledgerSync.summaries.stats.requests).toBeGreaterThan(1)
    expect(await statesOf(b, tasks)).toBe(await statesOf(a, tasks))
  })
})
