/**
 * The steps of one build attempt, each a task of its own placed by the auction: `generate`
 * (the files, held to FILES_SCHEMA by grammar) on a node with the model, static checks and the
 * test suite as `exec` tasks on any sandbox node, a model review as `analyze`. A step whose
 * task failed for a reason outside the attempt's code (no node, a lost worker, the sandbox)
 * is a StepOutcome with `failure`; the loop decides whether to place it again.
 */
import type { TaskViewT, ChatMessage } from '../../protocols/index.js'
import { COLLECT_BOUNDS, parseTestOutput, SANDBOX_TYPESCRIPT, type TestReport } from '../../sandbox/index.js'
import { type KindContext, runToEnd } from '../../tasks/index.js'
import {
  commandRuntimes, FILES_SCHEMA, GeneratedFilesError, parseGeneratedFiles, parseStaticFindings, staticCheckCommands,
  type BuildSpec, type FileSet, type Finding, type PipelineStep, type ReviewIssue, type StepFailure,
} from '../core/index.js'

export interface StepOutcome<T> { value?: T, failure?: StepFailure, tokens: number }

/** How the generator writes: its sampling temperature, and the longest path and file it may write (the grammar holds it to them). */
export interface GenerationOptions { temperature: number, maxFileChars: number, maxPathChars: number }
export const DEFAULT_GENERATION: GenerationOptions = { temperature: 0.2, maxFileChars: 65_536, maxPathChars: 256 }

/** FILES_SCHEMA with the path and content bounds of `options`. Pure. */
export function filesSchema (options: GenerationOptions): Record<string, unknown> {
  const item = FILES_SCHEMA.properties.files.items
  return {
    ...FILES_SCHEMA,
    properties: {
      files: {
        ...FILES_SCHEMA.properties.files,
        items: { ...item, properties: { path: { ...item.properties.path, maxLength: options.maxPathChars }, content: { ...item.properties.content, maxLength: options.maxFileChars } } },
      },
    },
  }
}

/** Most of a step's output the sandbox returns (tests print a lot when they fail). */
const OUTPUT_BYTES = 1024 * 1024
const REVIEW_CODE_CHARS = 24_000

async function runStep (context: KindContext, step: PipelineStep, body: Record<string, unknown>, avoid: readonly string[] = []): Promise<{ view: TaskViewT, failure?: StepFailure }> {
  if (context.subtasks === undefined) throw new Error('this node cannot run steps as tasks')
  // A step placed again after a node failed it goes elsewhere where another node can run it.
  const away = [...new Set(avoid.filter(n => n !== ''))].slice(-16)
  let running
  try {
    running = await runToEnd(context.subtasks, away.length === 0 ? body : { ...body, avoid: away }, { signal: context.signal })
  } catch (err) {
    // Refused at submission (a body the attempt's files made invalid): the attempt's fault, not the mesh's.
    if (context.signal.aborted || (err as Error).name !== 'InvalidTaskError') throw err
    return { view: { id: '', kind: String(body.kind), state: 'failed', priority: 5, submittedAt: '', updatedAt: '', auctioneer: '', requirements: {}, attempts: [] }, failure: { step, node: '', error: { name: 'InvalidTaskError', message: (err as Error).message } } }
  }
  const view = await running.done
  context.signal.throwIfAborted()
  const node = view.attempts.at(-1)?.node ?? ''
  if (view.state === 'succeeded') return { view }
  if (view.blocked?.verdict === 'impossible') {
    running.cancel()
    return { view, failure: { step, node, error: { name: 'NoNodeError', message: view.blocked.reasons.map(r => `${r.reason} (${r.nodes} nodes)`).join('; ') } } }
  }
  // An exec step that ran and exited non-zero is the attempt's outcome, not a failure of the step.
  if (body.kind === 'exec' && view.result !== undefined && 'exitCode' in view.result) return { view }
  const named = (view.result?.error ?? {}) as { name?: string, message?: string }
  const [prefix, ...rest] = (view.error ?? '').split(': ')
  const name = named.name ?? (/^[A-Z][A-Za-z]+Error$/.test(prefix) ? prefix : view.state === 'cancelled' ? 'TaskCancelledError' : 'TaskFailedError')
  return { view, failure: { step, node, error: { name, message: named.message ?? (rest.length > 0 ? rest.join(': ') : view.error ?? view.state) } } }
}

const tokensOf = (view: TaskViewT): number => {
  const usage = view.result?.usage as { promptTokens?: number, completionTokens?: number } | undefined
  return (usage?.promptTokens ?? 0) + (usage?.completionTokens ?? 0)
}

/** Generate: the files the model writes, or why there are none. */
export async function generateStep (context: KindContext, spec: BuildSpec, messages: ChatMessage[], options: { maxTokens: number, seed: number, generation: GenerationOptions, avoid?: readonly string[] }): Promise<StepOutcome<{ files: FileSet } | { error: string }>> {
  const { view, failure } = await runStep(context, 'generate', {
    kind: 'generate', model: spec.model, messages, jsonSchema: filesSchema(options.generation), maxTokens: options.maxTokens, temperature: options.generation.temperature, seed: options.seed,
  }, options.avoid)
  if (failure !== undefined) return { failure, tokens: tokensOf(view) }
  const result = view.result as { text: string, finishReason: 'stop' | 'length' }
  try {
    return { value: { files: parseGeneratedFiles(result.text, result.finishReason) }, tokens: tokensOf(view) }
  } catch (err) {
    if (!(err instanceof GeneratedFilesError)) throw err
    return { value: { error: err.message }, tokens: tokensOf(view) }
  }
}

