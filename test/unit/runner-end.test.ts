/**
 * A run's own end: the ledger folds the run's `finished` and hands the runner the task's end
 * state before the append resolves. That state must not abort the run it came from (an
 * AbortError with its stack trace, and an "aborting run" log line, on every task), while a
 * cancel that comes during the run still aborts it.
 */
import { describe, expect, test } from 'vitest'
import { createRunEstimates } from '../../scheduler/index.js'
import { TaskRunner } from '../../tasks/runner.js'
import { BASIC_KINDS, type KindContext, type TaskKind } from '../../tasks/kinds.js'
import type { TaskState } from '../../ledger/index.js'
import { silentLogger, type Logger } from '../../base/index.js'
import { waitFor } from '../helpers/nodes.js'
import { workerStats } from '../helpers/fixtures.js'

const PEER = 'self-peer'

function stateOf (id: string, state: TaskState['state'], outcome?: 'succeeded' | 'cancelled'): TaskState {
  return {
    id, kind: 'inline', priority: 5, spec: {}, auctioneer: PEER, epoch: 1, state, submittedAt: 0, updatedAt: 0, conflicts: [],
    attempts: [{ attempt: 1, node: PEER, epoch: 1, awardedAt: 0, leaseMs: 1000, ...(outcome === undefined ? {} : { outcome }) }],
  }
}

/** A runner whose `append` acts as the ledger does: `finished` and `cancelled` fold to an end state, handed to onState before the append resolves. */
function harness (execute: TaskKind['execute']): { runner: TaskRunner, info: string[], appended: string[] } {
  const inline: TaskKind = { ...BASIC_KINDS[0], name: 'inline', execute }
  const info: string[] = []
  const appended: string[] = []
  const logger: Logger = Object.assign(silentLogger(), { info: (_o: unknown, message?: string) => { info.push(String(message)) } })
  const runner: TaskRunner = new TaskRunner({
    peerId: PEER,
    kinds: new Map([['inline', inline]]),
    workers: { runSandboxed: async () => { throw new Error('unused') }, submit: async () => { throw new Error('unused') }, stats: () => workerStats },
    selfView: () => undefined,
    estimates: createRunEstimates(),
    append: async (type, task) => {
      appended.push(type)
      if (type === 'finished') runner.onState(stateOf(task, 'succeeded', 'succeeded'))
      return undefined
    },
    emit: () => {},
    blobs: () => undefined,
    taskState: async () => undefined,
    logger,
  }, { agingMs: 60_000 })
  return { runner, info, appended }
}

describe('the runner and the end of its own run', () => {
  test('a run that finished is not aborted by the state its own `finished` folds to', async () => {
    let signal: AbortSignal | undefined
    const { runner, info, appended } = harness(async (_spec, context: KindContext) => {
      signal = context.signal
      return { outcome: 'succeeded', result: {} }
    })
    expect(runner.accept(stateOf('t1', 'awarded'), 1)).toEqual({ ok: true })
    await waitFor(() => appended.includes('finished') && !runner.holds('t1'))
    expect(signal?.aborted).toBe(false)
    expect(info).not.toContain('aborting run: task over or attempt given up')
  })

  test('a cancel during the run still aborts it', async () => {
    let signal: AbortSignal | undefined
    const { runner, info } = harness(async (_spec, context: KindContext) => {
      signal = context.signal
      await new Promise(resolve => context.signal.addEventListener('abort', resolve, { once: true }))
      return { outcome: 'failed', error: 'stopped' }
    })
    runner.accept(stateOf('t2', 'awarded'), 1)
    await waitFor(() => signal !== undefined)
    runner.onState(stateOf('t2', 'cancelled', 'cancelled'))
    await waitFor(() => !runner.holds('t2'))
    expect(signal?.aborted).toBe(true)
    expect(info).toContain('aborting run: task over or attempt given up')
  })
})
