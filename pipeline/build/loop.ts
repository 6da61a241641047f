/**
 * The build loop, run by the node that won the `build` task (its coordinator): decide, run an
 * attempt's steps as tasks (generate -> static checks and review -> tests), record the attempt
 * as a `checkpoint` entry (files as blobs; tests, findings, review, alignment, tokens and the
 * decision taken after it), and again, until the tests pass or a budget is spent. Every
 * decision is pure (pipeline/core decideNext). A coordinator that dies loses its lease; the
 * task is re-auctioned and the next coordinator reads the checkpoints (and the files from
 * the blob store, from any node) and continues after the last one.
 */
import type { Checkpoint as LedgerCheckpoint } from '../../ledger/index.js'
import type { KindContext, KindOutcome, BlobRef, BlobSink } from '../../tasks/index.js'
import { sha256Hex } from '../../blobs/index.js'
import {
  applyGeneratedFiles, bestCheckpoint, checkAlignment, decideNext, generatorMessages,
  type BuildSpec, type Checkpoint, type Decision, type Feedback, type LastStepFailure, type StepFailure,
} from '../core/index.js'
import { generateStep, reviewStep, staticStep, testStep, type GenerationOptions, type StepOutcome } from './steps.js'

/** Longest a single generate asks for, and a sandbox step may run. */
const MAX_GENERATE_TOKENS = 4096
const MAX_STEP_MS = 300_000

/** What retrieval gave the generator: how many chunks of which corpus, or why none. */
export interface Retrieval { corpus: string, chunks: number, error?: string }
export interface BuildRun { spec: BuildSpec, retrieved: Array<{ source: string, text: string }>, retrieval?: Retrieval, generation: GenerationOptions }

function need (blobs: BlobSink | undefined): BlobSink {
  if (blobs === undefined) throw new Error('this node has no blob store')
  return blobs
}

/**
 * Checkpoints whose files take at most this carry them inline: the entry reaches every node,
 * while a blob stays on the node that put it (and is lost with it until fetched elsewhere).
 */
const INLINE_CHECKPOINT_BYTES = 96 * 1024

/** A recorded checkpoint back as the loop's Checkpoint: its files inline (checked against their digests) or from the blob store. */
async function restore (c: LedgerCheckpoint, blobs: BlobSink, signal: AbortSignal): Promise<Checkpoint> {
  const files: Record<string, string> = {}
  for (const [path, ref] of Object.entries(c.files)) {
    const inline = c.inline?.[path]
    files[path] = inline !== undefined && sha256Hex(Buffer.from(inline, 'utf8')) === ref.digest ? inline : Buffer.from(await blobs.get(ref.digest, { signal })).toString('utf8')
  }
  const s = c.summary as Omit<Checkpoint, 'attempt' | 'files' | 'basedOn'>
  return { attempt: c.step, basedOn: c.basedOn, files, tests: s.tests ?? null, staticFindings: s.staticFindings ?? [], review: s.review ?? null, alignment: s.alignment ?? [], tokens: s.tokens ?? 0, wallMs: s.wallMs ?? 0, ...(s.stepFailures === undefined ? {} : { stepFailures: s.stepFailures }) }
}

async function store (files: Record<string, string>, blobs: BlobSink, signal: AbortSignal): Promise<Record<string, BlobRef>> {
  const refs: Record<string, BlobRef> = {}
  for (const [path, text] of Object.entries(files)) refs[path] = await blobs.put(Buffer.from(text, 'utf8'), { signal })
  return refs
}

/** Runs one step, placing it again (away from the nodes that failed it) after infrastructure failures as long as the loop says so. */
async function withRetries<T> (run: (avoid: string[]) => Promise<StepOutcome<T>>, judge: (failure: LastStepFailure) => Decision): Promise<{ value?: T, tokens: number, failures: StepFailure[], stop?: Decision }> {
  const failures: StepFailure[] = []
  let tokens = 0
  for (let retries = 0; ; retries++) {
    const outcome = await run(failures.map(f => f.node))
    tokens += outcome.tokens
    if (outcome.failure === undefined) return { value: outcome.value, tokens, failures }
    failures.push(outcome.failure)
    const decision = judge({ ...outcome.failure, failed: true, retries, excluded: failures.map(f => f.node) })
    if (decision.action !== 'retry-step') return { tokens, failures, ...(decision.action === 'give-up' ? { stop: decision } : {}) }
  }
}

