/**
 * The data of a `build` job: what a person asks for (BuildSpec), what each attempt produced
 * (Checkpoint) and what the loop decides next (Decision). Plain data, JSON-safe, no I/O: the
 * ledger stores checkpoints (files as blobs), so a job can be inspected, reverted to and
 * resumed by another node from these records alone.
 */
import type { Analysis, TestFailure, TestReport } from '../../protocols/index.js'

export const LANGUAGES = ['python', 'javascript', 'typescript'] as const
export type Language = typeof LANGUAGES[number]

/** Relative `/`-separated path -> UTF-8 content. */
export type FileSet = Record<string, string>

export interface Budget {
  /** Attempts (generate, analyze, test) in all, the first included. */
  readonly maxAttempts: number
  /** Model tokens (prompt and completion) over every step of every attempt. */
  readonly maxTokens: number
  /** Wall time of the whole job. */
  readonly maxWallMs: number
  /** How often one step of one attempt is placed again after an infrastructure failure. Default 2. */
  readonly maxStepRetries?: number
}

export interface TestSuite {
  readonly files: Readonly<FileSet>
  /** argv run in the sandbox with the attempt's files and the test files, e.g. ['python3', '-m', 'pytest', '-rfE']. */
  readonly command: readonly string[]
}

export interface BuildSpec {
  readonly specification: string
  /** Starting files; the first attempt builds on them. */
  readonly files?: Readonly<FileSet>
  readonly tests: TestSuite
  readonly language: Language
  readonly model: string
  readonly budget: Budget
  /** Paths generated files may not write: globs (`*`, `?`, `**`) or prefixes (`config/`). */
  readonly forbiddenPaths?: readonly string[]
}

export type StaticCheckTool = 'py_compile' | 'node --check' | 'tsc'

/** One problem a static check reported. */
export interface Finding {
  tool: StaticCheckTool
  file: string
  line?: number
  message: string
}

export type ReviewIssue = Analysis['issues'][number]

export type AlignmentRule = 'no-files' | 'too-many-files' | 'unsafe-path' | 'test-file' | 'forbidden-path' | 'file-too-large'

/** A way generated files break the job's rules; any one disqualifies an attempt from being done. */
export interface AlignmentViolation {
  rule: AlignmentRule
  /** The file concerned; absent for rules about the whole set. */
  path?: string
  message: string
}

export type PipelineStep = 'generate' | 'analyze' | 'test'

/** A step that failed: recorded in its attempt, reported to decideNext as `lastStep`. */
export interface StepFailure {
  step: PipelineStep
  /** The node it ran on (peer id). */
  node: string
  /** The error's stable name and its message. */
  error: { name: string, message: string }
}

/** The latest step failed; `retries`: how often this step of this attempt was placed again already. */
export interface LastStepFailure extends StepFailure {
  failed: true
  retries: number
  /** Nodes this step of this attempt was already kept off. */
  excluded?: string[]
  /** The coordinator's own verdict; without it the error's name decides (INFRASTRUCTURE_ERRORS). */
  infrastructure?: boolean
}

/** One attempt, as recorded. */
export interface Checkpoint {
  /** 1, 2, ...: unique within the job. */
  attempt: number
  /** The attempt's whole solution (its base's files with the generated ones written over them); never the test files. */
  files: FileSet
  /** null when the tests could not run (the attempt broke before, or the sandbox failed). */
  tests: TestReport | null
  staticFindings: Finding[]
  /** The model review's issues; null when there was none. */
  review: ReviewIssue[] | null
  alignment: AlignmentViolation[]
  /** Model tokens this attempt used. */
  tokens: number
  wallMs: number
  /** The checkpoint this attempt started from; null for one started from the specification's files. */
  basedOn: number | null
  stepFailures?: StepFailure[]
}

export interface Usage {
  /** Attempts started so far. */
  attempts: number
  tokens: number
  elapsedMs: number
}

/** What the generator is told besides its base checkpoint's own results. */
export interface Feedback {
  /** Why this attempt exists: the decision's reason. */
  reason: string
  /** Attempts dropped by a revert, each in a sentence, so the generator does not repeat them. */
  dropped: string[]
}

export type DecisionAction = 'done' | 'repair' | 'revert' | 'retry-step' | 'give-up'
export type BudgetName = 'attempts' | 'tokens' | 'wallMs' | 'stepRetries'

export interface Decision {
  action: DecisionAction
  /** A sentence with the numbers that led to it. */
  reason: string
  /** done and give-up: the checkpoint to deliver; repair and revert: the one the next attempt starts from; retry-step: null (the attempt in progress keeps its base). */
  from: number | null
  /** repair and revert. */
  feedback?: Feedback
  /** retry-step: nodes the step must not be placed on again (the earlier ones and the one that failed). */
  exclude?: string[]
  /** give-up: the budgets that are spent. */
  spent?: BudgetName[]
}

export type { TestFailure, TestReport }
