import { describe, expect, test } from 'vitest'
import { DEFAULT_ENV, DEFAULT_LIMITS, InvalidSandboxSpecError, LIMIT_BOUNDS, validateSpec } from '../../sandbox/index.js'
import { fileDirectoryConflicts, parentDirectories } from '../../sandbox/paths.js'
import { globMatcher, globProblem, pathProblem } from '../../protocols/index.js'
import { includeMatcher } from '../../pipeline/corpus/index.js'

function problemsOf (input: unknown): string[] {
  try {
    validateSpec(input)
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidSandboxSpecError)
    expect((err as Error).name).toBe('InvalidSandboxSpecError')
    return (err as InvalidSandboxSpecError).problems
  }
  throw new Error('expected an InvalidSandboxSpecError')
}

describe('submitted paths', () => {
  test.each([
    ['a.txt', null],
    ['dir/sub/file.py', null],
    ['.hidden', null],
    ['name with spaces/ü.txt', null],
    ['', 'is empty'],
    ['/etc/passwd', 'is absolute'],
    ['../escape', "has a '..' segment"],
    ['a/../../escape', "has a '..' segment"],
    ['a/..', "has a '..' segment"],
    ['./a', "has a '.' segment"],
    ['a//b', 'has an empty segment'],
    ['a/', 'has an empty segment'],
    ['a\0b', 'contains a NUL byte'],
    ['x'.repeat(256), 'has a segment longer than 255 bytes'],
    [`${'d/'.repeat(600)}f`, 'is longer than 1024 bytes'],
  ])('%j -> %s', (path, problem) => {
    expect(pathProblem(path)).toBe(problem)
  })

  test('a path used as a file and as a directory is a conflict (no way to plant a symlink or shadow a file)', () => {
    expect(fileDirectoryConflicts(['a', 'a/b', 'c/d', 'c/d/e/f', 'x/y'])).toEqual(['a', 'c/d'])
    expect(fileDirectoryConflicts(['a/b', 'a/c'])).toEqual([])
  })

  test('parent directories are listed parents first', () => {
    expect(parentDirectories(['a/b/c.txt', 'a/d.txt', 'e.txt', 'f/g'])).toEqual(['a', 'f', 'a/b'])
  })
})

describe('collect globs', () => {
  test.each([
    ['*.txt', 'out.txt', true],
    ['*.txt', 'dir/out.txt', false],
    ['*', '.hidden', true],
    ['?.py', 'a.py', true],
    ['?.py', 'ab.py', false],
    ['**', 'a/b/c', true],
    ['**/*.py', 'x.py', true],
    ['**/*.py', 'a/b/x.py', true],
    ['**/*.py', 'a/b/x.pyc', false],
    ['src/**', 'src/a/b.ts', true],
    ['src/**', 'other/a.ts', false],
    ['a/**/z', 'a/z', true],
    ['a/**/z', 'a/b/c/z', true],
    ['a/**/z', 'ab/z', false],
    ['a.b', 'axb', false],
    ['*.{py,ts}', 'x.ts', true],
    ['*.{py,ts}', 'x.js', false],
    ['[ab].txt', 'a.txt', true],
    ['[ab].txt', 'c.txt', false],
  ])('%s matches %s: %s', (glob, path, expected) => {
    expect(globMatcher([glob])(path)).toBe(expected)
  })

  // One matcher for every part (picomatch): before, the sandbox's and the corpus's globs
  // disagreed on `{a,b}`, and both took `[ab]` literally.
  test.each([
    ['*.{py,ts}', 'x.ts', true],
    ['[ab].txt', 'b.txt', true],
    ['src/**/*.py', 'src/a/b.py', true],
    ['src/**/*.py', 'lib/a.py', false],
  ])('the sandbox and a corpus agree: %s on %s is %s', (glob, path, expected) => {
    expect(globMatcher([glob])(path)).toBe(expected)
    expect(includeMatcher([glob])(path)).toBe(expected)
  })

  test.each([
    ['**/*.txt', null],
    ['/abs/*', 'is absolute'],
    ['../*', "has a '..' segment"],
    ['a**b', "uses '**' inside a segment"],
  ])('glob %j -> %s', (glob, problem) => {
    expect(globProblem(glob)).toBe(problem)
  })
})

