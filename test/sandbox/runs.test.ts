/**
 * Ordinary runs end to end: inputs, stdin, env, exit status, collected files, JSON shape,
 * real test runners inside the sandbox parsed by the test-output parsers, the probe, and a
 * host without bubblewrap.
 */
import { createHash } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { silentLogger } from '../../base/index.js'
import { detectHost } from '../../sandbox/host.js'
import { COLLECT_BOUNDS, createSandbox, parseTestOutput, probeSandbox, runSandboxed, validateSpec } from '../../sandbox/index.js'
import { runWithHost } from '../../sandbox/run.js'
import { UidPool } from '../../sandbox/uid-pool.js'
import { inSandboxUidRange, marker, processesWith, waitFor } from './helpers.js'
import { requireBubblewrap } from '../helpers/system-tools.js'

requireBubblewrap()

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

describe('a run', () => {
  test('gets its files, stdin and env, and returns output, status and produced files', async () => {
    const big = 'y'.repeat(COLLECT_BOUNDS.contentBytes + 10)
    const result = await runSandboxed({
      files: { 'src/main.py': 'import os, sys\nprint(os.environ["GREETING"], sys.stdin.read().strip())\nopen("out/big.txt", "w").write("y" * int(sys.argv[1]))\nsys.stderr.write("warn\\n")\nsys.exit(3)\n' },
      command: ['sh', '-c', 'mkdir out && echo made > out/small.txt && python3 src/main.py "$1"', 'sh', String(big.length)],
      env: { GREETING: 'hello' },
      stdin: 'world\n',
      collect: ['out/*.txt', 'missing/**'],
    })
    expect(result).toMatchObject({ exitCode: 3, signal: null, timedOut: false, limitHit: null, stdout: 'hello world\n', stderr: 'warn\n' })
    expect(result.files).toEqual([
      { path: 'out/big.txt', size: big.length, sha256: sha256(big) },
      { path: 'out/small.txt', size: 5, sha256: sha256('made\n'), content: 'made\n' },
    ])
    expect(result.filesTruncated).toBe(false)
    expect(result.usage.wallMs).toBeGreaterThan(0)
    expect(JSON.parse(JSON.stringify(result))).toEqual(result)
  })

  test('a missing program is an ordinary failure, not an exception', async () => {
    const result = await runSandboxed({ command: ['no-such-program-here'] })
    expect(result.exitCode).not.toBe(0)
    expect(result.limitHit).toBeNull()
  })

  test('a signal inside is reported as the signal', async () => {
    const result = await runSandboxed({ command: ['sh', '-c', 'kill -TERM $$'] })
    expect(result).toMatchObject({ exitCode: 143, signal: 'SIGTERM', limitHit: null })
  })
})

describe('test runners inside the sandbox', () => {
  test('pytest: real output parsed into counts and failures', async () => {
    const result = await runSandboxed({
      files: {
        'test_calc.py': 'import pytest\n\ndef test_ok():\n    assert 1 + 1 == 2\n\ndef test_bad():\n    assert 1 + 1 == 3, "arithmetic"\n\n@pytest.fixture\ndef broken():\n    raise RuntimeError("no fixture")\n\ndef test_err(broken):\n    pass\n',
      },
      command: ['python3', '-m', 'pytest', '-p', 'no:cacheprovider'],
    })
    expect(result.exitCode).toBe(1)
    const report = parseTestOutput('pytest', result.stdout)
    expect(report).toMatchObject({ passed: 1, failed: 1, errored: 1, skipped: 0 })
    expect(report.failures).toEqual([
      { name: 'test_calc.py::test_bad', kind: 'failed', message: 'AssertionError: arithmetic' },
      { name: 'test_calc.py::test_err', kind: 'error', message: 'RuntimeError: no fixture' },
    ])
  })

  test('node --test: real TAP output parsed into counts and failures', async () => {
    const result = await runSandboxed({
      files: {
        'calc.test.mjs': "import test from 'node:test'\nimport assert from 'node:assert'\ntest('adds', () => assert.equal(1 + 1, 2))\ntest('breaks', () => { throw new Error('broken sum') })\ntest.skip('later', () => {})\n",
      },
      command: ['node', '--test', '--test-reporter=tap'],
    })
    expect(result.exitCode).toBe(1)
    const report = parseTestOutput('node', result.stdout)
    expect(report).toMatchObject({ passed: 1, failed: 1, errored: 0, skipped: 1 })
    expect(report.failures).toEqual([{ name: 'breaks', kind: 'failed', message: 'broken sum' }])
  })
})