/** Static checks in the sandbox: every finding of every check. */
export async function staticStep (context: KindContext, spec: BuildSpec, files: FileSet, timeoutMs: number, avoid: readonly string[] = []): Promise<StepOutcome<Finding[]>> {
  // TypeScript is checked by the node's own compiler, which every sandbox node has at SANDBOX_TYPESCRIPT (runtime `tsc`).
  const plan = staticCheckCommands(spec.language, files, { tsc: ['node', `${SANDBOX_TYPESCRIPT}/bin/tsc`] })
  const findings: Finding[] = []
  for (const check of plan.checks) {
    const { view, failure } = await runStep(context, 'analyze', { kind: 'exec', command: check.command, files, limits: { timeoutMs, outputBytes: OUTPUT_BYTES }, requirements: { cpus: 1, memoryMb: check.tool === 'tsc' ? 512 : 256, runtimes: check.runtimes } }, avoid)
    if (failure !== undefined) return { failure, tokens: 0 }
    const result = view.result as { stdout?: string, stderr?: string }
    findings.push(...parseStaticFindings(spec.language, result.stdout ?? '', result.stderr ?? ''))
  }
  return { value: findings, tokens: 0 }
}

/** The model's review of the code; a review that fails is no review (it only advises). */
export async function reviewStep (context: KindContext, spec: BuildSpec, files: FileSet, seed: number): Promise<StepOutcome<ReviewIssue[] | null>> {
  const code = Object.entries(files).map(([path, text]) => `# file: ${path}\n${text}`).join('\n\n').slice(0, REVIEW_CODE_CHARS)
  if (code.trim() === '') return { value: null, tokens: 0 }
  const { view, failure } = await runStep(context, 'analyze', { kind: 'analyze', model: spec.model, code, language: spec.language, question: `Does this code meet the specification?\n${spec.specification.slice(0, 2000)}`, maxTokens: 768, seed })
  if (failure !== undefined) return { value: null, tokens: tokensOf(view) }
  return { value: (view.result as { issues: ReviewIssue[] }).issues, tokens: tokensOf(view) }
}

/** The test runner whose output the command prints, from the command. */
function runnerOf (command: readonly string[]): 'pytest' | 'node' {
  return command.some(a => /pytest/.test(a)) ? 'pytest' : 'node'
}

/** Where pytest writes its JUnit XML report, relative to the sandbox's /work (collected with the result). */
const JUNIT_REPORT_PATH = '.gryphgen/junit.xml'

/**
 * What a pytest run is given to write its JUnit XML report: PYTEST_ADDOPTS reaches pytest
 * however the command starts it (`pytest`, `python3 -m pytest`, a script), and an absolute
 * path holds where the command changes directory. None where the command turns the plugin off,
 * or the attempt's own files hold the path (a report pytest did not write would be believed).
 */
function junitRequest (command: readonly string[], files: Readonly<Record<string, string>>): { env: Record<string, string>, collect: string[] } | null {
  if (runnerOf(command) !== 'pytest' || command.some(a => a.includes('no:junitxml')) || JUNIT_REPORT_PATH in files) return null
  return { env: { PYTEST_ADDOPTS: `--junitxml=/work/${JUNIT_REPORT_PATH}` }, collect: [JUNIT_REPORT_PATH] }
}

/** A collected file's text: inline, or from the blob store where the result moved it; undefined when it did not come back whole. */
async function collectedText (context: KindContext, files: unknown, path: string): Promise<string | undefined> {
  const file = (Array.isArray(files) ? files as unknown[] : []).find(f => (f as { path?: unknown } | null)?.path === path) as
    { content?: unknown, contentTruncated?: unknown, blob?: { digest?: unknown, size?: unknown } } | undefined
  if (file === undefined) return undefined
  if (typeof file.content === 'string' && file.contentTruncated !== true) return file.content
  const { digest, size } = file.blob ?? {}
  if (context.blobs === undefined || typeof digest !== 'string' || typeof size !== 'number' || size > COLLECT_BOUNDS.contentBytes) return undefined
  try {
    return Buffer.from(await context.blobs.get(digest, { signal: context.signal })).toString('utf8')
  } catch (err) {
    if (context.signal.aborted) throw err
    return undefined // the node that ran it is gone: the printed output stands in
  }
}

/** The test suite in the sandbox with the attempt's files; null when it did not run. */
export async function testStep (context: KindContext, spec: BuildSpec, files: FileSet, timeoutMs: number, avoid: readonly string[] = []): Promise<StepOutcome<TestReport | null>> {
  const inputs = { ...files, ...spec.tests.files }
  const junit = junitRequest(spec.tests.command, inputs)
  const { view, failure } = await runStep(context, 'test', {
    kind: 'exec', command: [...spec.tests.command], files: inputs, ...junit, limits: { timeoutMs, outputBytes: OUTPUT_BYTES }, requirements: { cpus: 1, memoryMb: 512, runtimes: commandRuntimes(spec.tests.command) },
  }, avoid)
  if (failure !== undefined) return { failure, tokens: 0 }
  const result = view.result as { stdout?: string, stderr?: string, files?: unknown }
  const junitXml = junit === null ? undefined : await collectedText(context, result.files, JUNIT_REPORT_PATH)
  const report = parseTestOutput(runnerOf(spec.tests.command), `${result.stdout ?? ''}\n${result.stderr ?? ''}`, { ...(junitXml === undefined ? {} : { junitXml }), paths: Object.keys(inputs) })
  const ran = report.passed + report.failed + report.errored > 0
  return { value: ran ? report : null, tokens: 0 }
}
