import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { parseNodeTestOutput, parsePytestOutput, parseTestOutput } from '../../sandbox/index.js'
import { parsePytestJunitXml } from '../../sandbox/test-output.js'

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

// Real pytest 7.2.1 output: `python3 -m pytest -p no:cacheprovider -q -rfE --junitxml=junit.xml` on
// tests/test_calc.py with a pass, a failing assert, an error in a fixture, a skip and a
// parametrized test in a class (one case passes, one fails).
const PYTEST_JUNIT_XML = `<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="1" failures="2" skipped="1" tests="6" time="0.059" timestamp="2026-12-07T09:46:49.840800" hostname="vm"><testcase classname="tests.test_calc" name="test_adds" time="0.001" /><testcase classname="tests.test_calc" name="test_breaks" time="0.001"><failure message="AssertionError: arithmetic&#10;assert (1 + 1) == 3">def test_breaks():
&gt;       assert 1 + 1 == 3, "arithmetic"
E       AssertionError: arithmetic
E       assert (1 + 1) == 3

tests/test_calc.py:7: AssertionError</failure></testcase><testcase classname="tests.test_calc" name="test_needs_fixture" time="0.001"><error message="failed on setup with &quot;RuntimeError: no fixture&quot;">@pytest.fixture
    def broken():
&gt;       raise RuntimeError("no fixture")
E       RuntimeError: no fixture

tests/test_calc.py:11: RuntimeError</error></testcase><testcase classname="tests.test_calc" name="test_later" time="0.000"><skipped type="pytest.skip" message="later">/tmp/jx4/tests/test_calc.py:16: later</skipped></testcase><testcase classname="tests.test_calc.TestGroup" name="test_one[1]" time="0.000" /><testcase classname="tests.test_calc.TestGroup" name="test_one[a b]" time="0.005"><failure message="AssertionError: assert 'a b' == 1">self = &lt;test_calc.TestGroup object at 0x7fd03946e2d0&gt;, x = 'a b'

    @pytest.mark.parametrize("x", [1, "a b"])
    def test_one(self, x):
&gt;       assert x == 1
E       AssertionError: assert 'a b' == 1

tests/test_calc.py:23: AssertionError</failure></testcase></testsuite></testsuites>`
const PYTEST_JUNIT_PRINTED = `.FEs.F                                                                   [100%]
==================================== ERRORS ====================================
_____________________ ERROR at setup of test_needs_fixture _____________________

    @pytest.fixture
    def broken():
>       raise RuntimeError("no fixture")
E       RuntimeError: no fixture

tests/test_calc.py:11: RuntimeError
=================================== FAILURES ===================================
_________________________________ test_breaks __________________________________

    def test_breaks():
>       assert 1 + 1 == 3, "arithmetic"
E       AssertionError: arithmetic
E       assert (1 + 1) == 3

tests/test_calc.py:7: AssertionError
___________________________ TestGroup.test_one[a b] ____________________________

self = <test_calc.TestGroup object at 0x7fd03946e2d0>, x = 'a b'

    @pytest.mark.parametrize("x", [1, "a b"])
    def test_one(self, x):
>       assert x == 1
E       AssertionError: assert 'a b' == 1

tests/test_calc.py:23: AssertionError
-------------------- generated xml file: /tmp/jx4/junit.xml --------------------
=========================== short test summary info ============================
FAILED tests/test_calc.py::test_breaks - AssertionError: arithmetic
FAILED tests/test_calc.py::TestGroup::test_one[a b] - AssertionError: assert ...
ERROR tests/test_calc.py::test_needs_fixture - RuntimeError: no fixture
2 failed, 2 passed, 1 skipped, 1 error in 0.05s
`
// A module that does not import: a collection error (pytest 7.2.1).
const PYTEST_JUNIT_COLLECTION_ERROR = `<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="1" failures="0" skipped="0" tests="1" time="0.072" timestamp="2026-12-07T09:45:38.706550" hostname="vm"><testcase classname="" name="test_bad" time="0.000"><error message="collection failure">ImportError while importing test module '/tmp/jx2/test_bad.py'.
Hint: make sure your test modules/packages have valid Python names.
Traceback:
/usr/lib/python3.11/importlib/__init__.py:126: in import_module
    return _bootstrap._gcd_import(name[level:], package, level)
test_bad.py:1: in &lt;module&gt;
    from add import add
E   ModuleNotFoundError: No module named 'add'</error></testcase></testsuite></testsuites>`
// A test that fails and then errors in teardown, one that passes and errors in teardown, xfail, xpass, skip inside (pytest 7.2.1).
const PYTEST_JUNIT_TEARDOWN = `<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="2" failures="1" skipped="2" tests="6" time="0.040" timestamp="2026-12-07T09:45:39.178979" hostname="vm"><testcase classname="test_more" name="test_td" time="0.001"><failure message="AssertionError: and call&#10;assert False">td = 1

&gt;   def test_td(td): assert False, "and call"
E   AssertionError: and call
E   assert False

test_more.py:6: AssertionError</failure></testcase><testcase classname="test_more" name="test_td" time="0.000"><error message="failed on teardown with &quot;ValueError: teardown broke&quot;">@pytest.fixture
    def td():
        yield 1
&gt;       raise ValueError("teardown broke")
E       ValueError: teardown broke

test_more.py:5: ValueError</error></testcase><testcase classname="test_more" name="test_td_pass" time="0.001"><error message="failed on teardown with &quot;ValueError: teardown broke&quot;">@pytest.fixture
    def td():
        yield 1
&gt;       raise ValueError("teardown broke")
E       ValueError: teardown broke

test_more.py:5: ValueError</error></testcase><testcase classname="test_more" name="test_xf" time="0.001"><skipped type="pytest.xfail" message="known" /></testcase><testcase classname="test_more" name="test_xp" time="0.000" /><testcase classname="test_more" name="test_skip_inside" time="0.000"><skipped type="pytest.skip" message="inside">/tmp/jx2/test_more.py:12: inside</skipped></testcase></testsuite></testsuites>`

