import { afterEach, describe, expect, test } from 'vitest'
import { spawn } from 'node:child_process'
import { PATIENCE_MS } from '../helpers/nodes.js'
import { BIN, killAll } from '../helpers/processes.js'

afterEach(async () => { await killAll() })

/**
 * Runs the CLI with stdout a slow pipe: once output starts, nothing more is read until the
 * process exits or 3 s pass (a CLI that waits for the pipe to drain is still running then),
 * then everything to the end.
 */
async function runThroughSlowPipe (args: string[]): Promise<{ code: number | null, stdout: Buffer }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'ignore'] })
  const timer = setTimeout(() => child.kill('SIGKILL'), PATIENCE_MS * 2)
  try {
    const exited = new Promise<number | null>(resolve => child.once('exit', resolve))
    await new Promise(resolve => child.stdout.once('readable', resolve))
    await Promise.race([exited, new Promise(resolve => setTimeout(resolve, 3000))])
    const chunks: Buffer[] = []
    for await (const chunk of child.stdout) chunks.push(chunk as Buffer)
    return { code: await exited, stdout: Buffer.concat(chunks) }
  } finally {
    clearTimeout(timer)
  }
}

describe('CLI output through a pipe', () => {
  test('a failing command\'s --json output larger than a pipe buffer arrives whole', async () => {
    const { code, stdout } = await runThroughSlowPipe(['sandbox', 'run', '--json', '--output-bytes', '1048576', '--', 'python3', '-c', 'import sys; sys.stdout.write("x" * 100000000)'])
    expect(code).not.toBe(0)
    expect(stdout.length).toBeGreaterThan(1024 * 1024)
    const result = JSON.parse(stdout.toString()) as { stdout: string }
    expect(result.stdout.length).toBeGreaterThanOrEqual(1024 * 1024 - 1024)
  }, PATIENCE_MS * 3)
})