describe('launching as root and dropping privileges with setpriv (the cgroup v2 join path)', () => {
  test('the run still gets a uid of its own and its limits', async () => {
    const detected = await detectHost({ logger: silentLogger() })
    const host = { ...detected, tools: { ...detected.tools, setpriv: '/usr/bin/setpriv' } }
    const name = marker()
    // A wall limit long enough to be seen running on a busy machine (setup alone can take seconds).
    const running = runWithHost(host, validateSpec({ command: ['sh', '-c', 'sleep 60', name], limits: { wallMs: 8000, pids: 16 } }), { logger: silentLogger() })
    const seen = await waitFor(async () => {
      const found = await processesWith(name)
      return found.some(p => p.cmdline.startsWith('sh -c')) ? found : undefined
    })
    for (const p of seen) expect(inSandboxUidRange(p.uid)).toBe(true)
    expect(await running).toMatchObject({ limitHit: 'wall' })
    const bomb = await runWithHost(host, validateSpec({ command: ['sh', '-c', 'b() { b | b & }; b; sleep 10'], limits: { pids: 16, wallMs: 8000 } }), { logger: silentLogger() })
    expect(bomb.limitHit).toBe(host.limits === 'rlimit' ? 'wall' : 'pids')
  })
})

describe('uid exhaustion', () => {
  test('a run beyond the free uids is refused with SandboxBusyError, not run as another uid', async () => {
    const detected = await detectHost({ logger: silentLogger() })
    const host = { ...detected, uids: new UidPool(200_900, 1) }
    const first = runWithHost(host, validateSpec({ command: ['sh', '-c', 'sleep 0.3'] }), { logger: silentLogger() })
    await expect(runWithHost(host, validateSpec({ command: ['true'] }), { logger: silentLogger() })).rejects.toMatchObject({ name: 'SandboxBusyError' })
    expect((await first).exitCode).toBe(0)
    expect((await runWithHost(host, validateSpec({ command: ['true'] }), { logger: silentLogger() })).exitCode).toBe(0)
  })
})

describe('probe', () => {
  test('reports bubblewrap, the limits backend chosen at start-up and the runtimes that start inside', async () => {
    const probe = await probeSandbox()
    expect(probe).toMatchObject({ available: true, isolation: 'bubblewrap', uidPerRun: process.getuid?.() === 0 })
    expect(['cgroup2', 'cgroup1', 'rlimit']).toContain(probe.limits)
    expect(probe.runtimes).toEqual(expect.arrayContaining(['sh', 'python3', 'pytest', 'node', 'tsc']))
    expect(JSON.parse(JSON.stringify(probe))).toEqual(probe)
  })

  test('the node\'s TypeScript compiler is inside, read-only, and checks code there', async () => {
    const files = { 'ok.ts': 'export const n: number = 1\n', 'bad.ts': 'export const s: string = 1\n' }
    const result = await runSandboxed({ command: ['node', '/opt/typescript/bin/tsc', '--noEmit', '--strict', '--pretty', 'false', 'ok.ts', 'bad.ts'], files, limits: { wallMs: 60_000, memoryMb: 512 } })
    expect(result.exitCode).toBe(2)
    expect(result.stdout).toMatch(/bad\.ts\(1,14\): error TS2322/)
    expect(result.stdout).not.toMatch(/ok\.ts/)
    const write = await runSandboxed({ command: ['sh', '-c', 'touch /opt/typescript/x'] })
    expect(write.exitCode).not.toBe(0)
    expect(write.stderr).toMatch(/Read-only file system/)
  })

  test('a host without bubblewrap is unavailable and never runs anything', async () => {
    const sandbox = createSandbox({ tools: { bwrap: ['/nonexistent/bwrap'] } })
    const probe = await sandbox.probe()
    expect(probe).toMatchObject({ available: false, runtimes: [] })
    expect(probe.reason).toMatch(/bubblewrap/)
    await expect(sandbox.run({ command: ['true'] })).rejects.toMatchObject({ name: 'SandboxUnavailableError' })
  })
})
