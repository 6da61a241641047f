/**
 * Warm sandboxes (sandbox/warm.ts): a run that fits the default profile goes to a sandbox set up
 * ahead and gets what a cold run gets (files, stdin, env, status, collected files, limits);
 * one that does not fit runs cold; closing leaves no process, cgroup or uid claim. Which path a
 * run took shows inside: a warm sandbox's pid 1 is tini running the shell that read the request.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { afterAll, describe, expect, test } from 'vitest'
import { DEFAULT_LIMITS, createSandbox, validateSpec, type SandboxSpec } from '../../sandbox/index.js'
import { TASK_GROUP_PREFIX } from '../../sandbox/cgroup.js'
import { ownV1Directories, ownV2Directory, parseMountinfo, parseProcCgroup } from '../../sandbox/cgroup-paths.js'
import { requestScript, shellQuote, warmFits, WARM_MAX_FILE_BYTES } from '../../sandbox/warm-script.js'
import { requireBubblewrap } from '../helpers/system-tools.js'

requireBubblewrap()

const WARM_PID1 = /^\S*tini -- \S*sh -c .* -s ?$/m

describe('which specs a warm sandbox serves', () => {
  test.each<[string, SandboxSpec, boolean]>([
    ['defaults', { command: ['true'] }, true],
    ['files, env, stdin, collect, lower rlimits, other memory and pids', { command: ['sh'], files: { 'a/b.txt': "it's" }, env: { A: 'x y' }, stdin: 'in', collect: ['**'], limits: { cpuMs: 1000, fileSizeMb: 1, memoryMb: 64, pids: 16, wallMs: 500 } }, true],
    ['another tmpfs size', { command: ['true'], limits: { diskMb: 8 } }, false],
    ['more CPU than the warm rlimit', { command: ['true'], limits: { cpuMs: DEFAULT_LIMITS.cpuMs + 1000 } }, false],
    ['larger files than the warm profile carries', { command: ['true'], files: { big: 'x'.repeat(WARM_MAX_FILE_BYTES + 1) } }, false],
    ['argv[0] that env would read as a variable', { command: ['A=b'] }, false],
  ])('%s', (_name, spec, fits) => {
    expect(warmFits(validateSpec(spec), DEFAULT_LIMITS)).toBe(fits)
  })

  test('the request is one group (a request cut short runs nothing), with every word quoted', () => {
    const script = requestScript({ spec: validateSpec({ command: ['echo', "a'b", '$HOME'], env: { X: '`id`' } }), fds: { stdin: 5, collect: 3 }, env: '/usr/bin/env', tar: '/usr/bin/tar' })
    expect(script.startsWith('{\n') && script.endsWith('\n}\n')).toBe(true)
    expect(script).toContain(`${shellQuote("a'b")} ${shellQuote('$HOME')}`)
    expect(script).toContain(shellQuote('X=`id`'))
    expect(script).toMatch(/exec \/usr\/bin\/env -i .*<\/dev\/null 5<&- 3>&-$/m)
  })
})

describe('runs in warm sandboxes', () => {
  const warm = createSandbox()
  const cold = createSandbox({ warm: 0 })
  afterAll(async () => { await Promise.all([warm.close(), cold.close()]) })

  const pid1 = '{ tr "\\0" " " < /proc/1/cmdline; echo; }'
  const spec: SandboxSpec = {
    files: { 'src/main.py': 'import os, sys\nprint(os.environ["GREETING"], sys.stdin.read().strip())\nopen("out/r.txt", "w").write("it\'s made\\n")\nsys.exit(3)\n' },
    command: ['sh', '-c', `${pid1} >&2; mkdir out && python3 src/main.py; rc=$?; ls -l /proc/self/fd | grep -c socket >&2; exit $rc`],
    env: { GREETING: 'hello' },
    stdin: 'world\n',
    collect: ['out/*'],
    limits: { memoryMb: 128 },
  }

  test('a fitting run is served warm and returns what a cold run returns', async () => {
    await warm.prepared()
    const [hot, reference] = [await warm.run(spec), await cold.run(spec)]
    expect(hot.stderr.split('\n')[0]).toMatch(WARM_PID1)
    expect(reference.stderr.split('\n')[0]).not.toMatch(WARM_PID1)
    for (const result of [hot, reference]) {
      expect(result).toMatchObject({ exitCode: 3, signal: null, limitHit: null, stdout: 'hello world\n', filesTruncated: false })
      expect(result.files).toEqual([expect.objectContaining({ path: 'out/r.txt', content: "it's made\n" })])
    }
    // The same channels are open inside on both paths (the warm request and stdin channels are closed).
    expect(hot.stderr.split('\n')[1]).toBe(reference.stderr.split('\n')[1])
  })

  test('the run\'s own limits apply in a warm sandbox', async () => {
    await warm.prepared()
    const hog = await warm.run({ command: ['sh', '-c', `${pid1} >&2; python3 -c "b = bytearray(200 * 1024 * 1024); print(len(b))"`], limits: { memoryMb: 64 } })
    expect(hog.stderr).toMatch(WARM_PID1)
    expect(hog.limitHit).toBe('memory')
    await warm.prepared()
    const loop = await warm.run({ command: ['sh', '-c', `${pid1} >&2; while :; do :; done`], limits: { cpuMs: 500 } })
    expect(loop.stderr).toMatch(WARM_PID1)
    expect(loop.limitHit).toBe('cpu')
  })

  test('a spec the warm profile cannot serve runs cold', async () => {
    await warm.prepared()
    const result = await warm.run({ command: ['sh', '-c', pid1], limits: { diskMb: 8 } })
    expect(result.exitCode).toBe(0)
    expect(result.stdout).not.toMatch(WARM_PID1)
  })

  test('closing ends the warm sandboxes: no cgroup or uid claim of them is left', async () => {
    const own = createSandbox()
    await own.prepared()
    const groups = (): string[] => {
      const cgroups = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'))
      const mounts = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'))
      const parents = [...ownV1Directories(cgroups, mounts, ['memory', 'pids', 'cpuacct']).values(), ownV2Directory(cgroups, mounts)]
      return parents.flatMap(dir => dir === null ? [] : readdirSync(dir).filter(name => name.startsWith(`${TASK_GROUP_PREFIX}${process.pid}-w`)))
    }
    const before = groups().length
    expect(before).toBeGreaterThan(0)
    await Promise.all([warm.close(), own.close()])
    expect(groups()).toEqual([])
    const claims = readdirSync('/run/gryphgen-sandbox').filter(name => readFileSync(`/run/gryphgen-sandbox/${name}`, 'utf8') === String(process.pid))
    expect(claims).toEqual([])
    const after = await own.run({ command: ['sh', '-c', pid1] })
    expect(after.stdout).not.toMatch(WARM_PID1)
  })
})
