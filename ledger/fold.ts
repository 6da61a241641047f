/**
 * Task state: a deterministic fold of one task's entries. Every node that holds the same set
 * of entries derives the same state, whatever the order in which they arrived, because the
 * fold first sorts them into canonical order: (hlc, author, seq). Pure.
 *
 * Rules (conflicts included):
 *  1. The first `submitted` defines the task; later ones are conflicts, ignored.
 *  2. `awarded(n, node, epoch)` counts only from the task's current auctioneer at the task's
 *     current epoch (the fencing token, see rule 9), only for the next attempt number, only
 *     while no attempt is open and the task is not terminal; a second award of the same
 *     attempt is a conflict, ignored.
 *  3. `started(n)` and `finished(n)` count only from attempt n's node.
 *  4. Two `finished` for one attempt: the first in canonical order wins; the other is a
 *     conflict, recorded and ignored.
 *  5. A cancel racing a finish: whichever comes first in canonical order decides; the other
 *     is recorded (the finish stays on its attempt as `late`) but does not change the state.
 *     A cancel closes the open attempt, if any, as `cancelled`; a `finished(cancelled)` from
 *     that attempt's node then records what the run printed (once) and changes nothing else.
 *  6. `retried(n)` (lease expired, node lost, or attempt n's node giving it back after a
 *     retryable fault such as a lost worker) closes attempt n as `lost` and puts the task
 *     back to pending. A result that node sends later (its lease had expired) is recorded on
 *     attempt n as `late`; a late success still completes a task that no other attempt has
 *     finished, and a later success of another attempt is then recorded, not applied: there
 *     is exactly one success per task.
 *  7. A task with no `submitted` entry (yet) has no state.
 *  8. `retried` (but for attempt n's own node, rule 6), `blocked` and `abandoned` count only
 *     from the current auctioneer: the author of `submitted` (epoch 1) or of the `adopted`
 *     that opened the current epoch.
 *     `blocked` records why no node can run the task (cleared by the next award); `abandoned`
 *     fails a task with no open attempt (attempts exhausted). `cancelled` counts from any
 *     member of the mesh.
 *  9. Fencing (issue 15): `adopted(epoch)` counts only with epoch = the task's epoch + 1 and
 *     while the task is not terminal; its author becomes the auctioneer and every earlier
 *     auctioneer is fenced off (its later awards, retries and blocks are conflicts). Two
 *     nodes adopting at once both write the same epoch: the first in canonical order wins.
 *     An open attempt survives an adoption (its lease is judged by the new auctioneer).
 *     `awardStatus` tells a runner whether its award is still the one the fold keeps.
 */
import { isTerminal, type Bodies, type Entry, type TaskStateName } from '../protocols/index.js'
import { compareHlc } from './hlc.js'

export type AttemptOutcome = 'succeeded' | 'failed' | 'lost' | 'cancelled' | 'late-succeeded' | 'late-failed'

export interface Attempt {
  attempt: number
  node: string
  /** The auctioneer's epoch the award was made at (the fencing token). */
  epoch: number
  awardedAt: number
  leaseMs: number
  startedAt?: number
  endedAt?: number
  outcome?: AttemptOutcome
  error?: string
  resultDigest?: string
  result?: Record<string, unknown>
  /** Set in a compaction summary (format v2) where it left out this attempt's result, over SUMMARY_INLINE_BYTES: the result's size. */
  resultOmittedBytes?: number
}

export interface TaskState {
  id: string
  kind: string
  priority: number
  spec: Record<string, unknown>
  auctioneer: string
  /** The fencing epoch: 1 from `submitted`, raised by 1 by each counted `adopted`. */
  epoch: number
  state: TaskStateName
  submittedAt: number
  updatedAt: number
  attempts: Attempt[]
  cancelReason?: string
  /** Why no node runs it now or ever, as the auctioneer last reported (until the next award). */
  blocked?: Bodies['blocked'] & { at: number }
  /** Why the auctioneer gave up (state `failed` with no deciding attempt). */
  abandonedReason?: string
  /** The attempt whose `finished` decided a succeeded or failed state (its result is the task's). */
  decidedBy?: number
  /** Ids of entries that were valid but lost a conflict (for inspection). */
  conflicts: string[]
  /** Recorded steps of a long task, in step order (see `checkpoint`). */
  checkpoints?: Checkpoint[]
  feedback?: Feedback[]
  /** Set by the ledger (not the fold) on tasks whose entries a compaction replaced by a summary. */
  compacted?: true
  /** Set by the ledger on compacted tasks whose summary expired (`ledger.retention.summariesMs`): only state, kind and times remain. */
  expired?: true
  /** Set by the ledger on a compacted task whose summary has not come yet (a joiner, ledger/table.ts): only state, kind and times. */
  partial?: true
}

