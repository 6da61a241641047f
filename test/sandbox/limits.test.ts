/**
 * Every limit, hit for real, with the host checked afterwards: the run ends with the right
 * `limitHit`, and nothing of it is left running.
 */
import { spawnSync } from 'node:child_process'
import { describe, expect, test } from 'vitest'
import { AbortedError } from '../../base/index.js'
import { createSandbox, runSandboxed, type SandboxResult } from '../../sandbox/index.js'
import { marker, processesWith, waitFor } from './helpers.js'
import { requireBubblewrap } from '../helpers/system-tools.js'

requireBubblewrap()

// The runs below sleep 120 s; ending them well before that shows the limit or the abort acted
// (a generous margin, so a busy machine passes: this is no timing target).
const LONG_BEFORE_SLEEP_ENDS = 60_000

const hostStillForks = (): boolean => spawnSync('/bin/true').status === 0

describe('limits (cgroup backend where the host has one)', () => {
  test('fork bomb: pids limit hit, run ended early, host unharmed, nothing left', async () => {
    const name = marker()
    const result = await runSandboxed({ command: ['sh', '-c', 'b() { b | b & }; b; sleep 60', name], limits: { pids: 32, wallMs: 50_000 } })
    expect(result.limitHit).toBe('pids') // ended by the pids limit, not by the wall clock
    expect(result.timedOut).toBe(false)
    expect(hostStillForks()).toBe(true)
    expect(await processesWith(name)).toEqual([])
  })

  test('memory hog: memory limit hit', async () => {
    const result = await runSandboxed({
      command: ['python3', '-c', 'a = []\nwhile True: a.append(b"x" * (1 << 20))'],
      limits: { memoryMb: 64, wallMs: 15_000 },
    })
    expect(result.limitHit).toBe('memory')
    expect(result.exitCode).not.toBe(0)
    if (result.usage.peakMemoryMb !== null) expect(result.usage.peakMemoryMb).toBeLessThanOrEqual(64.5)
  })

  test('CPU loop: cpu limit hit well before the wall clock', async () => {
    const result = await runSandboxed({ command: ['python3', '-c', 'while True: pass'], limits: { cpuMs: 400, wallMs: 50_000 } })
    expect(result.limitHit).toBe('cpu')
    expect(result.timedOut).toBe(false)
    if (result.usage.cpuMs !== null) expect(result.usage.cpuMs).toBeGreaterThanOrEqual(400)
  })

  test('output flood: truncated at outputBytes, output limit hit', async () => {
    const result = await runSandboxed({ command: ['yes', 'flood'], limits: { outputBytes: 65_536 } })
    expect(result).toMatchObject({ limitHit: 'output', stdoutTruncated: true, stderrTruncated: false })
    expect(Buffer.byteLength(result.stdout)).toBe(65_536)
    expect(result.stdout.startsWith('flood\nflood\n')).toBe(true)
  })

  test('huge file: fsize limit hit (killed by SIGXFSZ)', async () => {
    const result = await runSandboxed({ command: ['sh', '-c', 'head -c 10485760 /dev/zero > big'], limits: { fileSizeMb: 1 } })
    expect(result).toMatchObject({ limitHit: 'fsize', signal: 'SIGXFSZ' })
  })

  test('huge file written by a program that handles EFBIG: fsize seen from the file', async () => {
    const result = await runSandboxed({
      command: ['python3', '-c', 'f = open("big", "wb")\ntry:\n  f.write(b"x" * (2 << 20)); f.flush()\nexcept OSError as e:\n  print("error", e.errno)'],
      limits: { fileSizeMb: 1 },
      collect: ['*.txt'],
    })
    expect(result.stdout).toContain('error 27') // EFBIG
    expect(result.limitHit).toBe('fsize')
  })

  test('wall clock: timed out, killed, nothing left', async () => {
    const name = marker()
    const started = Date.now()
    const result = await runSandboxed({ command: ['sh', '-c', 'sleep 120', name], limits: { wallMs: 500 } })
    expect(result).toMatchObject({ timedOut: true, limitHit: 'wall', signal: 'SIGKILL' })
    expect(Date.now() - started).toBeLessThan(LONG_BEFORE_SLEEP_ENDS)
    expect(await processesWith(name)).toEqual([])
  })

  test('a setsid daemon that ignores SIGTERM is gone after the run', async () => {
    const name = marker()
    const result = await runSandboxed({
      command: ['sh', '-c', 'setsid sh -c \'trap "" TERM HUP INT; while :; do sleep 0.05; done\' "$0" & sleep 0.2; echo started', name],
    })
    expect(result.stdout).toBe('started\n')
    expect(result.exitCode).toBe(0)
    expect(await processesWith(name)).toEqual([])
  })

  test('abort mid-run: rejects with AbortedError, promptly, nothing left', async () => {
    const name = marker()
    const controller = new AbortController()
    const running = runSandboxed({ command: ['sh', '-c', 'trap "" TERM; sleep 120', name] }, { signal: controller.signal })
    await waitFor(async () => (await processesWith(name)).some(p => p.cmdline.startsWith('sh -c')) ? true : undefined)
    const started = Date.now()
    controller.abort()
    await expect(running).rejects.toBeInstanceOf(AbortedError)
    expect(Date.now() - started).toBeLessThan(LONG_BEFORE_SLEEP_ENDS)
    expect(await processesWith(name)).toEqual([])
  })

  test('abort while bubblewrap is still setting up cleans up promptly', async () => {
    const name = marker()
    const controller = new AbortController()
    const running = runSandboxed({ command: ['sh', '-c', 'sleep 120', name] }, { signal: controller.signal })
    await waitFor(async () => (await processesWith(name)).length > 0 ? true : undefined) // the launcher or bubblewrap
    const started = Date.now()
    controller.abort()
    await expect(running).rejects.toBeInstanceOf(AbortedError)
    expect(Date.now() - started).toBeLessThan(LONG_BEFORE_SLEEP_ENDS)
    expect(await processesWith(name)).toEqual([])
  })

  test('an already aborted signal runs nothing', async () => {
    await expect(runSandboxed({ command: ['true'] }, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortedError' })
  })
})

describe('limits with rlimits only (hosts without cgroups)', () => {
  const sandbox = createSandbox({ limits: 'rlimit' })

  test('probe reports the rlimit backend', async () => {
    expect(await sandbox.probe()).toMatchObject({ available: true, limits: 'rlimit' })
  })

  test('CPU: SIGXCPU from RLIMIT_CPU', async () => {
    const result = await sandbox.run({ command: ['python3', '-c', 'while True: pass'], limits: { cpuMs: 1000, wallMs: 15_000 } })
    expect(result).toMatchObject({ limitHit: 'cpu', signal: 'SIGXCPU', timedOut: false })
    expect(result.usage).toMatchObject({ cpuMs: null, peakMemoryMb: null })
  })

  test('memory: RLIMIT_DATA makes the allocation fail', async () => {
    const result = await sandbox.run({ command: ['python3', '-c', 'a = []\nwhile True: a.append(b"x" * (1 << 20))'], limits: { memoryMb: 64 } })
    expect(result.exitCode).not.toBe(0)
    expect(result.stderr).toContain('MemoryError')
  })

  test('fork bomb: RLIMIT_NPROC of the run\'s own uid stops it, the host is unharmed, nothing left', async () => {
    const name = marker()
    const result: SandboxResult = await sandbox.run({ command: ['sh', '-c', 'b() { b | b & }; b; sleep 20', name], limits: { pids: 32, wallMs: 8000 } })
    expect(result.limitHit).toBe('wall')
    expect(result.stderr).toMatch(/fork/i) // the bomb's forks were refused
    expect(hostStillForks()).toBe(true)
    expect(await processesWith(name)).toEqual([])
  })

  test('fsize and output behave as with cgroups', async () => {
    const big = await sandbox.run({ command: ['sh', '-c', 'head -c 10485760 /dev/zero > big'], limits: { fileSizeMb: 1 } })
    expect(big.limitHit).toBe('fsize')
    const flood = await sandbox.run({ command: ['yes'], limits: { outputBytes: 4096 } })
    expect(flood).toMatchObject({ limitHit: 'output', stdoutTruncated: true })
  })
})
