/**
 * The BullMQ + Redis baseline of the task-throughput benchmark, alone (scripts/bench-tasks.ts
 * runs it beside gryphgen): durable `noop` jobs, request/reply, at each given concurrency.
 *
 *   node --import tsx scripts/bench-bullmq.ts [--seconds 10] [--concurrency 1,16,64]
 *
 * Installs redis-server first where missing (scripts/ensure-bench-deps.sh), starts and stops
 * its own on a free loopback port per run. Numbers from a shared 2-core machine are noisy.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { runBullmqBaseline } from './bench/bullmq-baseline.js'
import './bench/busy.js' // --busy: a standard CPU load beside this run (scripts/bench/busy.ts)

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '1,16,64' } } })
const seconds = Number(values.seconds)
const levels = values.concurrency.split(',').map(Number)
if (!(seconds > 0) || levels.some(n => !Number.isInteger(n) || n < 1)) {
  process.stderr.write('usage: bench-bullmq.ts [--seconds N (> 0)] [--concurrency N[,N...] (integers >= 1)]\n')
  process.exit(2)
}

const ensure = spawnSync('bash', [fileURLToPath(new URL('ensure-bench-deps.sh', import.meta.url))], { stdio: 'inherit', timeout: 300_000 })
if (ensure.status !== 0) process.exit(1)

const row = (...cells: string[]): string => cells[0].padEnd(44) + cells.slice(1).map(c => c.padStart(10)).join('') + '\n'
process.stdout.write(row(`(${seconds} s measured after 2 s warm-up)`, 'jobs', 'jobs/s', 'p50 ms', 'p99 ms'))
let redisVersion = ''
for (const concurrency of levels) {
  const result = await runBullmqBaseline({ durationMs: seconds * 1000, concurrency, signal: AbortSignal.timeout(seconds * 1000 + 60_000) })
  redisVersion = result.redisVersion
  process.stdout.write(row(`bullmq request/reply, ${concurrency} in flight`, String(result.completed), result.perSecond.toFixed(0), result.p50Ms.toFixed(2), result.p99Ms.toFixed(2)))
}
process.stdout.write(`(redis ${redisVersion}, appendfsync always, loopback; worker concurrency = clients in flight)\n`)