export type Checkpoint = Omit<Bodies['checkpoint'], never> & { node: string, at: number }
export type Feedback = Bodies['feedback'] & { node: string, at: number }

export function canonicalOrder (a: Entry, b: Entry): number {
  return compareHlc(a.hlc, b.hlc) || (a.author < b.author ? -1 : a.author > b.author ? 1 : a.seq - b.seq)
}


/**
 * Fold entries (ids alongside) of one task into its state. `base`: the state a compaction
 * summary froze (its entries are gone); the entries that came after it are folded on top.
 */
export function foldTask (entries: ReadonlyArray<{ id: string, entry: Entry }>, base?: TaskState): TaskState | undefined {
  const sorted = [...entries].sort((a, b) => canonicalOrder(a.entry, b.entry))
  let task: TaskState | undefined = base === undefined ? undefined : structuredClone(base)
  const pre: typeof sorted = []
  for (const item of sorted) {
    const { entry, id } = item
    if (task === undefined) {
      if (entry.type !== 'submitted') { pre.push(item); continue }
      const body = entry.body as Bodies['submitted']
      task = {
        id: entry.task, kind: body.kind, priority: body.priority, spec: body.spec, auctioneer: entry.author, epoch: 1,
        state: 'pending', submittedAt: entry.hlc.wall, updatedAt: entry.hlc.wall, attempts: [], conflicts: [],
      }
      continue
    }
    if (!apply(task, entry)) task.conflicts.push(id)
    else task.updatedAt = Math.max(task.updatedAt, entry.hlc.wall)
  }
  // Entries that sort before `submitted` (skewed clocks) still count, after it.
  if (task !== undefined) {
    for (const { entry, id } of pre) if (!apply(task, entry)) task.conflicts.push(id)
  }
  return task
}

