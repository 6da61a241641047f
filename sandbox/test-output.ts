/**
 * Pure parsers for the output of the test runners the sandbox advertises: pytest (its summary
 * line and the default "short test summary info", `-rfE`) and `node --test` with the TAP
 * reporter (the default for a non-TTY on Node 20; pass `--test-reporter=tap` on newer Node).
 * They read what the runner printed and never fail: unknown lines are ignored, so output
 * cut short by a limit gives the counts seen so far.
 */

import type { TestFailure, TestReport, TestRunner } from '../protocols/index.js'

export type { TestFailure, TestReport, TestRunner }

const MAX_FAILURES = 200
const MAX_MESSAGE_CHARS = 2000

const clip = (message: string): string =>
  message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS)}…` : message

export function parseTestOutput (runner: TestRunner, output: string): TestReport {
  switch (runner) {
    case 'pytest': return parsePytestOutput(output)
    case 'node': return parseNodeTestOutput(output)
    default: return runner satisfies never
  }
}

const PYTEST_SUMMARY = /^=*\s*(.*?)\s+in [0-9.]+s\b.*?=*$/
const PYTEST_COUNT = /(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|warnings?|deselected)\b/g
const PYTEST_SHORT = /^(FAILED|ERROR) (.+?)(?: - (.*))?$/

export function parsePytestOutput (output: string): TestReport {
  const report: TestReport = { runner: 'pytest', passed: 0, failed: 0, errored: 0, skipped: 0, failures: [] }
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

interface TapPoint { ok: boolean, name: string, directive: string, yaml: Record<string, string> }

const TAP_POINT = /^( *)(not ok|ok) \d+(?: - (.*))?$/
const TAP_SUBTEST = /^( *)# Subtest: (.*)$/
const TAP_COUNT = /^# (pass|fail|cancelled|skipped|todo) (\d+)$/
const ERROR_TYPES = new Set(['hookFailed', 'uncaughtException', 'unhandledRejection', 'cancelledByParent'])

export function parseNodeTestOutput (output: string): TestReport {
  const lines = output.split(/\r?\n/)
  const counts = new Map<string, number>()
  const points: TapPoint[] = []
  const stack: string[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    const count = TAP_COUNT.exec(line)
    if (count !== null) { counts.set(count[1] ?? '', Number(count[2])); continue }
    const subtest = TAP_SUBTEST.exec(line)
    if (subtest !== null) {
      const level = (subtest[1] ?? '').length / 4
      stack.length = level
      stack[level] = unescapeTap(subtest[2] ?? '')
      continue
    }
    const point = TAP_POINT.exec(line)
    if (point === null) continue
    const indent = (point[1] ?? '').length
    const [title = '', directive = ''] = splitDirective(point[3] ?? '')
    const yaml = readYamlBlock(lines, i + 1, indent + 2)
    const parents = stack.slice(0, indent / 4)
    points.push({ ok: point[2] === 'ok', name: [...parents, unescapeTap(title)].join(' > '), directive, yaml })
  }
  const failures = points
    .filter(p => !p.ok && p.yaml.failureType !== 'subtestsFailed' && p.directive === '')
    .map((p): TestFailure => ({
      name: p.name,
      kind: ERROR_TYPES.has(p.yaml.failureType ?? '') ? 'error' : 'failed',
      message: clip(p.yaml.error ?? ''),
    }))
  const hookErrors = failures.filter(f => f.kind === 'error').length
  const leafPasses = points.filter(p => p.ok && p.directive === '' && p.yaml.type !== 'suite').length
  const report: TestReport = {
    runner: 'node',
    passed: counts.get('pass') ?? leafPasses,
    failed: (counts.get('fail') ?? failures.length) - hookErrors,
    errored: hookErrors + (counts.get('cancelled') ?? 0),
    skipped: counts.get('skipped') ?? points.filter(p => p.directive === 'SKIP').length,
    failures: failures.slice(0, MAX_FAILURES),
  }
  report.failed = Math.max(0, report.failed)
  return report
}

/** "name # SKIP reason" -> ["name", "SKIP"]; a `\#` in the name is not a directive. */
function splitDirective (text: string): [string, string] {
  const match = /^(.*?)(?<!\\) # (SKIP|TODO)\b.*$/i.exec(text)
  return match === null ? [text, ''] : [match[1] ?? '', (match[2] ?? '').toUpperCase()]
}

function unescapeTap (text: string): string {
  return text.replace(/\\([\\#])/g, '$1')
}

/** Reads the `---` ... `...` block that follows a test point: top-level scalar keys only. */
function readYamlBlock (lines: string[], start: number, indent: number): Record<string, string> {
  const pad = ' '.repeat(indent)
  const result: Record<string, string> = {}
  if (lines[start] !== `${pad}---`) return result
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] ?? ''
    if (line === `${pad}...`) break
    const entry = new RegExp(`^${pad}([A-Za-z_]+): ?(.*)$`).exec(line)
    if (entry === null) continue
    const [, key = '', raw = ''] = entry
    if (raw === '|-' || raw === '|' || raw === '>-') {
      const block: string[] = []
      for (let j = i + 1; j < lines.length && ((lines[j] ?? '').startsWith(`${pad}  `) || (lines[j] ?? '').trim() === ''); j++) {
        block.push((lines[j] ?? '').slice(indent + 2))
      }
      result[key] = block.join('\n').trimEnd()
    } else {
      result[key] = unquoteYaml(raw)
    }
  }
  return result
}

function unquoteYaml (raw: string): string {
  if (raw.startsWith("'") && raw.endsWith("'") && raw.length >= 2) return raw.slice(1, -1).replace(/''/g, "'")
  if (raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2) {
    try {
      return JSON.parse(raw) as string
    } catch {
      return raw.slice(1, -1)
    }
  }
  return raw
}
