import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { normalizeJsonSchema } from '../../models/grammar/index.js'
import {
  checkAlignment, commandRuntimes, FILES_SCHEMA, generatorMessages, parseGeneratedFiles, parseStaticFindings, staticCheckCommands,
  validateBuildSpec, type Checkpoint, type FileSet, type Finding, type Language,
} from '../../pipeline/core/index.js'

const spec = validateBuildSpec({
  specification: 'Write calc.py with add(a, b) returning the sum.',
  tests: { files: { 'test_calc.py': 'from calc import add\ndef test_add():\n    assert add(1, 2) == 3\n' }, command: ['python3', '-m', 'pytest', '-rfE'] },
  language: 'python',
  model: 'tiny',
  budget: { maxAttempts: 5, maxTokens: 100_000, maxWallMs: 600_000 },
  forbiddenPaths: ['setup.cfg'],
})

const base = (files: FileSet): Checkpoint => ({
  attempt: 2,
  files,
  tests: {
    runner: 'pytest', passed: 1, failed: 1, errored: 0, skipped: 0,
    failures: [{ name: 'test_calc.py::test_add', kind: 'failed', message: 'assert -1 == 3' }],
  },
  staticFindings: [{ tool: 'py_compile', file: 'calc.py', line: 4, message: 'SyntaxError: invalid syntax' }],
  review: [{ severity: 'error', line: 2, message: 'subtracts instead of adding' }],
  alignment: checkAlignment(spec, { 'test_calc.py': '' }),
  tokens: 100,
  wallMs: 1000,
  basedOn: 1,
})

describe('generatorMessages', () => {
  test('a system message with the format, a user message with the failures, findings, review and files', () => {
    const [system, user] = generatorMessages(spec, [{ source: 'docs/math.md', text: 'Sums are commutative.' }], base({ 'calc.py': 'def add(a, b):\n    return a - b\n' }), { reason: 'attempt 2 passed 1/2 tests: repairing it', dropped: [] })
    expect(system?.role).toBe('system')
    expect(system?.content).toContain('"files"')
    expect(system?.content).toContain('setup.cfg')
    expect(user?.role).toBe('user')
    for (const part of [spec.specification, 'test_calc.py::test_add', 'assert -1 == 3', 'SyntaxError', 'subtracts instead', 'return a - b', 'Sums are commutative', 'test_calc.py is a test file']) {
      expect(user?.content).toContain(part)
    }
    expect(user?.content).not.toContain('Left out')
  })

  test('without a base, the starting files are shown', () => {
    const withStart = { ...spec, files: { 'calc.py': '# start here\n' } }
    expect(generatorMessages(withStart, [], null, null)[1]?.content).toContain('# start here')
  })

  test('bounded: the least important parts go first, the failures stay, and the prompt says what was cut', () => {
    const big = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`mod${i}.py`, `x = ${i}\n`.repeat(500)]))
    const passages = Array.from({ length: 50 }, (_, i) => ({ source: `doc${i}`, text: 'context '.repeat(300) }))
    const user = generatorMessages(spec, passages, base(big), null, { maxChars: 20_000 })[1]?.content ?? ''
    expect(user.length).toBeLessThanOrEqual(20_000)
    expect(user).toContain('assert -1 == 3')
    expect(user).toContain(spec.specification)
    expect(user).not.toContain('[doc0]')
    expect(user).toMatch(/Left out or cut short to fit the prompt: .*retrieved passages/)
  })

  test('a huge specification is cut short rather than overflowing', () => {
    const long = { ...spec, specification: 'word '.repeat(20_000) }
    expect(generatorMessages(long, [], null, null, { maxChars: 10_000 })[1]?.content.length).toBeLessThanOrEqual(10_000)
  })
})

describe('the generator\'s answer', () => {
  test('FILES_SCHEMA is in the grammar subset', () => {
    expect(() => normalizeJsonSchema(FILES_SCHEMA)).not.toThrow()
  })

  test('parses files', () => {
    expect(parseGeneratedFiles(JSON.stringify({ files: [{ path: 'calc.py', content: 'x' }, { path: '__proto__', content: 'y' }] })))
      .toEqual(Object.fromEntries([['calc.py', 'x'], ['__proto__', 'y']]))
  })

  test.each([
    ['not JSON', '{"files": [', undefined],
    ['cut off', '{"files": [', 'length' as const],
    ['no list', '{"file": []}', undefined],
    ['null', 'null', undefined],
    ['a file without content', '{"files": [{"path": "a.py"}]}', undefined],
    ['a path twice', '{"files": [{"path": "a.py", "content": ""}, {"path": "a.py", "content": ""}]}', undefined],
  ])('%s is a GeneratedFilesError', (_name, text, finish) => {
    expect(() => parseGeneratedFiles(text, finish)).toThrow(expect.objectContaining({ name: 'GeneratedFilesError' }))
  })
})