const byName = (failures: Array<{ name: string, kind: string }>): string[] => failures.map(f => `${f.kind} ${f.name}`).sort()

describe('pytest JUnit XML report', () => {
  test('real report: counts from the test cases, failures by node id with pytest\'s whole message', () => {
    expect(parsePytestJunitXml(PYTEST_JUNIT_XML)).toEqual({
      runner: 'pytest', passed: 2, failed: 2, errored: 1, skipped: 1,
      failures: [
        { name: 'tests/test_calc.py::test_breaks', kind: 'failed', message: 'AssertionError: arithmetic\nassert (1 + 1) == 3' },
        { name: 'tests/test_calc.py::test_needs_fixture', kind: 'error', message: 'RuntimeError: no fixture' },
        { name: 'tests/test_calc.py::TestGroup::test_one[a b]', kind: 'failed', message: "AssertionError: assert 'a b' == 1" },
      ],
    })
  })

  test('the report and the printed output of the same run agree on counts and failing tests', () => {
    const { failures: fromXml, ...xmlCounts } = parsePytestJunitXml(PYTEST_JUNIT_XML, { paths: ['tests/test_calc.py'] }) ?? { failures: [] }
    const { failures: printed, ...printedCounts } = parsePytestOutput(PYTEST_JUNIT_PRINTED)
    expect(xmlCounts).toEqual(printedCounts)
    expect(byName(fromXml)).toEqual(byName(printed))
  })

  test('parseTestOutput reads the XML when given one with test cases, else the printed output', () => {
    const xml = parseTestOutput('pytest', PYTEST_JUNIT_PRINTED, { junitXml: PYTEST_JUNIT_XML })
    const printed = parsePytestOutput(PYTEST_JUNIT_PRINTED)
    // The terminal cut this message to its width; the XML has it whole.
    expect(printed.failures.find(f => f.name.includes('test_one'))?.message).toMatch(/\.\.\.$/)
    expect(xml.failures.find(f => f.name.includes('test_one'))?.message).toBe("AssertionError: assert 'a b' == 1")
    for (const junitXml of ['', 'not xml', '<testsuites><testsuite name="pytest" tests="0" /></testsuites>', '<html><body>no report</body></html>']) {
      expect(parseTestOutput('pytest', PYTEST_JUNIT_PRINTED, { junitXml })).toEqual(printed)
    }
    expect(parseTestOutput('pytest', PYTEST_JUNIT_PRINTED)).toEqual(printed)
    expect(parseTestOutput('node', fixture('node-tap-mixed.txt'), { junitXml: PYTEST_JUNIT_XML }).runner).toBe('node')
  })

  test.each([
    ['a collection error: the module is the name, the E lines the message', PYTEST_JUNIT_COLLECTION_ERROR, [],
      { passed: 0, failed: 0, errored: 1, skipped: 0, failures: [{ name: 'test_bad.py', kind: 'error', message: "ModuleNotFoundError: No module named 'add'" }] }],
    ['teardown errors are errors of their own; xfail is skipped, xpass passed', PYTEST_JUNIT_TEARDOWN, [],
      {
        passed: 1, failed: 1, errored: 2, skipped: 2,
        failures: [
          { name: 'test_more.py::test_td', kind: 'failed', message: 'AssertionError: and call\nassert False' },
          { name: 'test_more.py::test_td', kind: 'error', message: 'ValueError: teardown broke' },
          { name: 'test_more.py::test_td_pass', kind: 'error', message: 'ValueError: teardown broke' },
        ],
      }],
    ['xunit1: the file attribute names the module', '<testsuites><testsuite><testcase classname="pkg.test_x.TestA" name="test_y" file="pkg/test_x.py" line="3"><failure message="boom" /></testcase></testsuite></testsuites>', [],
      { failed: 1, failures: [{ name: 'pkg/test_x.py::TestA::test_y', kind: 'failed', message: 'boom' }] }],
    ['known paths tell a capitalized directory and module from a class', '<testsuite><testcase classname="Tests.Test_Mod.Inner" name="test_z"><failure message="m" /></testcase></testsuite>', ['Tests/Test_Mod.py'],
      { failed: 1, failures: [{ name: 'Tests/Test_Mod.py::Inner::test_z', kind: 'failed', message: 'm' }] }],
    ['without paths, trailing capitalized names are classes', '<testsuite><testcase classname="Tests.test_mod.TestA.TestB" name="test_z"><error message="e" /></testcase></testsuite>', [],
      { errored: 1, failures: [{ name: 'Tests/test_mod.py::TestA::TestB::test_z', kind: 'error', message: 'e' }] }],
    ['several suites, a bare <testsuite> root, entities and character references decoded', '<testsuites><testsuite><testcase classname="t" name="a" /></testsuite><testsuite><testcase classname="t" name="b[&lt;&amp;&#62;]"><failure message="x&#10;&#x79;&quot;&apos;" /></testcase></testsuite></testsuites>', [],
      { passed: 1, failed: 1, failures: [{ name: 't.py::b[<&>]', kind: 'failed', message: 'x\ny"\'' }] }],
  ])('%s', (_name, xml, paths, expected) => {
    expect(parsePytestJunitXml(xml, { paths })).toMatchObject(expected)
  })
})

