/**
 * Pure parsers for the reports of the test runners the sandbox advertises. None does I/O and
 * none throws: what they cannot read they skip, and a report cut short gives what was seen.
 *
 * - pytest: its JUnit XML report (`--junitxml`, read with fast-xml-parser) when the run wrote
 *   one that holds at least one test case (`parseTestOutput` chooses). pytest writes the XML only
 *   when the session ends, so a run killed by a limit, a command that never ran pytest, or an
 *   XML too large to come back has none: then the printed output is read (the summary line and
 *   the `-rfE` short summary), which gives the counts seen so far. Counts in the XML come from
 *   its test cases, never from the suite's attributes; a test that passed and then failed in
 *   teardown counts as errored (pytest's XML has no passed entry for it).
 * - `node --test` with the TAP reporter (the default for a non-TTY on Node 20; pass
 *   `--test-reporter=tap` on newer Node), read with tap-parser. Counts come from the summary
 *   comments node prints, else from the test points of every level (tap-parser's final results
 *   count the top level only).
 */
import { XMLParser } from 'fast-xml-parser'
import { Parser as TapParser, type Result as TapResult } from 'tap-parser'
import type { TestFailure, TestReport, TestRunner } from '../protocols/index.js'

export type { TestFailure, TestReport, TestRunner }

const MAX_FAILURES = 200
const MAX_MESSAGE_CHARS = 2000

