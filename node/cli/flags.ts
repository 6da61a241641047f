/**
 * Flag values shared by the commands that build a run or a task: each parser pushes what is
 * wrong onto `problems`, so a command reports every bad flag in one UsageError (exit 2)
 * before it does anything.
 */
import { readFile } from 'node:fs/promises'
import { UsageError } from '../../base/index.js'

export type ReadText = (path: string) => Promise<string>

export const readLocalText: ReadText = async path => readFile(path, 'utf8')

/** Throws one UsageError that lists every problem, if there is any. */
export function rejectProblems (what: string, problems: readonly string[]): void {
  if (problems.length > 0) throw new UsageError(`${what}:\n  - ${problems.join('\n  - ')}`, { details: [...problems] })
}

/** A whole number within [min, max], or undefined (absent or bad: then a problem is listed). */
export function wholeNumber (raw: unknown, flag: string, problems: string[], range: { min?: number, max?: number } = {}): number | undefined {
  if (raw === undefined) return undefined
  if (typeof raw !== 'string' || !/^\d+$/.test(raw)) { problems.push(`${flag}: expected a whole number, got ${JSON.stringify(raw)}`); return undefined }
  const value = Number.parseInt(raw, 10)
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = range
  if (value < min || value > max) { problems.push(`${flag}: expected ${min} to ${max}, got ${value}`); return undefined }
  return value
}

/** `NAME=VALUE` items as a record (`--env`). */
export function nameValues (items: readonly string[] | undefined, flag: string, problems: string[]): Record<string, string> {
  const values: Record<string, string> = {}
  for (const item of items ?? []) {
    const eq = item.indexOf('=')
    if (eq <= 0) problems.push(`${flag}: expected NAME=VALUE, got ${JSON.stringify(item)}`)
    else values[item.slice(0, eq)] = item.slice(eq + 1)
  }
  return values
}

/**
 * `--file PATH=@LOCALFILE` items (the local file's text) and, where `inlineText` is set, also
 * `PATH=TEXT` (the text itself).
 */
export async function fileFlags (items: readonly string[] | undefined, problems: string[], options: { inlineText: boolean, read?: ReadText }): Promise<Record<string, string>> {
  const read = options.read ?? readLocalText
  const files: Record<string, string> = {}
  for (const item of items ?? []) {
    const eq = item.indexOf('=')
    const path = item.slice(0, eq)
    const value = item.slice(eq + 1)
    if (eq <= 0 || (!options.inlineText && (!value.startsWith('@') || value.length === 1))) {
      problems.push(`--file: expected ${options.inlineText ? 'PATH=@LOCALFILE or PATH=TEXT' : 'PATH=@LOCALFILE'}, got ${JSON.stringify(item)}`)
      continue
    }
    if (!value.startsWith('@')) { files[path] = value; continue }
    try {
      files[path] = await read(value.slice(1))
    } catch (err) {
      problems.push(`--file ${path}: cannot read ${value.slice(1)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
    }
  }
  return files
}
