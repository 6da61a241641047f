import { describe, expect, test } from 'vitest'
import {
  applyGeneratedFiles, bestCheckpoint, checkAlignment, compareScores, decideNext, score, validateBuildSpec,
  type AlignmentRule, type BuildSpec, type Checkpoint, type Decision, type FileSet, type LastStepFailure, type Usage,
} from '../../pipeline/core/index.js'

const spec = validateBuildSpec({
  specification: 'add(a, b) returns the sum of a and b',
  files: { 'calc.py': 'def add(a, b):\n    pass\n' },
  tests: { files: { 'test_calc.py': 'from calc import add\n' }, command: ['python3', '-m', 'pytest', '-rfE'] },
  language: 'python',
  model: 'tiny',
  budget: { maxAttempts: 5, maxTokens: 100_000, maxWallMs: 600_000 },
  forbiddenPaths: ['config/', '*.lock'],
})

interface Outcome {
  passed?: number
  failed?: number
  /** false: the tests could not run. */
  ran?: boolean
  files?: FileSet
  findings?: number
  reviewErrors?: number
  tokens?: number
}

function checkpoint (attempt: number, o: Outcome, basedOn: number | null = null, base: FileSet = {}): Checkpoint {
  const generated = o.files ?? { 'calc.py': `# attempt ${attempt}\n` }
  const failed = o.failed ?? 0
  return {
    attempt,
    files: applyGeneratedFiles(base, generated),
    tests: o.ran === false
      ? null
      : { runner: 'pytest', passed: o.passed ?? 0, failed, errored: 0, skipped: 0, failures: Array.from({ length: failed }, (_, i) => ({ name: `test_calc.py::test_${i}`, kind: 'failed' as const, message: 'AssertionError' })) },
    staticFindings: Array.from({ length: o.findings ?? 0 }, () => ({ tool: 'py_compile' as const, file: 'calc.py', line: 1, message: 'SyntaxError: invalid syntax' })),
    review: Array.from({ length: o.reviewErrors ?? 0 }, () => ({ severity: 'error' as const, line: 1, message: 'wrong' })),
    alignment: checkAlignment(spec, generated),
    tokens: o.tokens ?? 1000,
    wallMs: 10_000,
    basedOn,
  }
}

/** The loop with a scripted generator: each attempt's outcome in turn, until done or give-up. */
function runScripted (buildSpec: BuildSpec, script: Outcome[]): { decisions: Decision[], history: Checkpoint[] } {
  const history: Checkpoint[] = []
  const usage: Usage = { attempts: 0, tokens: 0, elapsedMs: 0 }
  const decisions = [decideNext(buildSpec, history, usage)]
  for (const outcome of script) {
    const decision = decisions.at(-1) as Decision
    if (decision.action === 'done' || decision.action === 'give-up') break
    const base = history.find(c => c.attempt === decision.from)?.files ?? buildSpec.files ?? {}
    const next = checkpoint(history.length + 1, outcome, decision.from, base)
    history.push(next)
    usage.attempts++
    usage.tokens += next.tokens
    usage.elapsedMs += next.wallMs
    decisions.push(decideNext(buildSpec, history, usage))
  }
  return { decisions, history }
}

const steps = (decisions: Decision[]): Array<[string, number | null]> => decisions.map(d => [d.action, d.from])

describe('decideNext with a scripted generator', () => {
  test.each<[string, Outcome[], Array<[string, number | null]>]>([
    ['right at once', [{ passed: 3 }], [['repair', null], ['done', 1]]],
    ['a wrong attempt, then a right one: repair, then done', [{ passed: 1, failed: 2 }, { passed: 3 }], [['repair', null], ['repair', 1], ['done', 2]]],
    ['a regressing attempt is reverted to the best checkpoint', [{ passed: 2, failed: 3 }, { passed: 4, failed: 1 }, { passed: 1, failed: 4 }, { passed: 5 }],
      [['repair', null], ['repair', 1], ['repair', 2], ['revert', 2], ['done', 4]]],
    ['tests that could not run are worse than tests that ran and failed', [{ passed: 0, failed: 3 }, { ran: false }],
      [['repair', null], ['repair', 1], ['revert', 1]]],
    ['as many tests passed but more static findings: revert', [{ passed: 2, failed: 1 }, { passed: 2, failed: 1, findings: 2 }],
      [['repair', null], ['repair', 1], ['revert', 1]]],
    ['as good as the best: repair from the latest', [{ passed: 2, failed: 1 }, { passed: 2, failed: 1 }], [['repair', null], ['repair', 1], ['repair', 2]]],
    ['green tests writing a test file are not done', [{ passed: 3, files: { 'test_calc.py': 'pass\n' } }, { passed: 3 }],
      [['repair', null], ['repair', 1], ['done', 2]]],
  ])('%s', (_name, script, expected) => {
    expect(steps(runScripted(spec, script).decisions)).toEqual(expected)
  })

  test('the reverted attempt starts from the best checkpoint and carries the dropped one as feedback', () => {
    const { decisions, history } = runScripted(spec, [{ passed: 2, failed: 3 }, { passed: 4, failed: 1 }, { passed: 1, failed: 4 }, { passed: 5 }])
    const revert = decisions[3] as Decision
    expect(revert.reason).toContain('1/5')
    expect(revert.reason).toContain('4/5')
    expect(revert.feedback?.dropped).toHaveLength(1)
    expect(history[3]?.basedOn).toBe(2)
  })

  test('an aligned checkpoint beats a later one that broke a rule, whatever its tests', () => {
    const history = [checkpoint(1, { passed: 1, failed: 2 }), checkpoint(2, { passed: 3, files: { 'config/app.json': '{}' } }, 1)]
    expect(decideNext(spec, history, { attempts: 2, tokens: 0, elapsedMs: 0 })).toMatchObject({ action: 'revert', from: 1 })
  })

  test('done names the best green checkpoint', () => {
    const history = [checkpoint(1, { passed: 3 }), checkpoint(2, { passed: 3, findings: 1 }, 1)]
    expect(decideNext(spec, history, { attempts: 2, tokens: 0, elapsedMs: 0 })).toMatchObject({ action: 'done', from: 1 })
  })
})

