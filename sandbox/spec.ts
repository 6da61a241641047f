/**
 * What a caller may ask the sandbox to run, its documented defaults and bounds, and the pure
 * validation that turns untrusted input into a frozen, complete spec. Every problem is reported
 * at once (InvalidSandboxSpecError.problems); nothing is run for an invalid spec.
 */
import { InvalidSandboxSpecError } from './errors.js'
import { globProblem, pathProblem } from '../protocols/index.js'
import { fileDirectoryConflicts } from './paths.js'

export interface SandboxLimits {
  /** Wall-clock time from start to end of the run. */
  wallMs: number
  /** CPU time of all the run's processes together (per process where only rlimits exist). */
  cpuMs: number
  /** Memory of all the run's processes, including files in /work, /tmp and /dev/shm. */
  memoryMb: number
  /** Processes and threads at once. */
  pids: number
  /** Size of any one file written. */
  fileSizeMb: number
  /** Bytes kept of stdout and of stderr each; the run ends when either exceeds it. */
  outputBytes: number
  /** Size of /work, and separately of /tmp (both RAM-backed tmpfs). */
  diskMb: number
}

export type LimitName = keyof SandboxLimits

export interface SandboxSpec {
  /** Relative path under /work -> UTF-8 content. */
  files?: Record<string, string>
  /** argv; argv[0] is looked up on the sandbox's PATH. Runs in /work. */
  command: string[]
  /** The whole environment of the command, on top of PATH, HOME, TMPDIR and LANG defaults. */
  env?: Record<string, string>
  stdin?: string
  /** Globs (`*`, `?`, `**`) of files under /work to return after the command ends by itself. */
  collect?: string[]
  limits?: Partial<SandboxLimits>
}

export interface ValidatedSpec {
  readonly files: ReadonlyArray<{ readonly path: string, readonly content: string }>
  readonly command: readonly string[]
  readonly env: Readonly<Record<string, string>>
  readonly stdin: string | null
  readonly collect: readonly string[]
  readonly limits: Readonly<SandboxLimits>
}

/** Bounds of every limit; `default` applies where a spec leaves the limit out. */
export const LIMIT_BOUNDS: Readonly<Record<LimitName, { min: number, max: number, default: number }>> = Object.freeze({
  wallMs: { min: 100, max: 3_600_000, default: 30_000 },
  cpuMs: { min: 100, max: 3_600_000, default: 30_000 },
  memoryMb: { min: 16, max: 65_536, default: 512 },
  pids: { min: 8, max: 4096, default: 128 },
  fileSizeMb: { min: 1, max: 16_384, default: 64 },
  outputBytes: { min: 1024, max: 64 * 1024 * 1024, default: 1024 * 1024 },
  diskMb: { min: 1, max: 16_384, default: 256 },
})

export const DEFAULT_LIMITS: Readonly<SandboxLimits> = Object.freeze(Object.fromEntries(
  Object.entries(LIMIT_BOUNDS).map(([name, bounds]) => [name, bounds.default]),
) as unknown as SandboxLimits)

export const DEFAULT_ENV: Readonly<Record<string, string>> = Object.freeze({
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/tmp',
  TMPDIR: '/tmp',
  LANG: 'C.UTF-8',
})

export const SPEC_BOUNDS = Object.freeze({
  maxFiles: 1000,
  maxArgs: 1024,
  maxArgBytes: 128 * 1024,
  maxEnvVars: 256,
  maxEnvBytes: 64 * 1024,
  maxStdinBytes: 16 * 1024 * 1024,
  maxGlobs: 64,
})

const SPEC_KEYS = new Set(['files', 'command', 'env', 'stdin', 'collect', 'limits'])
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Checks untrusted input; returns a frozen complete spec or throws InvalidSandboxSpecError. */
export function validateSpec (input: unknown): ValidatedSpec {
  const problems: string[] = []
  if (!isRecord(input)) throw new InvalidSandboxSpecError('invalid sandbox spec', { details: ['spec is not an object'] })
  for (const key of Object.keys(input)) if (!SPEC_KEYS.has(key)) problems.push(`unknown field '${key}'`)
  const limits = checkLimits(input.limits, problems)
  const spec: ValidatedSpec = {
    files: checkFiles(input.files, limits, problems),
    command: checkCommand(input.command, problems),
    env: checkEnv(input.env, problems),
    stdin: checkStdin(input.stdin, problems),
    collect: checkCollect(input.collect, problems),
    limits,
  }
  if (problems.length > 0) throw new InvalidSandboxSpecError(`invalid sandbox spec: ${problems.join('; ')}`, { details: problems })
  return Object.freeze(spec)
}

