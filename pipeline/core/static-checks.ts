/**
 * The code analyzer's static checks: the sandbox commands that check an attempt's files and
 * the parser of what they print. Python files go through `python3 -m py_compile`, JavaScript
 * files through `node --check`, one file at a time in one `sh` loop (py_compile stops at the
 * first broken file; node --check takes one), each preceded on stderr by a marker line naming
 * the file, so findings name the file even where the tool prints only its base name.
 * TypeScript is checked only when the caller gives a `tsc` command (the sandbox has none of its
 * own); tsc sees the attempt's files alone, with no @types unless the files bring a tsconfig.
 * Pure: the parser never fails, it skips what it does not know.
 */
import type { FileSet, Finding, Language, StaticCheckTool } from './types.js'

/** `runtimes`: what the sandbox must have to run it (a placement requirement, as nodes advertise them). */
export interface StaticCheck { tool: StaticCheckTool, command: string[], runtimes: string[] }
/** `skipped`: a sentence for each check that cannot run, saying why. */
export interface StaticCheckPlan { checks: StaticCheck[], skipped: string[] }

/** Marks the start of one file's check in the loop's stderr. */
export const CHECK_MARKER = '### check '
const MAX_FINDINGS = 200

const EXTENSIONS = {
  python: ['.py'],
  javascript: ['.js', '.mjs', '.cjs'],
  typescript: ['.ts', '.tsx', '.mts', '.cts'],
} as const

/** `tsc`: the argv that runs the TypeScript compiler in the sandbox, e.g. ['node', '/opt/typescript/bin/tsc']. */
export function staticCheckCommands (language: Language, files: Readonly<FileSet> | readonly string[], options: { tsc?: readonly string[] } = {}): StaticCheckPlan {
  const paths = (Array.isArray(files) ? [...files] : Object.keys(files)).sort()
  const having = (extensions: readonly string[]): string[] => paths.filter(p => extensions.some(e => p.endsWith(e)))
  const plan: StaticCheckPlan = { checks: [], skipped: [] }
  if (language === 'python') {
    const python = having(EXTENSIONS.python)
    if (python.length === 0) plan.skipped.push('py_compile: no .py files to check')
    else plan.checks.push({ tool: 'py_compile', command: eachFile('python3 -m py_compile', python), runtimes: ['sh', 'python3'] })
    return plan
  }
  const javascript = having(EXTENSIONS.javascript)
  if (javascript.length > 0) plan.checks.push({ tool: 'node --check', command: eachFile('node --check', javascript), runtimes: ['sh', 'node'] })
  else if (language === 'javascript') plan.skipped.push('node --check: no .js, .mjs or .cjs files to check')
  if (language === 'typescript') {
    const typescript = having(EXTENSIONS.typescript)
    if (options.tsc === undefined || options.tsc.length === 0) plan.skipped.push('tsc: no TypeScript compiler was given, so TypeScript files are not checked')
    else if (typescript.length === 0) plan.skipped.push('tsc: no .ts files to check')
    else plan.checks.push({ tool: 'tsc', command: [...options.tsc, '--noEmit', '--pretty', 'false', ...tscTarget(paths, typescript)], runtimes: ['node', 'tsc'] })
  }
  return plan
}

function eachFile (tool: string, paths: string[]): string[] {
  const loop = `status=0; for f in "$@"; do printf '\\n${CHECK_MARKER}%s\\n' "$f" >&2; ${tool} "./$f" || status=1; done; exit $status`
  return ['sh', '-c', loop, 'sh', ...paths]
}

function tscTarget (paths: string[], typescript: string[]): string[] {
  if (paths.includes('tsconfig.json')) return ['-p', 'tsconfig.json']
  return ['--strict', '--skipLibCheck', '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', ...typescript.map(p => `./${p}`)]
}

/** The findings in a static check's output (tsc writes to stdout, the others to stderr). */
export function parseStaticFindings (language: Language, stdout: string, stderr: string): Finding[] {
  const lines = `${stderr}\n${stdout}`.split(/\r?\n/)
  const findings = language === 'python'
    ? parseMarked(lines, 'py_compile', PYTHON)
    : [...parseMarked(lines, 'node --check', NODE), ...(language === 'typescript' ? parseTsc(lines) : [])]
  return findings.slice(0, MAX_FINDINGS)
}

/** How one tool reports a location and an error, line by line. */
interface Format {
  /** A line that names where the error is; the error's message follows on a later line. */
  location: RegExp
  /** The line with the error's type and message. */
  error: RegExp
  /** A line with everything at once (py_compile's "Sorry: IndentationError: ... (name.py, line 2)"). */
  whole?: RegExp
}

const PYTHON: Format = {
  location: /^\s*File "(.+)", line (\d+)/,
  error: /^(\w*(?:Error|Exception|Warning)): (.*)$/,
  whole: /^Sorry: (\w+): (.*) \((.+), line (\d+)\)$/,
}
const NODE: Format = {
  location: /^(.+):(\d+)$/,
  error: /^(\w*Error): (.*)$/,
}

function parseMarked (lines: string[], tool: StaticCheckTool, format: Format): Finding[] {
  const findings: Finding[] = []
  let current: string | null = null
  let pending: { file: string, line: number } | null = null
  for (const line of lines) {
    if (line.startsWith(CHECK_MARKER)) { current = line.slice(CHECK_MARKER.length); pending = null; continue }
    const whole = format.whole?.exec(line)
    if (whole != null) {
      findings.push({ tool, file: current ?? relative(whole[3] ?? ''), line: Number(whole[4]), message: `${whole[1] ?? ''}: ${whole[2] ?? ''}` })
      continue
    }
    const location: RegExpExecArray | null = pending === null ? format.location.exec(line) : null
    if (location != null) { pending = { file: current ?? relative(location[1] ?? ''), line: Number(location[2]) }; continue }
    const error = format.error.exec(line)
    if (error === null || (pending === null && current === null)) continue
    findings.push({ tool, file: pending?.file ?? current ?? '', ...(pending === null ? {} : { line: pending.line }), message: `${error[1] ?? ''}: ${error[2] ?? ''}` })
    pending = null
  }
  return findings
}

const TSC = /^(.+?)\((\d+),(\d+)\): (?:error|warning) (TS\d+): (.*)$/

function parseTsc (lines: string[]): Finding[] {
  return lines.flatMap(line => {
    const m = TSC.exec(line)
    return m === null ? [] : [{ tool: 'tsc' as const, file: relative(m[1] ?? ''), line: Number(m[2]), message: `${m[4] ?? ''}: ${m[5] ?? ''}` }]
  })
}

/** A path as the tool printed it, made relative to the sandbox's /work. */
function relative (path: string): string {
  return path.replace(/^\/work\//, '').replace(/^(\.\/)+/, '')
}

/** Runtimes a sandbox must have for a test command (of those nodes advertise: sh, python3, pytest, node); what is not known is not required. */
export function commandRuntimes (command: readonly string[]): string[] {
  const program = (command[0] ?? '').split('/').at(-1) ?? ''
  const needs = new Set<string>()
  if (/^python3?(\.\d+)?$/.test(program)) needs.add('python3')
  if (program === 'pytest' || (needs.has('python3') && command[1] === '-m' && command[2] === 'pytest')) needs.add('pytest')
  if (program === 'node') needs.add('node')
  if (program === 'sh') needs.add('sh')
  return [...needs].sort()
}
