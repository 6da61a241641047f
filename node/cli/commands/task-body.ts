/**
 * `gryphgen submit`: the POST /v1/tasks body from the command line. Three sources: a command
 * after `--` (an `exec` task), `--noop`, or a JSON file (`-`: stdin) whose fields the flags
 * override (requirements, limits, files and env merged key by key; labels and collect
 * added). Every bad flag is listed in one UsageError before the node is contacted; what the
 * node's schema checks beyond that (ranges of limits, file paths) it answers with a 400.
 */
import { fileFlags, nameValues, readLocalText, rejectProblems, wholeNumber, type ReadText } from '../flags.js'

export interface SubmitFlags {
  noop?: boolean
  priority?: string
  cpus?: string
  memoryMb?: string
  gpu?: string
  gpuVramMb?: string
  label?: string[]
  arch?: string
  timeoutMs?: string
  file?: string[]
  collect?: string[]
  stdinFile?: string
  env?: string[]
  replicated?: boolean
}

/** What stands after the flags: at most one JSON file before `--`, the command after it. */
export interface SubmitOperands { jsonFile?: string, command: string[] }

export interface SubmitReaders { readFile: ReadText, readStdin: () => Promise<string> }

type Body = Record<string, unknown>

/**
 * Split commander's operands (which no longer show where `--` stood) by the words of the
 * command line (`words`, where the first `--` ends the options): those after it are the command.
 */
export function submitOperands (operands: readonly string[], words: readonly string[]): SubmitOperands & { problems: string[] } {
  const dash = words.indexOf('--')
  const afterDash = dash < 0 ? 0 : Math.min(operands.length, words.length - dash - 1)
  const before = operands.slice(0, operands.length - afterDash)
  const command = operands.slice(operands.length - afterDash)
  const problems: string[] = []
  if (before.length > 1) problems.push(`expected at most one FILE.json before --, got ${before.map(a => JSON.stringify(a)).join(' ')} (a command goes after --)`)
  return { ...(before.length === 0 ? {} : { jsonFile: before[0] }), command, problems }
}

const readStdinText = async (): Promise<string> => {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

const defaultReaders: SubmitReaders = { readFile: readLocalText, readStdin: readStdinText }

async function readSource (path: string, what: string, readers: SubmitReaders, problems: string[]): Promise<string | undefined> {
  try {
    return path === '-' ? await readers.readStdin() : await readers.readFile(path)
  } catch (err) {
    problems.push(`${what}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
    return undefined
  }
}

async function fileBody (path: string, readers: SubmitReaders, problems: string[]): Promise<Body | undefined> {
  const text = await readSource(path, 'task file', readers, problems)
  if (text === undefined) return undefined
  try {
    const body = JSON.parse(text) as unknown
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) return body as Body
    problems.push(`task file ${path}: expected a JSON object`)
  } catch (err) {
    problems.push(`task file ${path}: not JSON (${(err as Error).message})`)
  }
  return undefined
}

const record = (value: unknown): Body => typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Body : {}
const list = (value: unknown): unknown[] => Array.isArray(value) ? value : []
/** The file's value as it is when no flag adds to it (the node judges it), else both merged. */
const merged = (fromFile: unknown, fromFlags: Body): unknown => Object.keys(fromFlags).length === 0 ? fromFile : { ...record(fromFile), ...fromFlags }

/** Defined entries only, so an absent flag never overrides the file. */
function defined (entries: Record<string, unknown>): Body {
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined))
}

/** The submit body, or a UsageError listing every problem of the command line. */
export async function submitBody (operands: SubmitOperands & { problems?: string[] }, flags: SubmitFlags, readers: SubmitReaders = defaultReaders): Promise<Body> {
  const problems = [...operands.problems ?? []]
  const { jsonFile, command } = operands
  if (flags.noop === true && (command.length > 0 || jsonFile !== undefined)) problems.push('--noop takes no command and no task file')
  if (jsonFile !== undefined && command.length > 0) problems.push('give either FILE.json or -- CMD ARGS..., not both')
  if (flags.noop !== true && jsonFile === undefined && command.length === 0) problems.push('nothing to submit: give -- CMD ARGS..., FILE.json (- for stdin) or --noop')
  if (flags.noop === true && (flags.file !== undefined || flags.collect !== undefined || flags.stdinFile !== undefined || flags.env !== undefined)) {
    problems.push('--file, --collect, --stdin-file and --env are for commands, not --noop')
  }
  if (jsonFile === '-' && flags.stdinFile === '-') problems.push('stdin can be read once: not both FILE.json and --stdin-file as -')

  const gpuCount = wholeNumber(flags.gpu, '--gpu', problems, { min: 1 })
  const gpuVramMb = wholeNumber(flags.gpuVramMb, '--gpu-vram-mb', problems)
  const requirements = defined({
    cpus: wholeNumber(flags.cpus, '--cpus', problems),
    memoryMb: wholeNumber(flags.memoryMb, '--memory-mb', problems),
    gpu: gpuCount === undefined && gpuVramMb === undefined ? undefined : { count: gpuCount ?? 1, minVramMb: gpuVramMb ?? 0 },
    arch: flags.arch,
  })
  const limits = defined({ timeoutMs: wholeNumber(flags.timeoutMs, '--timeout-ms', problems) })
  const priority = wholeNumber(flags.priority, '--priority', problems, { min: 0, max: 9 })
  const files = await fileFlags(flags.file, problems, { inlineText: true, read: readers.readFile })
  const env = nameValues(flags.env, '--env', problems)
  const stdin = flags.stdinFile === undefined ? undefined : await readSource(flags.stdinFile, '--stdin-file', readers, problems)
  const base = jsonFile === undefined ? undefined : await fileBody(jsonFile, readers, problems)
  rejectProblems('invalid submit', problems)

  const from = base ?? {}
  const kind = flags.noop === true ? 'noop' : base === undefined ? 'exec' : from.kind
  if (flags.label !== undefined) requirements.labels = [...list(record(from.requirements).labels), ...flags.label]
  return defined({
    ...from,
    kind,
    ...(command.length === 0 ? {} : { command }),
    priority: priority ?? from.priority,
    requirements: merged(from.requirements, requirements),
    limits: merged(from.limits, limits),
    durability: flags.replicated === true ? 'replicated' : from.durability,
    files: merged(from.files, files),
    env: merged(from.env, env),
    collect: flags.collect === undefined ? from.collect : [...list(from.collect), ...flags.collect],
    stdin: stdin ?? from.stdin,
  })
}
