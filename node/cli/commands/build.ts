/**
 * `gryphgen build`: a specification and a test suite in, code that passes the tests out. It
 * submits a `build` task (pipeline/), and with --wait follows it: one line per recorded
 * attempt (tests passed/total, the loop's decision and its reason), then writes the best
 * attempt's files to --out (fetched as blobs from whichever node holds them). Exit code: 0
 * when the tests pass, 1 when the job gave up or failed, 130 when interrupted.
 * `gryphgen files TASK` writes a build's files: the best attempt's, or any checkpoint's.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve, sep } from 'node:path'
import type { TaskViewT } from '../../../protocols/index.js'
import { apiBlob, apiRequest, type LocalNode } from '../client.js'
import { onInterrupt } from '../interrupt.js'
import { write, writeError, writeJson } from '../output.js'
import { rejectProblems, wholeNumber } from '../flags.js'
import { followTask, type TaskProgressEvent } from './task-follow.js'

export interface BuildFlags {
  spec: string
  tests: string
  testCommand: string
  model: string
  language?: string
  files?: string
  corpus?: string
  maxAttempts?: string
  maxTokens?: string
  maxMinutes?: string
  out?: string
  wait?: boolean
  json?: boolean
}

const MAX_DIR_FILES = 256
const MAX_FILE_BYTES = 256 * 1024
const SKIP = new Set(['node_modules', '.git', '__pycache__', '.pytest_cache'])

/** A command line as argv: whitespace-separated, with '…' and "…" quoting. Pure. */
export function splitCommand (line: string): string[] {
  const out: string[] = []
  let current = ''
  let quote: string | null = null
  let started = false
  for (const ch of line) {
    if (quote !== null) { if (ch === quote) quote = null; else current += ch; continue }
    if (ch === '"' || ch === "'") { quote = ch; started = true; continue }
    if (/\s/.test(ch)) { if (started) { out.push(current); current = ''; started = false } continue }
    current += ch
    started = true
  }
  if (quote !== null) throw new Error(`unbalanced ${quote} in ${JSON.stringify(line)}`)
  if (started) out.push(current)
  return out
}

/** The language from the test command when not given: pytest -> python, node -> javascript. */
export function inferLanguage (command: readonly string[]): string | undefined {
  const words = command.join(' ')
  if (/\bpytest\b|\bpython3?\b/.test(words)) return 'python'
  if (/\bnode\b|\bnpm\b/.test(words)) return 'javascript'
  return undefined
}