describe('validateSpec', () => {
  test('a minimal spec gets every default', () => {
    const spec = validateSpec({ command: ['true'] })
    expect(spec.limits).toEqual(DEFAULT_LIMITS)
    expect(spec.env).toEqual(DEFAULT_ENV)
    expect(spec).toMatchObject({ files: [], collect: [], stdin: null, command: ['true'] })
    expect(Object.isFrozen(spec)).toBe(true)
    expect(Object.isFrozen(spec.limits)).toBe(true)
  })

  test('every default lies within its bounds', () => {
    for (const [name, bounds] of Object.entries(LIMIT_BOUNDS)) {
      expect(DEFAULT_LIMITS[name as keyof typeof DEFAULT_LIMITS]).toBe(bounds.default)
      expect(bounds.default).toBeGreaterThanOrEqual(bounds.min)
      expect(bounds.default).toBeLessThanOrEqual(bounds.max)
    }
  })

  test('limits given are merged over the defaults', () => {
    const spec = validateSpec({ command: ['true'], limits: { wallMs: 500, pids: 16 } })
    expect(spec.limits).toEqual({ ...DEFAULT_LIMITS, wallMs: 500, pids: 16 })
  })

  test('env is an allowlist on top of the defaults; a __proto__ name stays plain data', () => {
    const spec = validateSpec({ command: ['true'], env: JSON.parse('{"FOO":"bar","PATH":"/x","__proto__":"p"}') })
    expect(spec.env).toEqual({ ...DEFAULT_ENV, FOO: 'bar', PATH: '/x', ['__proto__']: 'p' })
    expect(Object.getPrototypeOf(spec.env)).toBe(Object.prototype)
  })

  test.each([
    ['not an object', 'x', 'spec is not an object'],
    ['missing command', {}, 'command must be a non-empty array of strings'],
    ['empty command', { command: [] }, 'command must be a non-empty array of strings'],
    ['non-string argument', { command: ['echo', 1] }, 'command must be a non-empty array of strings'],
    ['NUL in argv', { command: ['echo', 'a\0b'] }, 'command contains a NUL byte'],
    ['unknown field', { command: ['true'], cwd: '/' }, "unknown field 'cwd'"],
    ['unknown limit', { command: ['true'], limits: { gpus: 1 } }, "unknown limit 'gpus'"],
    ['limit too small', { command: ['true'], limits: { wallMs: 1 } }, 'limits.wallMs must be an integer from 100 to 3600000'],
    ['fractional limit', { command: ['true'], limits: { pids: 8.5 } }, 'limits.pids must be an integer from 8 to 4096'],
    ['absolute file path', { command: ['true'], files: { '/etc/cron.d/x': '' } }, 'file path "/etc/cron.d/x" is absolute'],
    ['dot-dot file path', { command: ['true'], files: { '../../x': '' } }, `file path "../../x" has a '..' segment`],
    ['file and directory', { command: ['true'], files: { a: '', 'a/b': '' } }, 'file path "a" is both a file and a directory'],
    ['non-string content', { command: ['true'], files: { a: 1 } }, 'file "a" content is not a string'],
    ['file above fileSizeMb', { command: ['true'], files: { a: 'x'.repeat(1024 * 1024 + 1) }, limits: { fileSizeMb: 1 } }, 'file "a" is larger than limits.fileSizeMb'],
    ['files above diskMb', { command: ['true'], files: { a: 'x'.repeat(600_000), b: 'x'.repeat(600_000) }, limits: { diskMb: 1 } }, 'files together are larger than limits.diskMb'],
    ['bad env name', { command: ['true'], env: { 'A-B': 'x' } }, 'env name "A-B" is not a valid name'],
    ['non-string env value', { command: ['true'], env: { A: 1 } }, 'env A must be a string without NUL'],
    ['stdin not a string', { command: ['true'], stdin: 5 }, 'stdin is not a string'],
    ['collect not an array', { command: ['true'], collect: '*' }, 'collect must be an array of glob strings'],
    ['collect escaping', { command: ['true'], collect: ['../**'] }, `collect glob "../**" has a '..' segment`],
  ])('%s is rejected', (_name, input, problem) => {
    expect(problemsOf(input)).toContain(problem)
  })

  test('every problem is reported at once', () => {
    const problems = problemsOf({ command: [], files: { '/a': '' }, limits: { wallMs: -1 }, env: { '1x': '' } })
    expect(problems).toHaveLength(4)
  })
})
