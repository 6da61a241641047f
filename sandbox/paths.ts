/**
 * Pure checks on the paths a spec names (input files, collect globs) and the glob matcher
 * used to pick produced files. Paths are relative to the sandbox's /work, `/`-separated, and
 * may never climb out of it: no absolute paths, no `.`/`..` or empty segments, no NUL.
 * Input files are written by bubblewrap into a fresh tmpfs, so there is no symlink to follow;
 * a path that is both a file and the parent of another file is rejected.
 */

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

/** Paths that are used both as a file and as a directory of another file. */
export function fileDirectoryConflicts (paths: Iterable<string>): string[] {
  const files = new Set(paths)
  const conflicts = new Set<string>()
  for (const path of files) {
    const segments = path.split('/')
    for (let i = 1; i < segments.length; i++) {
      const parent = segments.slice(0, i).join('/')
      if (files.has(parent)) conflicts.add(parent)
    }
  }
  return [...conflicts].sort()
}

/** The directories to create, parents first, for a set of file paths. */
export function parentDirectories (paths: Iterable<string>): string[] {
  const dirs = new Set<string>()
  for (const path of paths) {
    const segments = path.split('/')
    for (let i = 1; i < segments.length; i++) dirs.add(segments.slice(0, i).join('/'))
  }
  return [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b))
}

/**
 * Compiles a glob: `*` matches within one segment, `?` one character of a segment, a `**`
 * segment any number of directories (including none). `*` also matches names starting with
 * a dot. Everything else is literal.
 */
export function globToRegExp (glob: string): RegExp {
  const segments = glob.split('/')
  let source = ''
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1
    if (segment === '**') {
      source += last ? '.*' : '(?:[^/]*/)*'
      return
    }
    for (const char of segment) {
      if (char === '*') source += '[^/]*'
      else if (char === '?') source += '[^/]'
      else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&')
    }
    if (!last) source += '/'
  })
  return new RegExp(`^${source}$`, 'u')
}

/** The problem with a collect glob, or null: the path rules, except that wildcards are allowed. */
export function globProblem (glob: string): string | null {
  const problem = pathProblem(glob)
  if (problem !== null) return problem
  if (glob.split('/').some(segment => segment.includes('**') && segment !== '**')) return "uses '**' inside a segment"
  return null
}

/** A predicate true for paths matched by any of the globs. */
export function globMatcher (globs: readonly string[]): (path: string) => boolean {
  const patterns = globs.map(globToRegExp)
  return path => patterns.some(pattern => pattern.test(path))
}
