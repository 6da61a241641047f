/**
 * The build pipeline's pure core: the job's data, the build request's validation, the task
 * monitor's alignment rules, the attempts' score, the workflow optimizer's decisions, the
 * generator's prompt and answer, and the static checks' commands and findings. No I/O: the
 * steps, the sandbox runs and the ledger records live outside this folder.
 */
export type {
  Language, FileSet, Budget, TestSuite, BuildSpec, StaticCheckTool, Finding, ReviewIssue,
  AlignmentRule, AlignmentViolation, PipelineStep, StepFailure, LastStepFailure, Checkpoint,
  Usage, Feedback, DecisionAction, BudgetName, Decision, TestFailure, TestReport,
} from './types.js'
export { LANGUAGES } from './types.js'
export { InvalidBuildSpecError, GeneratedFilesError } from './errors.js'
export { validateBuildSpec, SPEC_LIMITS, DEFAULT_STEP_RETRIES } from './spec.js'
export { checkAlignment, forbiddenMatcher, FILE_LIMITS } from './alignment.js'
export {
  score, compareScores, decidingKey, bestCheckpoint, latestCheckpoint, isGreen, describeScore,
  SCORE_ORDER, type Score, type ScoreKey,
} from './score.js'
export { decideNext, isInfrastructure, INFRASTRUCTURE_ERRORS } from './decide.js'
export { generatorMessages, PROMPT_LIMITS, type RetrievedPassage } from './prompt.js'
export { FILES_SCHEMA, parseGeneratedFiles, applyGeneratedFiles } from './output.js'
export {
  staticCheckCommands, parseStaticFindings, commandRuntimes, CHECK_MARKER, type StaticCheck, type StaticCheckPlan,
} from './static-checks.js'
