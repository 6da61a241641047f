/**
 * The workflow optimizer: from the job's spec, its checkpoints, what it used so far and the
 * step that just failed (if one did), what to do next and why, in a sentence with numbers.
 * The rules, first match wins:
 *   1. done: a checkpoint is green (all its tests ran and passed, no alignment violation);
 *   2. give-up: the token or wall-time budget is spent;
 *   3. retry-step: the last step failed for want of a node (INFRASTRUCTURE_ERRORS, or the
 *      coordinator said so) and was retried fewer than maxStepRetries times; past that, give-up;
 *   4. give-up: the attempt budget is spent (no further attempt may start);
 *   5. revert: the latest attempt scores worse than the best checkpoint: the next starts there;
 *   6. repair: the next attempt starts from the latest (the best, or as good as it).
 * A step that failed for another reason (the model's answer unusable) is the attempt's result,
 * recorded in its checkpoint: rules 4 to 6 apply. give-up and done name the checkpoint to
 * deliver. Pure: the same inputs give the same decision.
 */
import { bestCheckpoint, compareScores, decidingKey, describeScore, isGreen, latestCheckpoint, score, type Score } from './score.js'
import { DEFAULT_STEP_RETRIES } from './spec.js'
import type { BudgetName, BuildSpec, Checkpoint, Decision, LastStepFailure, Usage } from './types.js'

/** Error names that mean the node or worker went away, not that the work was wrong. */
export const INFRASTRUCTURE_ERRORS: ReadonlySet<string> = new Set([
  'NodeLostError', 'WorkerLostError', 'WorkerStartError', 'PoolStoppedError', 'NoWorkersError',
  'TasksStoppedError', 'NoBidError', 'SandboxUnavailableError', 'SandboxSetupError', 'SandboxBusyError',
])

const MAX_DROPPED = 5

export function decideNext (spec: BuildSpec, history: readonly Checkpoint[], usage: Usage, lastStep?: LastStepFailure): Decision {
  const green = bestCheckpoint(history.filter(isGreen))
  if (green !== null) {
    return { action: 'done', from: green.attempt, reason: `attempt ${green.attempt} passed all ${green.tests?.passed ?? 0} tests and keeps to the rules: done` }
  }
  const best = bestCheckpoint(history)
  const spent = spentBudgets(spec, usage)
  if (spent.includes('tokens') || spent.includes('wallMs')) return giveUp(spec, usage, spent, best)
  if (lastStep !== undefined && isInfrastructure(lastStep)) return retryOrGiveUp(spec, lastStep, best)
  if (spent.includes('attempts')) return giveUp(spec, usage, spent, best)
  const latest = latestCheckpoint(history)
  const failedStep = lastStep === undefined ? '' : `${stepSentence(lastStep)}, a fault of the attempt, not of a node; `
  if (latest === null || best === null) {
    const reason = `${failedStep}no attempt yet: the first starts from the specification's files`
    return { action: 'repair', from: null, reason, feedback: { reason, dropped: [] } }
  }
  const latestScore = score(latest)
  const bestScore = score(best)
  const dropped = history
    .filter(c => c.attempt > best.attempt && compareScores(score(c), bestScore) < 0)
    .sort((a, b) => a.attempt - b.attempt)
    .slice(-MAX_DROPPED)
    .map(c => `attempt ${c.attempt} ${describeScore(score(c))}`)
  if (compareScores(latestScore, bestScore) < 0) {
    const reason = `${failedStep}${worseSentence(latest, latestScore, best, bestScore)}: reverting to it`
    return { action: 'revert', from: best.attempt, reason, feedback: { reason, dropped } }
  }
  const reason = `${failedStep}attempt ${latest.attempt} ${describeScore(latestScore)}: repairing it${feedbackCount(latest)}`
  return { action: 'repair', from: latest.attempt, reason, feedback: { reason, dropped } }
}

