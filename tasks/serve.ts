/**
 * What this node answers on the auction protocol:
 * - `bid?`: the runner's bid or the reason it cannot run the task.
 * - `award`: the carried entries are verified (signatures, chains) and stored; the task's
 *   fold from them and from what this node's own ledger holds of the task (fencing: a later
 *   adoption, a finish the sender has not seen) must name the sender as the auctioneer of
 *   record and keep this award as the open attempt (`awardStatus`); then the runner accepts
 *   or declines.
 * - `replicate`: entries applied and fsynced before `stored`.
 * - `follow`: this node's log and progress events of a task it runs, until the task ends (of a
 *   task that ended here moments ago: the events kept of it).
 * Anything else gets `error`. Nothing a peer sends is trusted before it is verified.
 */
import { awardStatus, consecutiveRuns, foldTask, idOf, isTerminal, verifyRun, type TaskLedger } from '../ledger/index.js'
import type { Entry, TaskEvent, AuctionMessage, AuctionMessageOf } from '../protocols/index.js'
import type { Logger } from '../base/index.js'
import type { TaskEvents } from './events.js'
import type { TaskRunner } from './runner.js'
import type { WireHandler } from './wire.js'

export interface ServeComponents {
  ledger: Pick<TaskLedger, 'receive' | 'clock' | 'task' | 'history'>
  runner: Pick<TaskRunner, 'bid' | 'accept' | 'holds'>
  events: TaskEvents
  peerId: string
  logger: Logger
}

export function serveWire (c: ServeComponents): WireHandler {
  return async (message, from, send, signal) => {
    switch (message.t) {
      case 'bid?': {
        const bid = c.runner.bid(message.task)
        await send('reason' in bid ? { t: 'no-bid', task: message.task.id, reason: bid.reason.slice(0, 2048) } : { t: 'bid', task: message.task.id, ...bid })
        return
      }
      case 'award':
        await send(await takeAward(c, message, from))
        return
      case 'replicate': {
        const outcomes = await c.ledger.receive(message.entries, from, { durable: true })
        await send(outcomes.some(o => o === 'rejected' || o === 'equivocation') ? { t: 'error', message: 'entries fail verification' } : { t: 'stored' })
        return
      }
      case 'follow':
        await follow(c, message.task, send, signal)
        return
      default:
        await send({ t: 'error', message: `unexpected message '${message.t}'` })
    }
  }
}

async function takeAward (c: ServeComponents, message: AuctionMessageOf<'award'>, from: string): Promise<AuctionMessage> {
  const decline = (reason: string): AuctionMessage => {
    c.logger.warn({ task: message.task, from, reason }, 'award declined')
    return { t: 'declined', task: message.task, reason }
  }
  if (message.entries.some(e => e.task !== message.task)) return decline('award carries entries of another task')
  // Verified here (chains and signatures, per author) and stored in the background: the
  // decision rests on these entries alone, and storing them is not on the award's path.
  let ids: Map<Entry, string>
  try {
    ids = verifiedIds(message.entries)
  } catch {
    return decline('award entries fail verification')
  }
  void c.ledger.receive(message.entries, from).catch(() => {})
  // Entries this node writes next must sort after the award (HLC).
  for (const e of message.entries) c.ledger.clock.observe(e.hlc)
  // The carried entries with what this node already holds of the task: the sender's view may
  // lack an adoption that fenced it off, or the end of the task.
  const known = new Map(((await c.ledger.history(message.task).catch(() => undefined)) ?? []).map(s => [s.id, s.entry]))
  for (const entry of message.entries) known.set(ids.get(entry) ?? idOf(entry), entry)
  const state = foldTask([...known].map(([id, entry]) => ({ id, entry })))
  if (state === undefined) return decline('award carries no submitted entry')
  if (state.auctioneer !== from) return decline(`sender is not the task's auctioneer of record (${state.auctioneer}, epoch ${state.epoch})`)
  const status = awardStatus(state, message.attempt, c.peerId)
  if (status !== 'current') return decline(status === 'terminal' ? `task is already ${state.state}` : `attempt ${message.attempt} is not an open award to this node (${status})`)
  const r = c.runner.accept(state, message.attempt)
  return r.ok ? { t: 'accepted', task: message.task } : decline(r.reason)
}

/** How long a `follow` waits for an award that is still on its way to this node. */
const FOLLOW_WAIT_MS = 3000

/** Verify each author's entries as chains (hash links + each run's last signature); their ids. */
function verifiedIds (entries: readonly Entry[]): Map<Entry, string> {
  const ids = new Map<Entry, string>()
  // Entries of one author in an award need not be consecutive (other tasks in between):
  // each consecutive run is checked by its own last signature.
  for (const run of consecutiveRuns(entries)) verifyRun(run).forEach((id, i) => ids.set(run[i], id))
  return ids
}

async function follow (c: ServeComponents, task: string, send: (m: AuctionMessage) => Promise<void>, signal: AbortSignal): Promise<void> {
  // The watcher may learn of the award (from the auctioneer's ledger) before this node has it.
  for (let waited = 0; !c.runner.holds(task) && !c.events.endedRecently(task) && waited < FOLLOW_WAIT_MS && !signal.aborted; waited += 50) await new Promise(resolve => setTimeout(resolve, 50))
  if (!c.runner.holds(task)) {
    // It ended here as the watcher asked: what was kept of it, then the end of the stream.
    if (!c.events.endedRecently(task)) { await send({ t: 'error', message: `task ${task} does not run here` }); return }
    for (const event of c.events.recent(task)) await send({ t: 'event', event: event as unknown as Record<string, unknown> })
    return
  }
  const { promise: ended, resolve } = Promise.withResolvers<void>()
  let chain = Promise.resolve()
  const relay = (event: TaskEvent): void => {
    chain = chain.then(async () => send({ t: 'event', event: event as unknown as Record<string, unknown> })).catch(() => { resolve() })
  }
  // The recent lines first, then live ones (taken in the same tick: nothing falls between).
  for (const event of c.events.recent(task)) relay(event)
  const off = c.events.subscribe(task, event => {
    if (event.type === 'state') { if (isTerminal(event.task.state)) resolve(); return }
    relay(event)
  })
  if (off === undefined) { await send({ t: 'error', message: 'too many subscribers' }); return }
  const poll = setInterval(() => { if (!c.runner.holds(task)) resolve() }, 500)
  const onAbort = (): void => { resolve() }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    await ended
    await chain
  } finally {
    off()
    clearInterval(poll)
    signal.removeEventListener('abort', onAbort)
  }
}