function apply (task: TaskState, entry: Entry): boolean {
  const at = entry.hlc.wall
  const byAuctioneer = entry.author === task.auctioneer
  switch (entry.type) {
    case 'submitted':
      return false
    case 'awarded': {
      const body = entry.body as Bodies['awarded']
      // Entries stored before epochs existed have none: they were all made at epoch 1.
      const epoch = (body.epoch as number | undefined) ?? 1
      if (!byAuctioneer || epoch !== task.epoch || isTerminal(task.state) || body.attempt !== task.attempts.length + 1) return false
      if (task.attempts.some(a => a.outcome === undefined)) return false // the current attempt is still open
      task.attempts.push({ attempt: body.attempt, node: body.node, epoch, awardedAt: at, leaseMs: body.leaseMs })
      task.state = 'awarded'
      task.blocked = undefined
      return true
    }
    case 'started': {
      const attempt = attemptOf(task, entry)
      if (attempt === undefined || attempt.startedAt !== undefined) return false
      attempt.startedAt = at
      if (!isTerminal(task.state) && attempt.outcome === undefined && isCurrent(task, attempt)) task.state = 'running'
      return true
    }
    case 'finished': {
      const body = entry.body as Bodies['finished']
      const attempt = attemptOf(task, entry)
      if (body.outcome === 'cancelled') {
        // The output of a run stopped by a cancel: kept on its attempt, decides nothing.
        if (attempt?.outcome !== 'cancelled' || attempt.result !== undefined) return false
        attempt.result = body.result
        return true
      }
      if (attempt === undefined || (attempt.outcome !== undefined && attempt.outcome !== 'lost' && attempt.outcome !== 'cancelled')) return false
      attempt.endedAt = at
      attempt.error = body.error
      attempt.resultDigest = body.resultDigest
      attempt.result = body.result
      const late = attempt.outcome === 'lost' || attempt.outcome === 'cancelled' || isTerminal(task.state)
      if (late) {
        attempt.outcome = body.outcome === 'succeeded' ? 'late-succeeded' : 'late-failed'
        // A late success completes a task nobody else finished: exactly one success.
        if (body.outcome === 'succeeded' && !isTerminal(task.state)) { task.state = 'succeeded'; task.decidedBy = attempt.attempt }
        return true
      }
      attempt.outcome = body.outcome
      task.state = body.outcome
      task.decidedBy = attempt.attempt
      return true
    }
    case 'cancelled': {
      if (isTerminal(task.state)) return false
      // The open attempt, if any, ends here (its run is killed); a finish it still sends is late.
      const open = task.attempts.find(a => a.outcome === undefined)
      if (open !== undefined) { open.outcome = 'cancelled'; open.endedAt = at }
      task.state = 'cancelled'
      task.cancelReason = (entry.body as Bodies['cancelled']).reason
      return true
    }
    case 'retried': {
      const body = entry.body as Bodies['retried']
      const attempt = task.attempts[body.attempt - 1]
      // From the current auctioneer (lease expired, award declined) or from the attempt's own
      // node giving it back (a retryable fault: its worker was lost).
      if (attempt === undefined || !(byAuctioneer || entry.author === attempt.node) || attempt.outcome !== undefined || isTerminal(task.state)) return false
      attempt.outcome = 'lost'
      attempt.endedAt = at
      attempt.error = body.reason
      task.state = 'pending'
      return true
    }
    case 'adopted': {
      const body = entry.body as Bodies['adopted']
      if (isTerminal(task.state) || body.epoch !== task.epoch + 1) return false
      task.epoch = body.epoch
      task.auctioneer = entry.author
      return true
    }
    case 'blocked': {
      if (!byAuctioneer || task.state !== 'pending') return false
      task.blocked = { ...(entry.body as Bodies['blocked']), at }
      return true
    }
    case 'abandoned': {
      if (!byAuctioneer || isTerminal(task.state) || task.attempts.some(a => a.outcome === undefined)) return false
      task.state = 'failed'
      task.abandonedReason = (entry.body as Bodies['abandoned']).reason
      return true
    }
    case 'checkpoint': {
      // Only the runner of an attempt, for the next step number: a stale runner's duplicate loses.
      const body = entry.body as Bodies['checkpoint']
      const attempt = attemptOf(task, entry)
      const steps = task.checkpoints ?? []
      if (attempt === undefined || attempt.outcome !== undefined || body.step !== steps.length + 1 || (body.basedOn !== null && body.basedOn > steps.length)) return false
      task.checkpoints = [...steps, { ...body, node: entry.author, at }]
      return true
    }
    case 'feedback': {
      task.feedback = [...(task.feedback ?? []), { ...(entry.body as Bodies['feedback']), node: entry.author, at }]
      return true
    }
  }
}

function attemptOf (task: TaskState, entry: Entry): Attempt | undefined {
  const n = (entry.body as { attempt: number }).attempt
  const attempt = task.attempts[n - 1]
  return attempt !== undefined && attempt.node === entry.author ? attempt : undefined
}

const isCurrent = (task: TaskState, attempt: Attempt): boolean => task.attempts[task.attempts.length - 1] === attempt

/**
 * Whether `node` may (still) run `attempt` of a task, by this state (a fold of the entries a
 * node holds): `current` (the fold keeps this award, open), `unknown` (the state does not know
 * the attempt yet: entries still on their way), `superseded` (attempt n went to another node,
 * was closed, or a later attempt exists), `terminal` (the task is over). Only `current`, or
 * `unknown` where the award itself was verified a moment ago, lets a run start.
 */
export type AwardStatus = 'current' | 'unknown' | 'superseded' | 'terminal'

export function awardStatus (state: TaskState | undefined, attempt: number, node: string): AwardStatus {
  if (state === undefined) return 'unknown'
  if (isTerminal(state.state)) return 'terminal'
  const a = state.attempts[attempt - 1]
  if (a === undefined) return 'unknown'
  return a.node === node && a.outcome === undefined && state.attempts.length === attempt ? 'current' : 'superseded'
}