/** Every text file under `dir` by its path relative to it (bounded). */
async function readTree (dir: string, problems: string[], flag: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {}
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      if (SKIP.has(entry.name)) continue
      const path = join(at, entry.name)
      if (entry.isDirectory()) { await walk(path); continue }
      if (!entry.isFile()) continue
      if (Object.keys(files).length >= MAX_DIR_FILES) { problems.push(`${flag}: more than ${MAX_DIR_FILES} files`); return }
      if ((await stat(path)).size > MAX_FILE_BYTES) { problems.push(`${flag}: ${path} is over ${MAX_FILE_BYTES} bytes`); continue }
      files[relative(dir, path).split(sep).join('/')] = await readFile(path, 'utf8')
    }
  }
  try {
    await walk(resolve(dir))
  } catch (err) {
    problems.push(`${flag}: cannot read ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  return files
}

export async function buildBody (flags: BuildFlags): Promise<Record<string, unknown>> {
  const problems: string[] = []
  let specification = ''
  try { specification = await readFile(flags.spec, 'utf8') } catch (err) { problems.push(`--spec: cannot read ${flags.spec} (${(err as NodeJS.ErrnoException).code ?? ''})`) }
  const tests = await readTree(flags.tests, problems, '--tests')
  const files = flags.files === undefined ? undefined : await readTree(flags.files, problems, '--files')
  let command: string[] = []
  try { command = splitCommand(flags.testCommand) } catch (err) { problems.push(`--test-command: ${(err as Error).message}`) }
  if (command.length === 0) problems.push('--test-command: empty')
  const language = flags.language ?? inferLanguage(command)
  if (language === undefined) problems.push('--language: cannot tell from the test command; give python, javascript or typescript')
  const maxAttempts = wholeNumber(flags.maxAttempts, '--max-attempts', problems, { min: 1, max: 100 })
  const maxTokens = wholeNumber(flags.maxTokens, '--max-tokens', problems, { min: 1, max: 10_000_000 })
  const maxMinutes = wholeNumber(flags.maxMinutes, '--max-minutes', problems, { min: 1, max: 24 * 60 })
  rejectProblems('invalid build', problems)
  return {
    kind: 'build',
    specification,
    tests: { files: tests, command },
    language,
    model: flags.model,
    ...(files === undefined ? {} : { files }),
    ...(flags.corpus === undefined ? {} : { corpus: flags.corpus }),
    budget: {
      ...(maxAttempts === undefined ? {} : { maxAttempts }),
      ...(maxTokens === undefined ? {} : { maxTokens }),
      ...(maxMinutes === undefined ? {} : { maxWallMs: maxMinutes * 60_000 }),
    },
  }
}

/** One line per checkpoint, as the job records them. */
export function checkpointLine (c: NonNullable<TaskViewT['checkpoints']>[number]): string {
  const s = c.summary as { tests?: { passed?: number, failed?: number, errored?: number } | null, decision?: { action?: string, reason?: string } }
  const t = s.tests
  const tests = t === undefined || t === null ? 'tests did not run' : `tests ${t.passed ?? 0}/${(t.passed ?? 0) + (t.failed ?? 0) + (t.errored ?? 0)} passed`
  return `attempt ${c.step}${c.basedOn === null ? '' : ` (from ${c.basedOn})`}: ${Object.keys(c.files).length} files, ${tests}; ${s.decision?.action ?? '?'}: ${s.decision?.reason ?? ''}`
}

export async function buildCommand (local: LocalNode, flags: BuildFlags): Promise<number> {
  const body = await buildBody(flags)
  const reply = await apiRequest<{ id: string }>(local, 'POST', '/v1/tasks', { body, signal: AbortSignal.timeout(35_000) })
  if (flags.wait !== true) { if (flags.json === true) writeJson(reply); else write(reply.id); return 0 }
  writeError(`build ${reply.id} submitted`)
  const interrupt = onInterrupt()
  const status = stepStatus()
  let shown = 0
  try {
    const view = await followTask(local, reply.id, {
      signal: interrupt.signal,
      onState: v => {
        const fresh = (v.checkpoints ?? []).slice(shown)
        if (fresh.length > 0) status.clear()
        for (const c of fresh) writeError(checkpointLine(c))
        shown = Math.max(shown, v.checkpoints?.length ?? 0)
      },
      onProgress: status.show,
    })
    status.clear()
    const result = (view.result ?? {}) as { files?: Record<string, { digest: string }>, reason?: string }
    if (flags.out !== undefined && result.files !== undefined) {
      writeError(`wrote ${await writeFiles(local, result.files, flags.out, interrupt.signal)} files to ${flags.out}`)
    }
    if (flags.json === true) writeJson(view)
    else write(`build ${reply.id}: ${view.state}${result.reason === undefined ? (view.error === undefined ? '' : `: ${view.error}`) : `: ${result.reason}`}`)
    return view.state === 'succeeded' ? 0 : 1
  } catch (err) {
    status.clear()
    if (interrupt.signal.aborted) { writeError(`stopped following build ${reply.id} (it goes on; gryphgen cancel ${reply.id} stops it)`); return 130 }
    throw err
  } finally {
    interrupt.dispose()
  }
}

/** On a terminal, the step in progress ("attempt 2: test") as one status line; elsewhere nothing (the attempt lines say it all). */
function stepStatus (): { show: (p: TaskProgressEvent) => void, clear: () => void } {
  const tty = process.stderr.isTTY === true
  let drawn = false
  return {
    show: p => {
      if (!tty) return
      const width = Math.max(20, (process.stderr.columns ?? 80) - 1)
      process.stderr.write(`\r\x1b[2K${p.stage}${p.total === undefined ? '' : ` (${p.done ?? 0}/${p.total})`}…`.slice(0, width))
      drawn = true
    },
    clear: () => { if (drawn) process.stderr.write('\r\x1b[2K'); drawn = false },
  }
}

/** Writes files (blob refs) under `out`, fetched through the local node; paths that would leave `out` are skipped. */
async function writeFiles (local: LocalNode, files: Record<string, { digest: string }>, out: string, signal: AbortSignal): Promise<number> {
  let written = 0
  for (const [path, ref] of Object.entries(files)) {
    const target = resolve(out, path)
    if (!target.startsWith(resolve(out) + sep)) continue // never outside --out
    await mkdir(dirname(target), { recursive: true })
    await writeFile(target, await apiBlob(local, ref.digest, signal))
    written++
  }
  return written
}

export interface FilesFlags { checkpoint?: string, out?: string, json?: boolean }

/** `gryphgen files TASK [--checkpoint N] --out DIR`: a build's best files, or one checkpoint's (to inspect it, or to start again from it with --files). */
export async function filesCommand (local: LocalNode, id: string, flags: FilesFlags): Promise<number> {
  const problems: string[] = []
  const step = wholeNumber(flags.checkpoint, '--checkpoint', problems, { min: 1 })
  if (flags.out === undefined) problems.push('--out: where to write the files')
  rejectProblems('gryphgen files', problems)
  const view = await apiRequest<TaskViewT>(local, 'GET', `/v1/tasks/${encodeURIComponent(id)}`)
  const checkpoints = view.checkpoints ?? []
  const files = step === undefined
    ? (view.result as { files?: Record<string, { digest: string }> } | undefined)?.files
    : checkpoints.find(c => c.step === step)?.files
  if (files === undefined) {
    writeError(step === undefined
      ? `task ${id} has no result files yet (${view.state}; its checkpoints: ${checkpoints.map(c => c.step).join(', ') || 'none'})`
      : `task ${id} has no checkpoint ${step} (it has ${checkpoints.map(c => c.step).join(', ') || 'none'})`)
    return 1
  }
  const interrupt = onInterrupt()
  try {
    const written = await writeFiles(local, files, flags.out as string, interrupt.signal)
    if (flags.json === true) writeJson({ task: id, checkpoint: step ?? null, out: flags.out, files: Object.keys(files) })
    else write(`wrote ${written} files of ${step === undefined ? 'the best attempt' : `checkpoint ${step}`} to ${flags.out}`)
    return 0
  } finally {
    interrupt.dispose()
  }
}