export function isInfrastructure (failure: LastStepFailure): boolean {
  return failure.infrastructure ?? INFRASTRUCTURE_ERRORS.has(failure.error.name)
}

function spentBudgets (spec: BuildSpec, usage: Usage): BudgetName[] {
  const spent: BudgetName[] = []
  if (usage.attempts >= spec.budget.maxAttempts) spent.push('attempts')
  if (usage.tokens >= spec.budget.maxTokens) spent.push('tokens')
  if (usage.elapsedMs >= spec.budget.maxWallMs) spent.push('wallMs')
  return spent
}

function retryOrGiveUp (spec: BuildSpec, failure: LastStepFailure, best: Checkpoint | null): Decision {
  const max = spec.budget.maxStepRetries ?? DEFAULT_STEP_RETRIES
  if (failure.retries >= max) {
    return { ...deliver(best, `${stepSentence(failure)}, and was retried ${failure.retries} times, the most allowed`), action: 'give-up', spent: ['stepRetries'] }
  }
  const exclude = [...new Set([...(failure.excluded ?? []), failure.node])]
  return {
    action: 'retry-step',
    from: null,
    exclude,
    reason: `${stepSentence(failure)}: placing it again, excluding ${exclude.join(', ')} (retry ${failure.retries + 1} of ${max})`,
  }
}

function giveUp (spec: BuildSpec, usage: Usage, spent: BudgetName[], best: Checkpoint | null): Decision {
  const { budget } = spec
  const figures: Record<BudgetName, string> = {
    attempts: `the attempt budget is spent (${usage.attempts} of ${budget.maxAttempts} attempts)`,
    tokens: `the token budget is spent (${usage.tokens} of ${budget.maxTokens} tokens)`,
    wallMs: `the wall-time budget is spent (${usage.elapsedMs} of ${budget.maxWallMs} ms)`,
    stepRetries: '',
  }
  return { ...deliver(best, spent.map(name => figures[name]).join(' and ')), action: 'give-up', spent }
}

function deliver (best: Checkpoint | null, why: string): Pick<Decision, 'from' | 'reason'> {
  if (best === null) return { from: null, reason: `${why}: giving up with no checkpoint` }
  return { from: best.attempt, reason: `${why}: giving up; the best is checkpoint ${best.attempt}, which ${describeScore(score(best))}` }
}

function stepSentence (failure: LastStepFailure): string {
  return `the ${failure.step} step failed on node ${failure.node} (${failure.error.name}: ${failure.error.message.slice(0, 200)})`
}

function worseSentence (latest: Checkpoint, l: Score, best: Checkpoint, b: Score): string {
  const a = `attempt ${latest.attempt}`
  const c = `checkpoint ${best.attempt}`
  switch (decidingKey(l, b)) {
    case 'aligned': return `${a} broke an alignment rule (${latest.alignment[0]?.message ?? ''}), ${c} did not`
    case 'testsRan': return `${a} could not run its tests, ${c} did (${b.passed}/${b.total} passed)`
    case 'passed': return `${a} passed ${l.passed}/${l.total} tests, fewer than ${c} (${b.passed}/${b.total})`
    case 'staticFindings': return `${a} has ${l.staticFindings} static findings, more than ${c} (${b.staticFindings}) with as many tests passed (${b.passed})`
    case 'reviewErrors': return `${a} has ${l.reviewErrors} review errors, more than ${c} (${b.reviewErrors}) with as many tests passed (${b.passed})`
    case null: return `${a} is no better than ${c}`
  }
}

function feedbackCount (checkpoint: Checkpoint): string {
  const failures = checkpoint.tests?.failures.length ?? 0
  const findings = checkpoint.staticFindings.length + (checkpoint.review?.length ?? 0) + checkpoint.alignment.length
  if (failures + findings === 0) return ''
  return ` with ${failures} test failure${failures === 1 ? '' : 's'} and ${findings} finding${findings === 1 ? '' : 's'} as feedback`
}