function checkLimits (value: unknown, problems: string[]): SandboxLimits {
  const limits = { ...DEFAULT_LIMITS }
  if (value === undefined) return Object.freeze(limits)
  if (!isRecord(value)) { problems.push('limits is not an object'); return Object.freeze(limits) }
  for (const [name, given] of Object.entries(value)) {
    if (!(name in LIMIT_BOUNDS)) { problems.push(`unknown limit '${name}'`); continue }
    if (given === undefined) continue
    const { min, max } = LIMIT_BOUNDS[name as LimitName]
    if (typeof given !== 'number' || !Number.isInteger(given) || given < min || given > max) {
      problems.push(`limits.${name} must be an integer from ${min} to ${max}`)
      continue
    }
    limits[name as LimitName] = given
  }
  return Object.freeze(limits)
}

function checkFiles (value: unknown, limits: SandboxLimits, problems: string[]): ValidatedSpec['files'] {
  if (value === undefined) return []
  if (!isRecord(value)) { problems.push('files is not an object of path -> content'); return [] }
  const entries = Object.entries(value)
  if (entries.length > SPEC_BOUNDS.maxFiles) problems.push(`more than ${SPEC_BOUNDS.maxFiles} files`)
  const files: Array<{ path: string, content: string }> = []
  let total = 0
  for (const [path, content] of entries) {
    const problem = pathProblem(path)
    if (problem !== null) { problems.push(`file path ${JSON.stringify(path)} ${problem}`); continue }
    if (typeof content !== 'string') { problems.push(`file ${JSON.stringify(path)} content is not a string`); continue }
    const size = Buffer.byteLength(content)
    if (size > limits.fileSizeMb * 1024 * 1024) problems.push(`file ${JSON.stringify(path)} is larger than limits.fileSizeMb`)
    total += size
    files.push({ path, content })
  }
  if (total > limits.diskMb * 1024 * 1024) problems.push('files together are larger than limits.diskMb')
  for (const path of fileDirectoryConflicts(files.map(file => file.path))) {
    problems.push(`file path ${JSON.stringify(path)} is both a file and a directory`)
  }
  return Object.freeze(files.map(file => Object.freeze(file)))
}

function checkCommand (value: unknown, problems: string[]): readonly string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every(arg => typeof arg === 'string')) {
    problems.push('command must be a non-empty array of strings')
    return []
  }
  const args = value as string[]
  if (args[0] === '') problems.push('command[0] is empty')
  if (args.some(arg => arg.includes('\0'))) problems.push('command contains a NUL byte')
  if (args.length > SPEC_BOUNDS.maxArgs) problems.push(`command has more than ${SPEC_BOUNDS.maxArgs} arguments`)
  if (args.reduce((sum, arg) => sum + Buffer.byteLength(arg) + 1, 0) > SPEC_BOUNDS.maxArgBytes) {
    problems.push(`command is longer than ${SPEC_BOUNDS.maxArgBytes} bytes`)
  }
  return Object.freeze([...args])
}

function checkEnv (value: unknown, problems: string[]): Readonly<Record<string, string>> {
  if (value === undefined) return DEFAULT_ENV
  if (!isRecord(value)) { problems.push('env is not an object of name -> value'); return DEFAULT_ENV }
  const env = new Map(Object.entries(DEFAULT_ENV))
  let bytes = 0
  for (const [name, given] of Object.entries(value)) {
    if (!ENV_NAME.test(name)) { problems.push(`env name ${JSON.stringify(name)} is not a valid name`); continue }
    if (typeof given !== 'string' || given.includes('\0')) { problems.push(`env ${name} must be a string without NUL`); continue }
    bytes += Buffer.byteLength(name) + Buffer.byteLength(given) + 2
    env.set(name, given)
  }
  if (Object.keys(value).length > SPEC_BOUNDS.maxEnvVars) problems.push(`env has more than ${SPEC_BOUNDS.maxEnvVars} variables`)
  if (bytes > SPEC_BOUNDS.maxEnvBytes) problems.push(`env is larger than ${SPEC_BOUNDS.maxEnvBytes} bytes`)
  // fromEntries defines own properties, so even a '__proto__' variable is kept as data.
  return Object.freeze(Object.fromEntries(env))
}

function checkStdin (value: unknown, problems: string[]): string | null {
  if (value === undefined) return null
  if (typeof value !== 'string') { problems.push('stdin is not a string'); return null }
  if (Buffer.byteLength(value) > SPEC_BOUNDS.maxStdinBytes) problems.push(`stdin is larger than ${SPEC_BOUNDS.maxStdinBytes} bytes`)
  return value
}

function checkCollect (value: unknown, problems: string[]): readonly string[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || !value.every(glob => typeof glob === 'string')) {
    problems.push('collect must be an array of glob strings')
    return []
  }
  if (value.length > SPEC_BOUNDS.maxGlobs) problems.push(`collect has more than ${SPEC_BOUNDS.maxGlobs} globs`)
  for (const glob of value as string[]) {
    const problem = globProblem(glob)
    if (problem !== null) problems.push(`collect glob ${JSON.stringify(glob)} ${problem}`)
  }
  return Object.freeze([...value as string[]])
}