describe('budgets', () => {
  const history = [checkpoint(1, { passed: 1, failed: 2 }), checkpoint(2, { passed: 2, failed: 1 }, 1), checkpoint(3, { passed: 0, failed: 3 }, 2)]
  test.each<[string, Usage, string[], string]>([
    ['attempts', { attempts: 5, tokens: 10, elapsedMs: 10 }, ['attempts'], '5 of 5'],
    ['tokens', { attempts: 3, tokens: 100_000, elapsedMs: 10 }, ['tokens'], '100000 of 100000'],
    ['wall time', { attempts: 3, tokens: 10, elapsedMs: 600_001 }, ['wallMs'], '600001 of 600000'],
    ['all of them', { attempts: 6, tokens: 200_000, elapsedMs: 700_000 }, ['attempts', 'tokens', 'wallMs'], '700000 of 600000'],
  ])('%s spent: give up with the best checkpoint', (_name, usage, spent, figures) => {
    const decision = decideNext(spec, history, usage)
    expect(decision).toMatchObject({ action: 'give-up', from: 2, spent })
    expect(decision.reason).toContain(figures)
  })

  test('a scripted job that never passes gives up when its attempts are spent', () => {
    const { decisions } = runScripted(spec, Array.from({ length: 9 }, () => ({ passed: 1, failed: 2 })))
    expect(decisions.at(-1)).toMatchObject({ action: 'give-up', from: 1, spent: ['attempts'] })
    expect(decisions).toHaveLength(6)
  })

  test('a green checkpoint is done even with the budget spent', () => {
    expect(decideNext(spec, [checkpoint(1, { passed: 3 })], { attempts: 9, tokens: 1e9, elapsedMs: 1e9 }).action).toBe('done')
  })

  test('with no checkpoint, give-up delivers none', () => {
    expect(decideNext(spec, [], { attempts: 0, tokens: 0, elapsedMs: 700_000 })).toMatchObject({ action: 'give-up', from: null })
  })
})

describe('step failures', () => {
  const history = [checkpoint(1, { passed: 1, failed: 2 })]
  const usage: Usage = { attempts: 2, tokens: 2000, elapsedMs: 20_000 }
  const lost = (retries: number, node: string, excluded: string[] = []): LastStepFailure =>
    ({ step: 'test', failed: true, node, error: { name: 'WorkerLostError', message: 'the worker exited' }, retries, excluded })

  test('an infrastructure failure is retried elsewhere, then given up after maxStepRetries', () => {
    const first = decideNext(spec, history, usage, lost(0, 'peerA'))
    expect(first).toMatchObject({ action: 'retry-step', exclude: ['peerA'] })
    expect(first.reason).toContain('peerA')
    expect(decideNext(spec, history, usage, lost(1, 'peerB', ['peerA']))).toMatchObject({ action: 'retry-step', exclude: ['peerA', 'peerB'] })
    expect(decideNext(spec, history, usage, lost(2, 'peerC', ['peerA', 'peerB']))).toMatchObject({ action: 'give-up', from: 1, spent: ['stepRetries'] })
  })

  test('the attempt budget does not stop a step of the attempt in progress', () => {
    expect(decideNext(spec, history, { ...usage, attempts: 5 }, lost(0, 'peerA')).action).toBe('retry-step')
  })

  test('a spent token budget does', () => {
    expect(decideNext(spec, history, { ...usage, tokens: 100_000 }, lost(0, 'peerA'))).toMatchObject({ action: 'give-up', spent: ['tokens'] })
  })

  test('a failure of the work itself is not retried: the attempt is repaired', () => {
    const bad: LastStepFailure = { step: 'generate', failed: true, node: 'peerA', error: { name: 'GeneratedFilesError', message: 'not JSON' }, retries: 0 }
    expect(decideNext(spec, history, usage, bad)).toMatchObject({ action: 'repair', from: 1 })
    expect(decideNext(spec, history, usage, { ...bad, infrastructure: true }).action).toBe('retry-step')
  })
})

