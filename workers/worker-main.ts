/**
 * Worker process entry: `node --import tsx workers/worker-main.ts --connect ENDPOINT --kind KIND`
 * (compiled: `node dist/workers/worker-main.js ...`). Options: --data-dir DIR, --token-file FILE,
 * --slots N, --log-level LEVEL, --handlers MODULE (repeatable), --control-fd FD (the pool's),
 * --nice N (0-19: lower this worker's CPU priority, and so its tasks', below the node's).
 * Exit codes: 0 stopped, 1 failed (e.g. refused by the broker), 2 bad usage.
 */
import { parseArgs } from 'node:util'
import { runWorkerCommand } from './worker-command.js'

function usage (message: string): never {
  process.stderr.write(`worker-main: ${message}\nusage: worker-main --kind exec|model [--connect ENDPOINT] [--data-dir DIR] [--token-file FILE] [--slots N] [--nice N] [--log-level LEVEL] [--handlers MODULE]...\n`)
  process.exit(2)
}

const integerFlag = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) usage(`--${name} must be a non-negative integer`)
  return n
}

let parsed
try {
  parsed = parseArgs({
    options: {
      connect: { type: 'string' },
      kind: { type: 'string' },
      'data-dir': { type: 'string' },
      'token-file': { type: 'string' },
      slots: { type: 'string' },
      'log-level': { type: 'string' },
      handlers: { type: 'string', multiple: true },
      'control-fd': { type: 'string' },
      nice: { type: 'string' },
    },
    strict: true,
  })
} catch (err) {
  usage((err as Error).message)
}
const { values } = parsed
if (values.kind === undefined) usage('--kind is required')
const nice = integerFlag('nice', values.nice)
if (nice !== undefined && nice > 19) usage('--nice must be an integer from 0 to 19')

try {
  await runWorkerCommand({
    kind: values.kind,
    connect: values.connect,
    dataDir: values['data-dir'],
    tokenFile: values['token-file'],
    slots: integerFlag('slots', values.slots),
    logLevel: values['log-level'],
    handlers: values.handlers,
    controlFd: integerFlag('control-fd', values['control-fd']),
    nice,
  })
  process.exit(0)
} catch (err) {
  const e = err as Error
  process.stderr.write(`worker-main: ${e.name}: ${e.message}\n`)
  process.exit(e.name === 'WorkerPoolConfigError' ? 2 : 1)
}