describe('hostile or broken JUnit XML: never throws, reports what it can', () => {
  const entityBomb = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "${'x'.repeat(10_000)}">]><testsuite><testcase classname="t" name="${'&a;'.repeat(10_000)}"><failure message="&a;&a;" /></testcase></testsuite>`
  test.each([
    ['empty', ''],
    ['not XML', 'this is not XML at all < > &'],
    ['XML without a test suite', '<html><body>hello</body></html>'],
    ['cut inside a tag', PYTEST_JUNIT_XML.slice(0, 700)],
    ['binary', '\u0000\u0001\u0002\uFFFF'.repeat(1000)],
    ['nested very deep', `<testsuites><testsuite>${'<testcase>'.repeat(50_000)}`],
  ])('%s: no report', (_name, xml) => {
    expect(parsePytestJunitXml(xml)).toBeNull()
  })

  test.each([
    ['huge and nonsense counts are ignored: the test cases are counted',
      '<testsuites><testsuite tests="99999999999999999999" failures="1e308" errors="-5" skipped="NaN"><testcase classname="t" name="a" /><testcase classname="t" name="b"><skipped /></testcase></testsuite></testsuites>',
      { passed: 1, failed: 0, errored: 0, skipped: 1, failures: [] }],
    ['missing attributes: counted, named as far as known',
      '<testsuite><testcase /><testcase><failure /></testcase><testcase name="only_name"><error>E   ValueError: from the body</error></testcase></testsuite>',
      { passed: 1, failed: 1, errored: 1, failures: [{ name: '', kind: 'failed', message: '' }, { name: 'only_name.py', kind: 'error', message: 'ValueError: from the body' }] }],
    ['character references beyond Unicode', '<testsuite><testcase classname="t" name="x"><failure message="&#9999999;&#x10FFFF;&#99999999;" /></testcase></testsuite>',
      { failed: 1, failures: [{ name: 't.py::x', kind: 'failed', message: '\uFFFD\u{10FFFF}&#99999999;' }] }],
    ['a long message is clipped', `<testsuite><testcase classname="t" name="x"><failure message="${'m'.repeat(5000)}" /></testcase></testsuite>`,
      { failed: 1, failures: [{ name: 't.py::x', kind: 'failed', message: `${'m'.repeat(2000)}…` }] }],
    ['prototype keys are plain names', '<testsuite><testcase classname="__proto__" name="constructor"><failure message="toString" /></testcase></testsuite>',
      { failed: 1, failures: [{ name: '__proto__.py::constructor', kind: 'failed', message: 'toString' }] }],
  ])('%s', (_name, xml, expected) => {
    expect(parsePytestJunitXml(xml)).toMatchObject(expected)
  })

  test('a DOCTYPE\'s entities are not expanded (a small file cannot grow without bound)', () => {
    const report = parsePytestJunitXml(entityBomb)
    expect(JSON.stringify(report ?? {}).length).toBeLessThan(entityBomb.length)
  })

  test('many failures: all counted, the first 200 listed', () => {
    const xml = `<testsuite>${'<testcase classname="t" name="x"><failure message="m" /></testcase>'.repeat(1000)}</testsuite>`
    const report = parsePytestJunitXml(xml)
    expect(report?.failed).toBe(1000)
    expect(report?.failures).toHaveLength(200)
  })
})

describe('node --test TAP through tap-parser', () => {
  test('the same report as the sample runs, whatever follows on stderr', () => {
    for (const name of ['node-tap-mixed.txt', 'node-tap-files.txt']) {
      const output = fixture(name)
      expect(parseNodeTestOutput(`${output}\nnode:internal/process: warning\nnot TAP at all\n`)).toEqual(parseNodeTestOutput(output))
    }
  })

  test.each([
    ['no TAP', 'hello\nworld\n', { passed: 0, failed: 0, errored: 0, skipped: 0, failures: [] }],
    ['a failing TODO is not a failure', 'TAP version 13\nnot ok 1 - later # TODO not yet\nok 2 - now\n1..2\n', { passed: 1, failed: 0, failures: [] }],
    ['bail out keeps what came before', 'TAP version 13\nok 1 - a\nnot ok 2 - b\nBail out! stop\nok 3 - c\n', { passed: 1, failed: 1, failures: [{ name: 'b', kind: 'failed', message: '' }] }],
    ['nested names joined with " > "', '# Subtest: outer\n    # Subtest: mid\n        not ok 1 - leaf\n          ---\n          error: \'deep\'\n          ...\n        1..1\n    not ok 1 - mid\n      ---\n      failureType: \'subtestsFailed\'\n      ...\n    1..1\nnot ok 1 - outer\n  ---\n  failureType: \'subtestsFailed\'\n  ...\n1..1\n',
      { failed: 1, failures: [{ name: 'outer > mid > leaf', kind: 'failed', message: 'deep' }] }],
    ['unhandled rejection and cancelled are errors', 'not ok 1 - a\n  ---\n  failureType: \'unhandledRejection\'\n  error: 42\n  ...\n# pass 0\n# fail 1\n# cancelled 2\n',
      { failed: 0, errored: 3, failures: [{ name: 'a', kind: 'error', message: '42' }] }],
    ['broken YAML diagnostics', 'not ok 1 - a\n  ---\n  error: [unclosed\n  ...\n', { failed: 1, failures: [{ name: 'a', kind: 'failed', message: '' }] }],
  ])('%s', (_name, output, expected) => {
    expect(parseNodeTestOutput(output)).toMatchObject(expected)
  })
})