// Copied from real runs of the commands staticCheckCommands gives (Python 3.11, Node 20) in a
// temporary folder, that folder's path replaced by the sandbox's /work.
const PY_COMPILE_STDERR = '\n### check calc.py\n  File "./calc.py", line 1\n    def add(a, b:\n           ^\nSyntaxError: \'(\' was never closed\n\n### check lib/tabs.py\nSorry: TabError: inconsistent use of tabs and spaces in indentation (tabs.py, line 3)\n### check ok.py\n\n### check pkg/util.py\nSorry: IndentationError: unexpected indent (util.py, line 2)'
const NODE_CHECK_STDERR = '\n### check esm.mjs\n/work/esm.mjs:2\nexport const z = x +;\n                    ^\n\nSyntaxError: Unexpected token \';\'\n    at checkSyntax (node:internal/main/check_syntax:74:5)\n\nNode.js v20.20.2\n\n### check fine.js\n\n### check index.js\n/work/index.js:3\n\n\n\nSyntaxError: Unexpected end of input\n    at wrapSafe (node:internal/modules/cjs/loader:1464:18)\n    at checkSyntax (node:internal/main/check_syntax:78:3)\n\nNode.js v20.20.2\n\n### check src/dup.js\n/work/src/dup.js:2\nlet x = 2;\n    ^\n\nSyntaxError: Identifier \'x\' has already been declared\n    at wrapSafe (node:internal/modules/cjs/loader:1464:18)\n    at checkSyntax (node:internal/main/check_syntax:78:3)\n\nNode.js v20.20.2\n'
const TSC_STDOUT = "calc.ts(1,7): error TS2322: Type 'string' is not assignable to type 'number'.\nsrc/calc.ts(2,20): error TS7006: Parameter 'x' implicitly has an 'any' type.\n"

const PY_FINDINGS: Finding[] = [
  { tool: 'py_compile', file: 'calc.py', line: 1, message: "SyntaxError: '(' was never closed" },
  { tool: 'py_compile', file: 'lib/tabs.py', line: 3, message: 'TabError: inconsistent use of tabs and spaces in indentation' },
  { tool: 'py_compile', file: 'pkg/util.py', line: 2, message: 'IndentationError: unexpected indent' },
]
const NODE_FINDINGS: Finding[] = [
  { tool: 'node --check', file: 'esm.mjs', line: 2, message: "SyntaxError: Unexpected token ';'" },
  { tool: 'node --check', file: 'index.js', line: 3, message: 'SyntaxError: Unexpected end of input' },
  { tool: 'node --check', file: 'src/dup.js', line: 2, message: "SyntaxError: Identifier 'x' has already been declared" },
]

const BROKEN: FileSet = {
  'calc.py': 'def add(a, b:\n    return a + b\n',
  'pkg/util.py': 'x = 1\n  y = 2\n',
  'ok.py': 'print("ok")\n',
  'lib/tabs.py': 'def g():\n\treturn 1\n        return 2\n',
  'index.js': 'const a = {\nfunction (\n',
  'src/dup.js': 'let x = 1;\nlet x = 2;\n',
  'esm.mjs': 'import x from "y"\nexport const z = x +;\n',
  'fine.js': 'module.exports = 1\n',
}

