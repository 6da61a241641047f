/**
 * Whether a task has spent its attempts (pure). An attempt counts against `maxAttempts` once it
 * started running: only a run can be the task's own doing (one that kills its node, say). An
 * award that was declined, never reached its node, or was lost before the run started (its node
 * died or restarted meanwhile) says nothing about the task, so a mesh in churn does not fail a
 * user's task that never ran. Those are bounded apart: at most `UNSTARTED_FACTOR` x
 * `maxAttempts` attempts in all, so a task that no node will hold is not auctioned forever.
 */
import type { Attempt } from '../ledger/index.js'

export const UNSTARTED_FACTOR = 4

export function attemptsSpent (attempts: readonly Pick<Attempt, 'startedAt'>[], maxAttempts: number): boolean {
  const started = attempts.filter(a => a.startedAt !== undefined).length
  return started >= maxAttempts || attempts.length >= maxAttempts * UNSTARTED_FACTOR
}

/** Why a task was given up: every attempt's node (short) and what ended it. */
export function gaveUpReason (attempts: readonly Pick<Attempt, 'node' | 'error' | 'outcome' | 'startedAt'>[]): string {
  const started = attempts.filter(a => a.startedAt !== undefined).length
  const counted = started === attempts.length ? '' : ` (${started} started)`
  return `gave up after ${attempts.length} attempts${counted}: ${attempts.map(a => `${a.node.slice(-8)} ${a.error ?? a.outcome ?? ''}`).join('; ')}`.slice(0, 2048)
}
