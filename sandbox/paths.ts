/**
 * Pure checks on the paths a spec names (the rules themselves and the glob matcher are
 * protocols/paths.ts's). Input files are written by bubblewrap into a fresh tmpfs, so there
 * is no symlink to follow; a path that is both a file and the parent of another file is
 * rejected.
 */

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
