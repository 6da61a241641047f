/**
 * Validation of a build request: untrusted input in, a complete, frozen BuildSpec out, or an
 * InvalidBuildSpecError listing every problem as "path: problem" (up to 50). Whether the model
 * exists is the node's question, not this one's. Pure.
 */
import { globProblem, pathProblem } from '../../protocols/index.js'
import { FILE_LIMITS } from './alignment.js'
import { InvalidBuildSpecError } from './errors.js'
import { LANGUAGES, type Budget, type BuildSpec, type FileSet, type Language } from './types.js'

export const SPEC_LIMITS = Object.freeze({
  maxSpecificationChars: 64 * 1024,
  maxTestFiles: 256,
  maxCommandArgs: 256,
  maxModelChars: 128,
  maxForbiddenPaths: 64,
  maxAttempts: { min: 1, max: 100 },
  maxTokens: { min: 1, max: 100_000_000 },
  maxWallMs: { min: 1000, max: 7 * 24 * 3_600_000 },
  maxStepRetries: { min: 0, max: 10 },
})

export const DEFAULT_STEP_RETRIES = 2

const KNOWN = ['specification', 'files', 'tests', 'language', 'model', 'budget', 'forbiddenPaths']
const BUDGET_KEYS = ['maxAttempts', 'maxTokens', 'maxWallMs', 'maxStepRetries'] as const

type Json = Record<string, unknown>
type Problem = (at: string, message: string) => void

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const isText = (v: unknown): v is string => typeof v === 'string' && v.trim() !== ''

export function validateBuildSpec (input: unknown): BuildSpec {
  const problems: string[] = []
  const problem: Problem = (at, message) => { problems.push(`${at}: ${message}`) }
  if (!isObject(input)) throw new InvalidBuildSpecError(['/: a build specification must be a JSON object'])
  for (const key of Object.keys(input)) if (!KNOWN.includes(key)) problem(`/${key}`, 'is not a field of a build specification')

  const specification = input.specification
  if (!isText(specification)) problem('/specification', 'must be a non-empty text')
  else if (specification.length > SPEC_LIMITS.maxSpecificationChars) problem('/specification', `is longer than ${SPEC_LIMITS.maxSpecificationChars} characters`)

  const language = input.language
  if (!LANGUAGES.includes(language as Language)) problem('/language', `must be one of ${LANGUAGES.join(', ')}`)
  const model = input.model
  if (!isText(model) || model.length > SPEC_LIMITS.maxModelChars) problem('/model', `must name a model (1 to ${SPEC_LIMITS.maxModelChars} characters)`)

  const forbiddenPaths = readForbidden(input.forbiddenPaths, problem)
  const tests = readTests(input.tests, problem)
  const files = input.files === undefined ? undefined : readFileSet(input.files, '/files', FILE_LIMITS.maxFiles, problem)
  if (files !== undefined && tests !== undefined) {
    for (const path of Object.keys(files)) if (Object.hasOwn(tests.files, path)) problem(`/files/${path}`, 'is also a test file')
  }
  const budget = readBudget(input.budget, problem)

  if (problems.length > 0 || tests === undefined || budget === undefined) throw new InvalidBuildSpecError(problems.slice(0, 50))
  return Object.freeze({
    specification: specification as string,
    ...(files === undefined ? {} : { files: Object.freeze(files) }),
    tests: Object.freeze({ files: Object.freeze(tests.files), command: Object.freeze(tests.command) }),
    language: language as Language,
    model: model as string,
    budget: Object.freeze(budget),
    ...(forbiddenPaths === undefined ? {} : { forbiddenPaths: Object.freeze(forbiddenPaths) }),
  })
}

/** A record of path -> text, with sound paths; problems reported under `at`. */
function readFileSet (value: unknown, at: string, maxFiles: number, problem: Problem): FileSet | undefined {
  if (!isObject(value)) { problem(at, 'must be an object of path -> content'); return undefined }
  const entries = Object.entries(value)
  if (entries.length > maxFiles) problem(at, `has ${entries.length} files, more than ${maxFiles}`)
  for (const [path, content] of entries) {
    const bad = pathProblem(path)
    if (bad !== null) problem(`${at}/${path}`, `the path ${bad}`)
    if (typeof content !== 'string') problem(`${at}/${path}`, 'the content must be a string')
    else if (Buffer.byteLength(content) > FILE_LIMITS.maxFileBytes) problem(`${at}/${path}`, `is larger than ${FILE_LIMITS.maxFileBytes} bytes`)
  }
  return Object.fromEntries(entries) as FileSet
}

function readTests (value: unknown, problem: Problem): { files: FileSet, command: string[] } | undefined {
  if (!isObject(value)) { problem('/tests', 'must be an object with files and command'); return undefined }
  const files = readFileSet(value.files, '/tests/files', SPEC_LIMITS.maxTestFiles, problem)
  if (files !== undefined && Object.keys(files).length === 0) problem('/tests/files', 'the test suite has no files')
  const command = value.command
  const argv = Array.isArray(command) ? command : []
  if (argv.length === 0 || argv.length > SPEC_LIMITS.maxCommandArgs) problem('/tests/command', `must be an argv of 1 to ${SPEC_LIMITS.maxCommandArgs} arguments`)
  else if (!argv.every(isText)) problem('/tests/command', 'every argument must be a non-empty text')
  return files === undefined ? undefined : { files, command: argv.filter(isText) }
}

function readBudget (value: unknown, problem: Problem): Budget | undefined {
  if (!isObject(value)) { problem('/budget', 'must be an object with maxAttempts, maxTokens and maxWallMs'); return undefined }
  for (const key of Object.keys(value)) if (!(BUDGET_KEYS as readonly string[]).includes(key)) problem(`/budget/${key}`, 'is not a budget')
  for (const key of BUDGET_KEYS) {
    const n = value[key]
    if (n === undefined && key === 'maxStepRetries') continue
    const { min, max } = SPEC_LIMITS[key]
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) problem(`/budget/${key}`, `must be an integer from ${min} to ${max}`)
  }
  const [maxAttempts, maxTokens, maxWallMs] = [value.maxAttempts, value.maxTokens, value.maxWallMs] as number[]
  return { maxAttempts, maxTokens, maxWallMs, maxStepRetries: (value.maxStepRetries as number | undefined) ?? DEFAULT_STEP_RETRIES }
}

function readForbidden (value: unknown, problem: Problem): string[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.length > SPEC_LIMITS.maxForbiddenPaths) {
    problem('/forbiddenPaths', `must be a list of at most ${SPEC_LIMITS.maxForbiddenPaths} globs or prefixes`)
    return undefined
  }
  value.forEach((pattern, i) => {
    const bad = typeof pattern === 'string' ? globProblem(pattern.replace(/\/+$/, '')) : 'is not a string'
    if (bad !== null) problem(`/forbiddenPaths/${i}`, bad)
  })
  return value.filter((p): p is string => typeof p === 'string')
}
