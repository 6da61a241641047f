/**
 * Opt-in (TEST_CPU_FILE=<file>): appends one line per test file with the CPU seconds its
 * fork has used, its own and its reaped children's (nodes' workers, CLI processes, sandboxes),
 * so a developer can see where the suite's CPU goes: file, pid, own, children, wall seconds.
 * Totals are per process: where a fork runs several files (the `pure` project), take the
 * differences. Linux only (/proc/self/stat); does nothing when the variable is unset.
 */
import { appendFileSync, readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { afterAll, expect } from 'vitest'

const target = process.env.TEST_CPU_FILE
if (target !== undefined && target !== '') {
  const started = Date.now()
  // Registered first, so it runs after the file's own afterAll hooks (they run in reverse).
  afterAll(() => {
    const name = relative(process.cwd(), expect.getState().testPath ?? 'unknown')
    // After the command's closing parenthesis: fields 14-17 of stat(5), utime stime cutime cstime, in ticks.
    const stat = readFileSync('/proc/self/stat', 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number)
    const seconds = (ticks: number): string => (ticks / 100).toFixed(1)
    appendFileSync(target, `${name}\t${process.pid}\t${seconds(utime + stime)}\t${seconds(cutime + cstime)}\t${((Date.now() - started) / 1000).toFixed(1)}\n`)
  })
}