describe('static checks', () => {
  test('commands per language; TypeScript only with a tsc, and the plan says so', () => {
    expect(staticCheckCommands('python', BROKEN).checks.map(c => [c.tool, c.command.slice(4)]))
      .toEqual([['py_compile', ['calc.py', 'lib/tabs.py', 'ok.py', 'pkg/util.py']]])
    expect(staticCheckCommands('javascript', BROKEN).checks.map(c => [c.tool, c.command.slice(4)]))
      .toEqual([['node --check', ['esm.mjs', 'fine.js', 'index.js', 'src/dup.js']]])
    const ts = staticCheckCommands('typescript', ['a.ts'])
    expect(ts.checks).toEqual([])
    expect(ts.skipped.join(' ')).toContain('tsc')
    expect(staticCheckCommands('typescript', ['a.ts', 'tsconfig.json'], { tsc: ['tsc'] }).checks[0]?.command)
      .toEqual(['tsc', '--noEmit', '--pretty', 'false', '-p', 'tsconfig.json'])
    expect(staticCheckCommands('python', ['main.js']).skipped).toHaveLength(1)
  })

  test('each check and test command says which sandbox runtimes it needs', () => {
    expect(staticCheckCommands('python', ['a.py']).checks[0]?.runtimes).toEqual(['sh', 'python3'])
    expect(staticCheckCommands('javascript', ['a.js']).checks[0]?.runtimes).toEqual(['sh', 'node'])
    expect(staticCheckCommands('typescript', ['a.ts', 'b.js'], { tsc: ['node', '/opt/typescript/bin/tsc'] }).checks.map(c => [c.tool, c.runtimes]))
      .toEqual([['node --check', ['sh', 'node']], ['tsc', ['node', 'tsc']]])
    expect(commandRuntimes(['python3', '-m', 'pytest', '-q'])).toEqual(['pytest', 'python3'])
    expect(commandRuntimes(['/usr/bin/python3', 'run_tests.py'])).toEqual(['python3'])
    expect(commandRuntimes(['pytest', '-q'])).toEqual(['pytest'])
    expect(commandRuntimes(['node', '--test'])).toEqual(['node'])
    expect(commandRuntimes(['sh', '-c', 'make test'])).toEqual(['sh'])
    expect(commandRuntimes(['make', 'test'])).toEqual([])
    expect(commandRuntimes([])).toEqual([])
  })

  test.each<[string, Language, string, string, Finding[]]>([
    ['py_compile, looped with markers', 'python', '', PY_COMPILE_STDERR, PY_FINDINGS],
    ['node --check, looped with markers', 'javascript', '', NODE_CHECK_STDERR, NODE_FINDINGS],
    ['tsc', 'typescript', TSC_STDOUT, '', [
      { tool: 'tsc', file: 'calc.ts', line: 1, message: "TS2322: Type 'string' is not assignable to type 'number'." },
      { tool: 'tsc', file: 'src/calc.ts', line: 2, message: "TS7006: Parameter 'x' implicitly has an 'any' type." },
    ]],
    ['plain py_compile without markers', 'python', '', '  File "src/calc.py", line 7\n    x = (\n        ^\nSyntaxError: \'(\' was never closed\n', [
      { tool: 'py_compile', file: 'src/calc.py', line: 7, message: "SyntaxError: '(' was never closed" },
    ]],
    ['plain node --check without markers', 'javascript', '', '/work/lib/a.js:9\n}\n^\n\nSyntaxError: Unexpected token \'}\'\n', [
      { tool: 'node --check', file: 'lib/a.js', line: 9, message: "SyntaxError: Unexpected token '}'" },
    ]],
    ['nothing wrong', 'python', '', '\n### check ok.py\n', []],
  ])('%s', (_name, language, stdout, stderr, expected) => {
    expect(parseStaticFindings(language, stdout, stderr)).toEqual(expected)
  })

  const hasPython = spawnSync('python3', ['--version']).status === 0
  test.each<[Language, Finding[], boolean]>([
    ['python', PY_FINDINGS, hasPython],
    ['javascript', NODE_FINDINGS, true],
  ])('the %s commands, run here, give what the fixtures say', (language, expected, available) => {
    if (!available) return
    const dir = mkdtempSync(join(tmpdir(), 'gryphgen-static-'))
    try {
      for (const [path, content] of Object.entries(BROKEN)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true })
        writeFileSync(join(dir, path), content)
      }
      const [check] = staticCheckCommands(language, BROKEN).checks
      const [program = '', ...args] = check?.command ?? []
      const run = spawnSync(program, args, { cwd: dir, encoding: 'utf8' })
      expect(run.status).toBe(1)
      const findings = parseStaticFindings(language, run.stdout, run.stderr.replaceAll(`${dir}/`, '/work/'))
      expect(findings.map(f => [f.file, f.line])).toEqual(expected.map(f => [f.file, f.line]))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
