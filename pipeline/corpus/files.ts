/**
 * Text files to index, from directories and file paths: directories are walked in name
 * order without following links, skipping version-control and dependency folders; a file is
 * taken when it matches `include` (any of its extensions or globs; default every file), fits
 * `maxFileBytes`, and is UTF-8 text without NUL bytes. Each skip says why. A directory's
 * files are named relative to it, with `/`; a file given by path keeps that path.
 */
import { opendir, readFile, stat } from 'node:fs/promises'
import { join, normalize, sep } from 'node:path'
import { checkAborted, CorpusOptionsError } from './errors.js'
import { globMatcher } from '../../protocols/index.js'

export interface TextFileOptions {
  /** Extensions (`.py`) or globs (`src/**\/*.ts`; without a `/` it matches the file name): a file must match one. */
  include?: readonly string[]
  /** Larger files are skipped; default 1 MiB. */
  maxFileBytes?: number
  /** At most this many files are read (the rest skipped, `limit`); default 100,000. */
  maxFiles?: number
  signal?: AbortSignal
}

export type SkipReason = 'binary' | 'too-large' | 'not-included' | 'unreadable' | 'limit'
export type FileOutcome = { path: string, text: string } | { path: string, skipped: SkipReason }

export const SKIPPED_DIRS: ReadonlySet<string> = new Set(['.git', '.hg', '.svn', 'node_modules', '__pycache__', '.venv', '.tox', '.mypy_cache', '.pytest_cache'])
const DEFAULT_MAX_FILE_BYTES = 1024 * 1024
const DEFAULT_MAX_FILES = 100_000
const SNIFF_BYTES = 8192

/** Whether a path is included: default everything; `.ext` by extension; a glob without `/` by file name, else by path. */
export function includeMatcher (include: readonly string[] | undefined): (path: string) => boolean {
  if (include === undefined || include.length === 0) return () => true
  const tests = include.map(pattern => {
    if (/^\.[\w.-]+$/.test(pattern)) return (path: string) => path.toLowerCase().endsWith(pattern.toLowerCase())
    return globMatcher([pattern], { byName: true })
  })
  return path => tests.some(test => test(path))
}

/** The file's text, or why it is skipped. */
async function readText (file: string, maxFileBytes: number): Promise<{ text: string } | { skipped: SkipReason }> {
  try {
    if ((await stat(file)).size > maxFileBytes) return { skipped: 'too-large' }
    const bytes = await readFile(file)
    if (bytes.length > maxFileBytes) return { skipped: 'too-large' }
    if (bytes.subarray(0, SNIFF_BYTES).includes(0)) return { skipped: 'binary' }
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) }
  } catch (err) {
    return { skipped: err instanceof TypeError ? 'binary' : 'unreadable' } // TextDecoder's fatal error is a TypeError
  }
}

/** Regular files under `dir` (relative `/` paths, name order), skipping SKIPPED_DIRS and links. */
async function * walk (dir: string, relative: string, signal: AbortSignal | undefined): AsyncGenerator<{ file: string, path: string }> {
  const entries = []
  for await (const entry of await opendir(dir)) entries.push(entry)
  entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  for (const entry of entries) {
    checkAborted(signal, 'reading files')
    const path = relative === '' ? entry.name : `${relative}/${entry.name}`
    if (entry.isDirectory() && !SKIPPED_DIRS.has(entry.name)) yield * walk(join(dir, entry.name), path, signal)
    else if (entry.isFile()) yield { file: join(dir, entry.name), path }
  }
}

/** The text files of each input: a directory (walked, paths relative to it) or a file (its path as given). */
export async function * readTextFiles (inputs: readonly string[], options: TextFileOptions = {}): AsyncGenerator<FileOutcome> {
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES
  const maxFiles = options.maxFiles ?? DEFAULT_MAX_FILES
  if (!(maxFileBytes > 0) || !Number.isInteger(maxFiles) || maxFiles < 1) throw new CorpusOptionsError(`maxFileBytes and maxFiles must be positive (got ${maxFileBytes}, ${maxFiles})`)
  const included = includeMatcher(options.include)
  let taken = 0
  for (const input of inputs) {
    let isDir: boolean
    try {
      isDir = (await stat(input)).isDirectory()
    } catch (err) {
      throw new CorpusOptionsError(`cannot read ${input}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err, details: [input] })
    }
    const files = isDir ? walk(input, '', options.signal) : single(input)
    for await (const { file, path } of files) {
      if (!included(path)) { yield { path, skipped: 'not-included' }; continue }
      if (taken >= maxFiles) { yield { path, skipped: 'limit' }; continue }
      const read = await readText(file, maxFileBytes)
      if ('skipped' in read) { yield { path, skipped: read.skipped }; continue }
      taken++
      yield { path, text: read.text }
    }
  }
}

async function * single (file: string): AsyncGenerator<{ file: string, path: string }> {
  yield { file, path: normalize(file).split(sep).join('/').replace(/^\.\//, '') }
}
