/**
 * The path and glob rules every spec that names files follows (a sandbox run's input files
 * and collect globs, a build's files and alignment rules, a corpus's include list). Paths are
 * relative to a workspace (the sandbox's /work), `/`-separated, and never climb out of it:
 * no absolute paths, no `.`/`..` or empty segments, no NUL. Globs are picomatch's, one
 * matcher for every part: `*` and `?` within a name (names starting with a dot too), `**`
 * any folders, `{a,b}` either, `[ab]` a class.
 */
import picomatch from 'picomatch'

const MAX_PATH_BYTES = 1024
const MAX_SEGMENT_BYTES = 255

/** Returns the problem with a relative path, or null when it is acceptable. */
export function pathProblem (path: string): string | null {
  if (path.length === 0) return 'is empty'
  if (path.includes('\0')) return 'contains a NUL byte'
  if (path.startsWith('/')) return 'is absolute'
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) return `is longer than ${MAX_PATH_BYTES} bytes`
  for (const segment of path.split('/')) {
    if (segment === '') return 'has an empty segment'
    if (segment === '.' || segment === '..') return `has a '${segment}' segment`
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) return `has a segment longer than ${MAX_SEGMENT_BYTES} bytes`
  }
  return null
}

/** The problem with a glob, or null: the path rules, except that wildcards are allowed. */
export function globProblem (glob: string): string | null {
  const problem = pathProblem(glob)
  if (problem !== null) return problem
  if (glob.split('/').some(segment => segment.includes('**') && segment !== '**')) return "uses '**' inside a segment"
  return null
}

export interface GlobOptions {
  /** A glob without a `/` matches a path's file name, wherever the file is (`*.py` matches `a/b.py`). */
  byName?: boolean
}

/** A predicate true for paths matched by any of the globs (none: nothing matches). */
export function globMatcher (globs: readonly string[], options: GlobOptions = {}): (path: string) => boolean {
  if (globs.length === 0) return () => false
  const tests = globs.map(glob => picomatch(glob, { dot: true, basename: options.byName === true && !glob.includes('/') }))
  return path => tests.some(test => test(path))
}