describe('score', () => {
  test('alignment first, then tests run, passed, fewer findings, fewer review errors', () => {
    const ordered = [
      checkpoint(1, { passed: 9, files: { '/etc/passwd': 'x' } }),
      checkpoint(2, { ran: false }),
      checkpoint(3, { passed: 1, failed: 4 }),
      checkpoint(4, { passed: 2, failed: 3, findings: 1, reviewErrors: 1 }),
      checkpoint(5, { passed: 2, failed: 3, reviewErrors: 2 }),
      checkpoint(6, { passed: 2, failed: 3, reviewErrors: 1 }),
    ]
    for (let i = 1; i < ordered.length; i++) {
      expect(compareScores(score(ordered[i] as Checkpoint), score(ordered[i - 1] as Checkpoint))).toBeGreaterThan(0)
    }
    expect(bestCheckpoint(ordered.toReversed())?.attempt).toBe(6)
    expect(bestCheckpoint([])).toBeNull()
  })

  test('the earliest of equal checkpoints is the best', () => {
    expect(bestCheckpoint([checkpoint(2, { passed: 2 }), checkpoint(1, { passed: 2 })])?.attempt).toBe(1)
  })
})

describe('checkAlignment', () => {
  test.each<[string, FileSet, AlignmentRule[]]>([
    ['clean', { 'calc.py': 'x' }, []],
    ['nothing generated', {}, ['no-files']],
    ['a test file', { 'test_calc.py': 'x' }, ['test-file']],
    ['a forbidden prefix', { 'config/app.json': '{}' }, ['forbidden-path']],
    ['the forbidden prefix itself', { config: '' }, ['forbidden-path']],
    ['a forbidden glob', { 'poetry.lock': '' }, ['forbidden-path']],
    ['a prefix is not a name prefix', { 'configure.py': '' }, []],
    ['..', { '../escape.py': 'x' }, ['unsafe-path']],
    ['.. inside', { 'a/../../b.py': 'x' }, ['unsafe-path']],
    ['absolute', { '/etc/passwd': 'x' }, ['unsafe-path']],
    ['too large', { 'big.py': 'x'.repeat(256 * 1024 + 1) }, ['file-too-large']],
    ['too many', Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`m${i}.py`, ''])), ['too-many-files']],
  ])('%s', (_name, files, rules) => {
    expect(checkAlignment(spec, files).map(v => v.rule)).toEqual(rules)
  })
})

describe('validateBuildSpec', () => {
  const good = {
    specification: 'sum',
    tests: { files: { 'test_a.py': 'x' }, command: ['pytest'] },
    language: 'python',
    model: 'tiny',
    budget: { maxAttempts: 3, maxTokens: 1000, maxWallMs: 60_000 },
  }
  const problemsOf = (input: unknown): string[] => {
    try {
      validateBuildSpec(input)
    } catch (err) {
      expect((err as Error).name).toBe('InvalidBuildSpecError')
      return ((err as { details: string[] }).details).map(d => d.slice(0, d.indexOf(':')))
    }
    return []
  }

  test('a good spec comes back frozen, with the default step retries', () => {
    const valid = validateBuildSpec(good)
    expect(valid.budget).toEqual({ ...good.budget, maxStepRetries: 2 })
    expect(Object.isFrozen(valid) && Object.isFrozen(valid.tests.files)).toBe(true)
  })

  test.each<[string, unknown, string[]]>([
    ['not an object', 'spec', ['/']],
    ['empty specification', { ...good, specification: '  ' }, ['/specification']],
    ['empty test suite', { ...good, tests: { files: {}, command: [] } }, ['/tests/files', '/tests/command']],
    ['no tests at all', { ...good, tests: undefined }, ['/tests']],
    ['bad language', { ...good, language: 'cobol' }, ['/language']],
    ['no model', { ...good, model: '' }, ['/model']],
    ['budget out of range', { ...good, budget: { maxAttempts: 0, maxTokens: 1.5, maxStepRetries: 99 } }, ['/budget/maxAttempts', '/budget/maxTokens', '/budget/maxWallMs', '/budget/maxStepRetries']],
    ['an unknown field', { ...good, maxAttempts: 3 }, ['/maxAttempts']],
    ['a starting file that is a test file', { ...good, files: { 'test_a.py': 'y' } }, ['/files/test_a.py']],
    ['a starting file outside /work', { ...good, files: { '../a.py': 'y' } }, ['/files/../a.py']],
    ['a forbidden path that climbs out', { ...good, forbiddenPaths: ['ok/', '../x'] }, ['/forbiddenPaths/1']],
  ])('%s', (_name, input, paths) => {
    expect(problemsOf(input)).toEqual(paths)
  })
})
