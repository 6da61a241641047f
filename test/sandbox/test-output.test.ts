import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { parseNodeTestOutput, parsePytestOutput, parseTestOutput } from '../../sandbox/index.js'

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')

describe('pytest output', () => {
  test('mixed run: counts from the summary line, failures from the short summary', () => {
    expect(parsePytestOutput(fixture('pytest-mixed.txt'))).toEqual({
      runner: 'pytest',
      passed: 1,
      failed: 2,
      errored: 1,
      skipped: 1,
      failures: [
        { name: 'test_a.py::test_fail', kind: 'failed', message: 'AssertionError: one is not two' },
        { name: 'test_a.py::test_fail2', kind: 'failed', message: 'ValueError: bad value' },
        { name: 'test_a.py::test_err', kind: 'error', message: 'RuntimeError: fixture broke' },
      ],
    })
  })

  test('quiet mode (-q) gives the same report', () => {
    const { runner, ...quiet } = parsePytestOutput(fixture('pytest-quiet.txt'))
    const { runner: _r, ...full } = parsePytestOutput(fixture('pytest-mixed.txt'))
    expect(runner).toBe('pytest')
    expect(quiet).toEqual(full)
  })

  test('a collection error is an error without a test passing', () => {
    expect(parsePytestOutput(fixture('pytest-collection-error.txt'))).toMatchObject({
      passed: 0, failed: 0, errored: 1, failures: [{ name: 'test_bad.py', kind: 'error', message: '' }],
    })
  })

  test.each([
    ['all passed', fixture('pytest-pass.txt'), { passed: 1, failed: 0, errored: 0, skipped: 0 }],
    ['no tests', '============================ no tests ran in 0.01s =============================', { passed: 0, failed: 0, errored: 0 }],
    ['xfail and xpass', '== 1 passed, 1 xfailed, 1 xpassed, 2 warnings in 0.10s ==', { passed: 2, skipped: 1, failed: 0 }],
    ['plural errors', '= 3 errors in 1.00s =', { errored: 3 }],
    ['long run suffix', '==== 4 passed in 72.30s (0:01:12) ====', { passed: 4 }],
    ['cut short: counts from the short summary', 'FAILED t.py::a - boom\nERROR t.py::b', { failed: 1, errored: 1 }],
    ['no output', '', { passed: 0, failed: 0, errored: 0, skipped: 0, failures: [] }],
  ])('%s', (_name, output, expected) => {
    expect(parsePytestOutput(output)).toMatchObject(expected)
  })

  test('a node id with spaces keeps the first " - " as the separator', () => {
    expect(parsePytestOutput('FAILED t.py::test_x[a b] - AssertionError: x - y').failures)
      .toEqual([{ name: 't.py::test_x[a b]', kind: 'failed', message: 'AssertionError: x - y' }])
  })
})

describe('node --test (TAP) output', () => {
  test('mixed run: counts from the summary comments; nested names; hook failures are errors', () => {
    const report = parseNodeTestOutput(fixture('node-tap-mixed.txt'))
    expect(report).toMatchObject({ runner: 'node', passed: 2, failed: 4, errored: 1, skipped: 1 })
    expect(report.failures.map(f => [f.name, f.kind])).toEqual([
      ['fails', 'failed'],
      ['throws', 'failed'],
      ['suite > inner fail', 'failed'],
      ['hook > sub', 'error'],
      ['hook', 'failed'],
    ])
    expect(report.failures[0]?.message).toBe('math is broken\n\n2 !== 3')
    expect(report.failures[1]?.message).toBe('boom\nline two')
    expect(report.failures[3]?.message).toBe('hook broke')
  })

  test('several files, one of which does not load', () => {
    const report = parseNodeTestOutput(fixture('node-tap-files.txt'))
    expect(report).toMatchObject({ passed: 3, failed: 5, errored: 1 })
    expect(report.failures).toContainEqual({ name: '/work/c.test.mjs', kind: 'failed', message: 'test failed' })
  })

  test('output cut before the summary is counted from the test points', () => {
    const cut = [
      'TAP version 13', '# Subtest: a', 'ok 1 - a', '  ---', '  duration_ms: 1', '  ...',
      '# Subtest: b', 'not ok 2 - b', '  ---', "  failureType: 'testCodeFailure'", "  error: 'it''s broken'", '  ...',
      'ok 3 - c # SKIP', '',
    ].join('\n')
    expect(parseNodeTestOutput(cut)).toEqual({
      runner: 'node', passed: 1, failed: 1, errored: 0, skipped: 1,
      failures: [{ name: 'b', kind: 'failed', message: "it's broken" }],
    })
  })

  test('escaped # in a name is not a directive', () => {
    expect(parseNodeTestOutput('not ok 1 - issue \\# 12\n').failures).toEqual([{ name: 'issue # 12', kind: 'failed', message: '' }])
  })

  test('parseTestOutput dispatches on the runner', () => {
    expect(parseTestOutput('pytest', fixture('pytest-pass.txt')).runner).toBe('pytest')
    expect(parseTestOutput('node', fixture('node-tap-mixed.txt')).runner).toBe('node')
  })
})
