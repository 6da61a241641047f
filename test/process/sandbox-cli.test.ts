import { afterEach, describe, expect, test } from 'vitest'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir, removeTempDirs } from '../helpers/nodes.js'
import { runCli, killAll } from '../helpers/processes.js'
import { requireBubblewrap } from '../helpers/system-tools.js'

requireBubblewrap()

afterEach(async () => {
  await killAll()
  await removeTempDirs()
})

describe('gryphgen sandbox run', () => {
  test('runs a local file in the sandbox; the exit code is the command\'s', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'main.py'), 'import sys\nprint("hello", open("data.txt").read())\nsys.exit(3)\n')
    await writeFile(join(dir, 'data.txt'), 'from a file')
    const r = await runCli(['sandbox', 'run', '--file', `main.py=@${join(dir, 'main.py')}`, '--file', `data.txt=@${join(dir, 'data.txt')}`, '--', 'python3', 'main.py'])
    expect(r.stdout).toBe('hello from a file\n')
    expect(r.code).toBe(3)
  })

  test('--json prints the whole result; a memory hog hits its limit', async () => {
    const r = await runCli(['sandbox', 'run', '--json', '--memory-mb', '64', '--', 'python3', '-c', 'x = bytearray(400 * 1024 * 1024)'])
    const result = JSON.parse(r.stdout) as { limitHit: string, exitCode: number | null, usage: { wallMs: number } }
    expect(result.limitHit).toBe('memory')
    expect(r.code).not.toBe(0)
    expect(result.usage.wallMs).toBeGreaterThan(0)
  })

  test('the host is not visible and produced files come back', async () => {
    const r = await runCli(['sandbox', 'run', '--json', '--collect', 'out/*', '--', 'sh', '-c', 'cat /etc/shadow; ls /root; mkdir out; echo made > out/a.txt'])
    const result = JSON.parse(r.stdout) as { stderr: string, files: Array<{ path: string, content?: string }> }
    expect(result.stderr).toContain('/etc/shadow')
    expect(result.files).toMatchObject([{ path: 'out/a.txt', content: 'made\n' }])
  })

  test.each([
    ['a bad number', ['--memory-mb', 'lots', '--', 'true']],
    ['a --file without @', ['--file', 'x=/etc/passwd', '--', 'true']],
    ['a path escaping /work', ['--file', '../x=@/etc/hostname', '--', 'true']],
    ['an unreadable local file', ['--file', 'x=@/nonexistent/file', '--', 'true']],
  ])('%s exits 2 with a clear error', async (_name, args) => {
    const r = await runCli(['sandbox', 'run', ...args])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/UsageError|InvalidSandboxSpecError/)
  })
})
