/**
 * Leases under load (issue 20's target: "under `--busy` with sleeping tasks pinned to one node
 * for 5 minutes: 0 leases lost, 0 tasks run twice"): `npm run bench:leases -- --busy --minutes 5`.
 * A 3-process loopback mesh; sleeping tasks (`exec sleep`, --sleep-min to --sleep-max seconds)
 * pinned by label to one node, the holder, `--slots` of them in flight (its exec slots, kept
 * full), submitted at the two other nodes, which auction them, for --minutes (or --seconds).
 * With --busy (scripts/bench/busy.ts): stress-ng on every core, and one CPU-bound sandboxed task
 * per core through the mesh (on the two auctioneers: the holder's slots are the sleepers').
 * Prints: tasks submitted, succeeded, failed; tasks with more than one attempt and why (lease
 * expired, takeover, worker lost, award declined); leases lost; tasks run twice; the holder's
 * event-loop delay and renewal interval; the margins the auctioneers used for its leases; the
 * load average during the run. Scenario: scripts/bench/pinned-sleeps.ts.
 * Flags: --minutes N (default 5) or --seconds N, --slots N (default 8), --sleep-min S (3),
 * --sleep-max S (60), --lease-ms and --heartbeat-ms (default: the node's, 5000 and 1000),
 * --keep (keep the data dirs and each node's node.log).
 * Exit code 1 when a behaviour check fails: a lease lost, a task run twice, a task that did not
 * succeed, a node process that exited.
 */
import { parseArgs } from 'node:util'
import { positiveArg } from './bench/args.js'
import { loadavg } from 'node:os'
import { readFileSync } from 'node:fs'
import { busy } from './bench/busy.js' // --busy: a standard CPU load beside this run
import { runPinnedSleeps } from './bench/pinned-sleeps.js'
import type { Samples } from './bench/lease-figures.js'

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    seconds: { type: 'string' },
    slots: { type: 'string', default: '8' },
    'sleep-min': { type: 'string', default: '3' },
    'sleep-max': { type: 'string', default: '60' },
    'lease-ms': { type: 'string' },
    'heartbeat-ms': { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
})

const positive = (name: string, raw: string | undefined, max: number): number => positiveArg('bench:leases', name, raw, max)

const durationMs = values.seconds !== undefined ? positive('seconds', values.seconds, 86_400) * 1000 : positive('minutes', values.minutes ?? '5', 1440) * 60_000
const leaseMs = values['lease-ms'] === undefined ? undefined : positive('lease-ms', values['lease-ms'], 3_600_000)
const heartbeatMs = values['heartbeat-ms'] === undefined ? undefined : positive('heartbeat-ms', values['heartbeat-ms'], 600_000)
const abort = new AbortController()
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => abort.abort())
const log = (line: string): void => { console.log(`[leases ${new Date().toISOString().slice(11, 19)}] ${line}`) }

const mark = busy.mark()
log(`load average at the start: ${loadavg().map(x => x.toFixed(2)).join(' ')}`)
const r = await runPinnedSleeps({
  durationMs,
  slots: Math.round(positive('slots', values.slots, 256)),
  sleepMinS: positive('sleep-min', values['sleep-min'], 3600),
  sleepMaxS: positive('sleep-max', values['sleep-max'], 3600),
  auction: leaseMs === undefined && heartbeatMs === undefined ? undefined : { leaseMs: leaseMs ?? 5000, heartbeatMs: heartbeatMs ?? 1000 },
  fill: busy.enabled ? async (node, labels) => busy.fillNode(node, busy.cores, labels) : undefined,
  keep: values.keep,
  log,
  signal: abort.signal,
})

const ms = (s: Samples): string => s.count === 0 ? 'n/a' : `median ${s.quantile(0.5).toFixed(0)}, p99 ${s.quantile(0.99).toFixed(0)}, max ${s.max.toFixed(0)} ms`
const f = r.figures
const succeeded = r.states.succeeded ?? 0
const failed = r.states.failed ?? 0
const others = Object.entries(r.states).filter(([s]) => s !== 'succeeded' && s !== 'failed')
const checks = [
  ['0 leases lost', f.leasesLost === 0],
  ['0 tasks run twice', f.ranTwice === 0],
  ['every task succeeded', succeeded === r.submitted && r.submitted > 0],
  ['no node process exited', r.exits.length === 0],
] as const
console.log([
  '',
  `leases: ${r.leaseMs} ms, heartbeat ${r.heartbeatMs} ms${leaseMs === undefined && heartbeatMs === undefined ? ' (node defaults)' : ''}`,
  `tasks submitted:        ${r.submitted} (submissions refused ${r.failedSubmits})`,
  `succeeded:              ${succeeded}`,
  `failed:                 ${failed}${others.length > 0 ? `; other states: ${others.map(([s, n]) => `${s} ${n}`).join(', ')}` : ''}`,
  `attempts > 1:           ${f.retriedTasks} tasks (retried or adopted: lease expired ${f.causes['lease expired']}, takeover ${f.causes.takeover}, worker lost ${f.causes['worker lost']}, award declined ${f.causes['award declined']}, other ${f.causes.other})`,
  `leases lost:            ${f.leasesLost} (every node alive throughout: ${r.exits.length === 0 ? 'yes' : `no: ${r.exits.join(', ')}`})`,
  `tasks run twice:        ${f.ranTwice}`,
  ...Object.entries(f.examples).map(([what, ids]) => `  e.g. ${what}: ${ids.join(', ')}`),
  `holder's event-loop delay (lease board, each heartbeat's p99):   ${ms(r.holderLoopP99Ms)}`,
  `holder's event-loop delay (lease board, max of the last leases): ${ms(r.holderLoopMaxMs)}`,
  `holder's event-loop delay (prom-client per 2 s scrape, 10 ms resolution included): p99 ${ms(r.holderPromP99Ms)}; max ${ms(r.holderPromMaxMs)}`,
  `holder's renewal interval: min ${r.renewalIntervalMs.min.toFixed(0)} ms, median ${r.renewalIntervalMs.quantile(0.5).toFixed(0)} ms (heartbeat ${r.heartbeatMs} ms)`,
  `auctioneers' margin for the holder's leases: ${ms(r.marginMs)} (expiry after lease + margin)`,
  `load average (1 min, sampled every 2 s): median ${r.load.quantile(0.5).toFixed(2)}, min ${r.load.min.toFixed(2)}, max ${r.load.max.toFixed(2)}`,
  busy.report(mark),
  `cat /proc/loadavg: ${readFileSync('/proc/loadavg', 'utf8').trim()}`,
  ...(values.keep ? [`kept ${r.root} (node logs: */node.log)`] : []),
  ...checks.map(([what, ok]) => `check ${ok ? 'ok    ' : 'FAILED'} ${what}`),
].join('\n'))
process.exitCode = checks.every(([, ok]) => ok) ? 0 : 1