export async function runBuild (run: BuildRun, context: KindContext): Promise<KindOutcome> {
  const { spec } = run
  const blobs = need(context.blobs)
  const { signal } = context
  const history: Checkpoint[] = []
  for (const c of await context.task.checkpoints()) history.push(await restore(c, blobs, signal))
  const usage = (): { attempts: number, tokens: number, elapsedMs: number } => ({ attempts: history.length, tokens: history.reduce((n, c) => n + c.tokens, 0), elapsedMs: Date.now() - context.task.submittedAt })
  let decision = decideNext(spec, history, usage())

  while (decision.action === 'repair' || decision.action === 'revert') {
    const base = decision.from === null ? null : history.find(c => c.attempt === decision.from) ?? null
    const attempt = history.length + 1
    const started = Date.now()
    const outcome = await runAttempt(run, context, { attempt, base, feedback: decision.feedback ?? null }, history, usage)
    const checkpoint: Checkpoint = { ...outcome.checkpoint, wallMs: Date.now() - started }
    history.push(checkpoint)
    decision = outcome.stop ?? decideNext(spec, history, usage())
    const size = Object.values(checkpoint.files).reduce((n, text) => n + Buffer.byteLength(text), 0)
    await context.task.checkpoint({
      step: attempt,
      basedOn: base?.attempt ?? null,
      files: await store(checkpoint.files, blobs, signal),
      ...(size <= INLINE_CHECKPOINT_BYTES ? { inline: checkpoint.files } : {}),
      summary: { tests: checkpoint.tests, staticFindings: checkpoint.staticFindings.slice(0, 50), review: checkpoint.review?.slice(0, 20) ?? null, alignment: checkpoint.alignment, tokens: checkpoint.tokens, wallMs: checkpoint.wallMs, ...(checkpoint.stepFailures === undefined ? {} : { stepFailures: checkpoint.stepFailures }), decision: { action: decision.action, reason: decision.reason } },
    })
    const t = checkpoint.tests
    context.onProgress({ stage: `attempt ${attempt}: ${decision.action}`, ...(t === null ? {} : { done: t.passed, total: t.passed + t.failed + t.errored }) })
  }
  return finish(decision, history, blobs, signal, run.retrieval)
}

interface AttemptPlan { attempt: number, base: Checkpoint | null, feedback: Feedback | null }

async function runAttempt (run: BuildRun, context: KindContext, plan: AttemptPlan, history: readonly Checkpoint[], usage: () => { attempts: number, tokens: number, elapsedMs: number }): Promise<{ checkpoint: Omit<Checkpoint, 'wallMs'>, stop?: Decision }> {
  const { spec } = run
  const baseFiles = plan.base?.files ?? { ...spec.files }
  const failures: StepFailure[] = []
  let tokens = 0
  // A failed step is judged with the attempt in progress counted against the budgets.
  const judge = (failure: LastStepFailure): Decision => decideNext(spec, history, { ...usage(), attempts: history.length + 1, tokens: usage().tokens + tokens }, failure)
  const partial = (files: Record<string, string>, extra: Partial<Checkpoint> = {}): Omit<Checkpoint, 'wallMs'> =>
    ({ attempt: plan.attempt, basedOn: plan.base?.attempt ?? null, files, tests: null, staticFindings: [], review: null, alignment: [], tokens, ...(failures.length === 0 ? {} : { stepFailures: failures }), ...extra })
  const remainingMs = (): number => Math.max(1000, Math.min(MAX_STEP_MS, spec.budget.maxWallMs - usage().elapsedMs))

  context.onProgress({ stage: `attempt ${plan.attempt}: generate` })
  const messages = generatorMessages(spec, run.retrieved, plan.base, plan.feedback)
  const maxTokens = Math.max(64, Math.min(MAX_GENERATE_TOKENS, spec.budget.maxTokens - usage().tokens))
  const generated = await withRetries(async avoid => generateStep(context, spec, messages, { maxTokens, seed: plan.attempt, generation: run.generation, avoid }), judge)
  tokens += generated.tokens
  failures.push(...generated.failures)
  if (generated.value === undefined || 'error' in generated.value) {
    // Output that is not the files (cut off, malformed) counts like a failed step of this attempt.
    if (generated.value !== undefined) failures.push({ step: 'generate', node: '', error: { name: 'GeneratedFilesError', message: generated.value.error } })
    return { checkpoint: partial(baseFiles), ...(generated.stop === undefined ? {} : { stop: generated.stop }) }
  }
  const alignment = checkAlignment(spec, generated.value.files)
  // Files that break a rule (a test file, a path outside the work dir...) are recorded, never run.
  const refused = new Set(alignment.flatMap(v => v.path === undefined ? [] : [v.path]))
  const files = applyGeneratedFiles(baseFiles, Object.fromEntries(Object.entries(generated.value.files).filter(([path]) => !refused.has(path))))

  context.onProgress({ stage: `attempt ${plan.attempt}: analyze` })
  const checks = await withRetries(async avoid => staticStep(context, spec, files, remainingMs(), avoid), judge)
  failures.push(...checks.failures)
  if (checks.stop !== undefined) return { checkpoint: partial(files, { alignment }), stop: checks.stop }
  const review = await reviewStep(context, spec, files, plan.attempt)
  tokens += review.tokens

  context.onProgress({ stage: `attempt ${plan.attempt}: test` })
  const tested = await withRetries(async avoid => testStep(context, spec, files, remainingMs(), avoid), judge)
  failures.push(...tested.failures)
  const checkpoint = partial(files, { alignment, staticFindings: checks.value ?? [], review: review.value ?? null, tests: tested.value ?? null })
  return { checkpoint, ...(tested.stop === undefined ? {} : { stop: tested.stop }) }
}

async function finish (decision: Decision, history: readonly Checkpoint[], blobs: BlobSink, signal: AbortSignal, retrieval: Retrieval | undefined): Promise<KindOutcome> {
  const best = (decision.from === null ? undefined : history.find(c => c.attempt === decision.from)) ?? bestCheckpoint(history) ?? undefined
  const result = {
    decision: decision.action,
    reason: decision.reason,
    attempts: history.length,
    ...(decision.spent === undefined ? {} : { spent: decision.spent }),
    ...(retrieval === undefined ? {} : { retrieval }),
    ...(best === undefined ? {} : { best: best.attempt, tests: best.tests, files: await store(best.files, blobs, signal) }),
  }
  return decision.action === 'done'
    ? { outcome: 'succeeded', result }
    : { outcome: 'failed', result, error: `gave up: ${decision.reason}` }
}
