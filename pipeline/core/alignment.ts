/**
 * The task monitor's rules for generated files: they stay inside the sandbox's /work (the
 * sandbox's own path rule: relative, no `.`/`..` or empty segments), leave the test files and
 * the forbidden paths alone, and stay within size bounds. Every broken rule is reported, one
 * violation each; an attempt with any violation can never be done, whatever its tests say.
 * Pure.
 */
import { globMatcher, pathProblem } from '../../protocols/index.js'
import type { AlignmentViolation, BuildSpec, FileSet } from './types.js'

export const FILE_LIMITS = Object.freeze({ maxFiles: 64, maxFileBytes: 256 * 1024 })

const WILDCARD = /[*?]/

/** A predicate true for paths under any forbidden prefix or matched by any forbidden glob. */
export function forbiddenMatcher (patterns: readonly string[]): (path: string) => boolean {
  const globs = globMatcher(patterns.filter(p => WILDCARD.test(p)))
  const prefixes = patterns.filter(p => !WILDCARD.test(p)).map(p => p.replace(/\/+$/, ''))
  return path => globs(path) || prefixes.some(prefix => path === prefix || path.startsWith(`${prefix}/`))
}

/**
 * Every rule the generated files break; empty when they keep to all of them. `files` is what
 * the generator wrote, not the merged solution: starting files may lie on forbidden paths.
 */
export function checkAlignment (spec: Pick<BuildSpec, 'tests' | 'forbiddenPaths'>, files: Readonly<FileSet>): AlignmentViolation[] {
  const paths = Object.keys(files)
  if (paths.length === 0) return [{ rule: 'no-files', message: 'no files were generated' }]
  const violations: AlignmentViolation[] = []
  if (paths.length > FILE_LIMITS.maxFiles) {
    violations.push({ rule: 'too-many-files', message: `${paths.length} files, more than ${FILE_LIMITS.maxFiles}` })
  }
  const forbidden = forbiddenMatcher(spec.forbiddenPaths ?? [])
  for (const path of paths) {
    const unsafe = pathProblem(path)
    const bytes = Buffer.byteLength(files[path] ?? '')
    if (unsafe !== null) violations.push({ rule: 'unsafe-path', path, message: `the path ${JSON.stringify(path)} ${unsafe}` })
    else if (Object.hasOwn(spec.tests.files, path)) violations.push({ rule: 'test-file', path, message: `${path} is a test file` })
    else if (forbidden(path)) violations.push({ rule: 'forbidden-path', path, message: `${path} is a forbidden path` })
    if (bytes > FILE_LIMITS.maxFileBytes) {
      violations.push({ rule: 'file-too-large', path, message: `${path} has ${bytes} bytes, more than ${FILE_LIMITS.maxFileBytes}` })
    }
  }
  return violations
}
