/** Entry point of the `gryphgen` CLI. Exit codes: 0 ok, 1 failure, 2 bad usage or config; a waited-for task gives its own (commands/task-format.ts). */
import '../../base/polyfill.js'
import { CommanderError } from 'commander'
import { buildProgram } from './program.js'
import { writeError } from './output.js'
import { ApiError } from '../../base/index.js'

const USAGE_ERRORS = new Set(['ConfigError', 'InvalidInviteError', 'UsageError', 'InvalidSandboxSpecError', 'WorkerPoolConfigError'])

export async function main (argv: string[]): Promise<number> {
  const program = buildProgram()
  program.exitOverride()
  const override = (c: typeof program): void => { c.exitOverride(); c.commands.forEach(override) }
  override(program)
  try {
    await program.parseAsync(argv)
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : 2
    }
    // An API error shows the node's own error name; a 400 is a request the user got wrong.
    if (err instanceof ApiError) {
      writeError(`gryphgen: ${err.errorName}: ${err.message}`)
      return err.status === 400 ? 2 : 1
    }
    const e = err as Error
    writeError(`gryphgen: ${e.name}: ${e.message}`)
    return USAGE_ERRORS.has(e.name) ? 2 : 1
  }
}

/** Resolves once everything written to `stream` so far has been handed to the OS (a pipe's writes are asynchronous). */
async function drained (stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || !stream.writable) return
  await new Promise<void>(resolve => { stream.write('', () => { resolve() }) })
}

const code = await main(process.argv)
// A failed command exits at once: a half-started node may still hold timers or sockets.
// Only after stdout and stderr drained: process.exit drops what a pipe has not taken yet.
if (code !== 0) {
  await Promise.all([drained(process.stdout), drained(process.stderr)])
  process.exit(code)
}
