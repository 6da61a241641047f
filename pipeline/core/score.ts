/**
 * How attempts compare. A score is compared key by key, the first difference decides:
 *   1. aligned: an attempt that breaks no alignment rule beats any that breaks one;
 *   2. testsRan: tests that ran beat tests that could not run;
 *   3. passed: more tests passed is better (a count, not a ratio: the suite is fixed, and a
 *      ratio would reward an attempt that breaks the collection of the tests it fails);
 *   4. staticFindings: fewer is better;
 *   5. reviewErrors: fewer review issues of severity `error` is better.
 * Equal on every key is a tie; the best checkpoint is the earliest of the best scores (a later
 * attempt must be strictly better to take its place). Pure.
 */
import type { Checkpoint } from './types.js'

export interface Score {
  aligned: boolean
  testsRan: boolean
  passed: number
  /** passed + failed + errored (skipped tests are not counted). */
  total: number
  staticFindings: number
  reviewErrors: number
}

export type ScoreKey = 'aligned' | 'testsRan' | 'passed' | 'staticFindings' | 'reviewErrors'

/** The keys in the order they decide, with +1 where more is better and -1 where less is. */
export const SCORE_ORDER: ReadonlyArray<readonly [ScoreKey, 1 | -1]> = [
  ['aligned', 1], ['testsRan', 1], ['passed', 1], ['staticFindings', -1], ['reviewErrors', -1],
]

export function score (checkpoint: Checkpoint): Score {
  const tests = checkpoint.tests
  return {
    aligned: checkpoint.alignment.length === 0,
    testsRan: tests !== null,
    passed: tests?.passed ?? 0,
    total: tests === null ? 0 : tests.passed + tests.failed + tests.errored,
    staticFindings: checkpoint.staticFindings.length,
    reviewErrors: (checkpoint.review ?? []).filter(issue => issue.severity === 'error').length,
  }
}

/** The first key on which a and b differ, or null when they tie. */
export function decidingKey (a: Score, b: Score): ScoreKey | null {
  return SCORE_ORDER.find(([key]) => Number(a[key]) !== Number(b[key]))?.[0] ?? null
}

/** > 0 when a is better than b, < 0 when worse, 0 on a tie. */
export function compareScores (a: Score, b: Score): number {
  const key = decidingKey(a, b)
  if (key === null) return 0
  const direction = SCORE_ORDER.find(([k]) => k === key)?.[1] ?? 1
  return Math.sign(Number(a[key]) - Number(b[key])) * direction
}

/** All tests ran and passed (at least one), and no alignment rule is broken. */
export function isGreen (checkpoint: Checkpoint): boolean {
  const tests = checkpoint.tests
  return checkpoint.alignment.length === 0 && tests !== null && tests.passed > 0 && tests.failed === 0 && tests.errored === 0
}

/** The best checkpoint of the history (the earliest among equals); null for an empty history. */
export function bestCheckpoint (history: readonly Checkpoint[]): Checkpoint | null {
  let best: Checkpoint | null = null
  for (const checkpoint of [...history].sort((a, b) => a.attempt - b.attempt)) {
    if (best === null || compareScores(score(checkpoint), score(best)) > 0) best = checkpoint
  }
  return best
}

/** The checkpoint with the highest attempt number; null for an empty history. */
export function latestCheckpoint (history: readonly Checkpoint[]): Checkpoint | null {
  return history.reduce<Checkpoint | null>((latest, c) => latest === null || c.attempt > latest.attempt ? c : latest, null)
}

/** "passed 4/5 tests", "could not run its tests", with alignment and findings when there are any. */
export function describeScore (s: Score): string {
  const parts = [s.testsRan ? `passed ${s.passed}/${s.total} tests` : 'could not run its tests']
  if (!s.aligned) parts.push('broke an alignment rule')
  if (s.staticFindings > 0) parts.push(`${s.staticFindings} static finding${s.staticFindings === 1 ? '' : 's'}`)
  if (s.reviewErrors > 0) parts.push(`${s.reviewErrors} review error${s.reviewErrors === 1 ? '' : 's'}`)
  return parts.join(', ')
}