const clip = (message: string): string =>
  message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS)}…` : message

const emptyReport = (runner: TestRunner): TestReport => ({ runner, passed: 0, failed: 0, errored: 0, skipped: 0, failures: [] })

/** What else a run left to read besides its printed output. */
export interface TestRunFiles {
  /** pytest's JUnit XML report, when it came back. */
  junitXml?: string
  /** The paths of the run's files (relative to /work), to tell a module from a class in pytest's dotted names. */
  paths?: Iterable<string>
}

/** The report of one run: from pytest's JUnit XML when given and it holds a test case, else from what the runner printed (stdout and stderr). */
export function parseTestOutput (runner: TestRunner, output: string, files: TestRunFiles = {}): TestReport {
  switch (runner) {
    case 'pytest': {
      const report = files.junitXml === undefined ? null : parsePytestJunitXml(files.junitXml, { paths: files.paths })
      return report !== null && report.passed + report.failed + report.errored + report.skipped > 0 ? report : parsePytestOutput(output)
    }
    case 'node': return parseNodeTestOutput(output)
    default: return runner satisfies never
  }
}

const PYTEST_SUMMARY = /^=*\s*(.*?)\s+in [0-9.]+s\b.*?=*$/
const PYTEST_COUNT = /(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|warnings?|deselected)\b/g
const PYTEST_SHORT = /^(FAILED|ERROR) (.+?)(?: - (.*))?$/

export function parsePytestOutput (output: string): TestReport {
  const report = emptyReport('pytest')
  let summarySeen = false
  for (const line of output.split(/\r?\n/)) {
    const short = PYTEST_SHORT.exec(line)
    if (short !== null) {
      if (report.failures.length < MAX_FAILURES) {
        report.failures.push({
          name: short[2] ?? '',
          kind: short[1] === 'ERROR' ? 'error' : 'failed',
          message: clip(short[3] ?? ''),
        })
      }
      continue
    }
    const summary = PYTEST_SUMMARY.exec(line)
    if (summary === null || !/\d+ \w+|no tests ran/.test(summary[1] ?? '')) continue
    summarySeen = true
    report.passed = report.failed = report.errored = report.skipped = 0
    for (const [, count, word] of (summary[1] ?? '').matchAll(PYTEST_COUNT)) {
      const n = Number(count)
      if (word === 'passed' || word === 'xpassed') report.passed += n
      else if (word === 'failed') report.failed += n
      else if (word === 'error' || word === 'errors') report.errored += n
      else if (word === 'skipped' || word === 'xfailed') report.skipped += n
    }
  }
  if (!summarySeen) {
    report.failed = report.failures.filter(f => f.kind === 'failed').length
    report.errored = report.failures.filter(f => f.kind === 'error').length
  }
  return report
}

type XmlNode = Record<string, unknown>

const REPORT_TAGS = new Set(['testsuites', 'testsuite', 'testcase', 'failure', 'error', 'skipped'])
// Entities are decoded here, not by the parser: it would expand a DOCTYPE's own entities (a
// small file can grow without bound) and throw on a character reference beyond Unicode.
const junitParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  alwaysCreateTextNode: true,
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (name, _path, _leaf, isAttribute) => !isAttribute && REPORT_TAGS.has(name),
})

/**
 * pytest's JUnit XML report (`--junitxml`, xunit2 or xunit1) as a TestReport; null when the
 * text is no such report (not XML, or no <testsuite>). Failures are named by pytest's node id
 * (`tests/test_a.py::TestGroup::test_x[1]`), rebuilt from the dotted classname with `paths`
 * where given. Their message is pytest's (the exception and its first lines), or for a
 * collection error the `E` lines of its traceback.
 */
export function parsePytestJunitXml (xml: string, options: { paths?: Iterable<string> } = {}): TestReport | null {
  let document: unknown
  try {
    document = junitParser.parse(xml)
  } catch {
    return null // not XML it can read, or nested too deep to build
  }
  const root = isNode(document) ? document : {}
  const suites = [...nodes(root.testsuite), ...nodes(root.testsuites).flatMap(s => nodes(s.testsuite))]
  if (suites.length === 0) return null
  const paths = new Set(options.paths ?? [])
  const report = emptyReport('pytest')
  const record = (kind: TestFailure['kind'], name: string, element: XmlNode): void => {
    if (kind === 'failed') report.failed++
    else report.errored++
    if (report.failures.length < MAX_FAILURES) report.failures.push({ name, kind, message: clip(junitMessage(element)) })
  }
  for (const testcase of suites.flatMap(s => nodes(s.testcase))) {
    const [failure] = nodes(testcase.failure)
    const [error] = nodes(testcase.error)
    if (failure === undefined && error === undefined) {
      if (nodes(testcase.skipped).length > 0) report.skipped++
      else report.passed++
      continue
    }
    const name = pytestNodeId(attribute(testcase, 'classname'), attribute(testcase, 'name'), attribute(testcase, 'file'), paths)
    if (failure !== undefined) record('failed', name, failure)
    if (error !== undefined) record('error', name, error)
  }
  return report
}

const isNode = (value: unknown): value is XmlNode => typeof value === 'object' && value !== null && !Array.isArray(value)

/** The elements of one tag: an empty element without attributes is parsed as a string. */
function nodes (value: unknown): XmlNode[] {
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value]
  return items.flatMap(item => isNode(item) ? [item] : typeof item === 'string' ? [{ '#text': item }] : [])
}

function attribute (node: XmlNode, name: string): string {
  const value = node[`@_${name}`]
  return typeof value === 'string' ? decodeXml(value) : ''
}

const XML_ENTITY = /&(?:(lt|gt|amp|quot|apos)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));/g
const NAMED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }

function decodeXml (text: string): string {
  return text.replace(XML_ENTITY, (_whole, named?: string, decimal?: string, hex?: string) => {
    if (named !== undefined) return NAMED_ENTITIES[named] ?? ''
    const code = decimal !== undefined ? Number.parseInt(decimal, 10) : Number.parseInt(hex ?? '', 16)
    return code <= 0x10FFFF ? String.fromCodePoint(code) : '\uFFFD'
  })
}

/** pytest wraps a setup or teardown error's message; a collection error has none of its own. */
const WRAPPED_MESSAGE = /^failed on (?:setup|teardown|call) with "([\s\S]*)"$/

function junitMessage (element: XmlNode): string {
  const message = attribute(element, 'message')
  const wrapped = WRAPPED_MESSAGE.exec(message)
  if (wrapped !== null) return wrapped[1] ?? ''
  if (message !== '' && message !== 'collection failure') return message
  const body = typeof element['#text'] === 'string' ? decodeXml(element['#text']) : ''
  return lastErrorLines(body) ?? message
}

/** The last block of a pytest traceback's `E   ` lines, without the marker. */
function lastErrorLines (traceback: string): string | undefined {
  const lines = traceback.split(/\r?\n/)
  const end = lines.findLastIndex(line => /^E\s/.test(line))
  if (end === -1) return undefined
  let start = end
  while (start > 0 && /^E\s/.test(lines[start - 1] ?? '')) start--
  return lines.slice(start, end + 1).map(line => line.replace(/^E\s{1,3}/, '')).join('\n')
}

/**
 * The node id pytest prints (`dir/test_a.py::Class::test[param]`) from a JUnit test case:
 * `classname` is the module's dotted path then the classes; the module ends where a known
 * path does, else before the trailing names that start with a capital (pytest's `Test*`).
 */
function pytestNodeId (classname: string, name: string, file: string, paths: ReadonlySet<string>): string {
  if (classname === '') return name === '' ? '' : `${name.replaceAll('.', '/')}.py` // a module that failed to collect
  const parts = classname.split('.')
  let moduleParts = file === '' ? 0 : file.replace(/\.py$/, '').split('/').length
  for (let k = parts.length; moduleParts === 0 && k > 0; k--) {
    if (paths.has(`${parts.slice(0, k).join('/')}.py`)) moduleParts = k
  }
  if (moduleParts === 0) {
    moduleParts = parts.length
    while (moduleParts > 1 && /^[A-Z]/.test(parts[moduleParts - 1] ?? '')) moduleParts--
  }
  const module = file !== '' ? file : `${parts.slice(0, moduleParts).join('/')}.py`
  return [module, ...parts.slice(moduleParts), ...(name === '' ? [] : [name])].join('::')
}

const TAP_COUNT = /^# (pass|fail|cancelled|skipped|todo) (\d+)\s*$/
const ERROR_TYPES = new Set(['hookFailed', 'uncaughtException', 'unhandledRejection', 'cancelledByParent'])

export function parseNodeTestOutput (output: string): TestReport {
  const counts = new Map<string, number>()
  const points: TapResult[] = []
  const parser = new TapParser()
  const listen = (level: TapParser): void => {
    level.on('assert', (result: TapResult) => { points.push(result) })
    level.on('child', listen)
    level.on('error', () => { /* what was read so far stands */ })
  }
  listen(parser)
  parser.on('comment', (line: string) => {
    const count = TAP_COUNT.exec(line)
    if (count !== null) counts.set(count[1] ?? '', Number(count[2]))
  })
  try {
    parser.end(output)
  } catch {
    // A stream tap-parser cannot finish: the test points seen so far are the report.
  }
  const directive = (p: TapResult): boolean => p.skip !== false || p.todo !== false
  const failures = points
    .filter(p => !p.ok && !directive(p) && diagnostic(p, 'failureType') !== 'subtestsFailed')
    .map((p): TestFailure => ({
      name: p.fullname,
      kind: ERROR_TYPES.has(diagnostic(p, 'failureType')) ? 'error' : 'failed',
      message: clip(diagnostic(p, 'error')),
    }))
  const hookErrors = failures.filter(f => f.kind === 'error').length
  const leafPasses = points.filter(p => p.ok && !directive(p) && diagnostic(p, 'type') !== 'suite').length
  return {
    runner: 'node',
    passed: counts.get('pass') ?? leafPasses,
    failed: Math.max(0, (counts.get('fail') ?? failures.length) - hookErrors),
    errored: hookErrors + (counts.get('cancelled') ?? 0),
    skipped: counts.get('skipped') ?? points.filter(p => p.skip !== false).length,
    failures: failures.slice(0, MAX_FAILURES),
  }
}

/** One key of a test point's YAML diagnostics as text ('' when absent). */
function diagnostic (point: TapResult, key: string): string {
  const diag: unknown = point.diag
  const value = isNode(diag) ? diag[key] : undefined
  if (value === undefined || value === null) return ''
  if (typeof value === 'string') return value
  try {
    return JSON.stringify(value) ?? ''
  } catch {
    return ''
  }
}
