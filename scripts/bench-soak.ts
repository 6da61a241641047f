/**
 * Soak benchmark (issue 14): `npm run bench:soak`. A 3-process loopback mesh with a short
 * retention window runs a sustained noop + small exec workload (scripts/bench/soak.ts) and
 * prints per node, every `--every` seconds: disk used by LevelDB and blobs, RSS (the node,
 * and the node with its workers), ledger entries live/compacted. At the end: the plateau
 * check of each figure (soak-figures.ts `plateau`: after the warm-up of two retention
 * windows, the least-squares change across the last half of the samples relative to its
 * mean; target within ±5%), whether every task ever acknowledged still answers on every
 * node, and whether all nodes hold the same fold and version vector.
 * Flags: --minutes N (default 10) or --seconds N, --rate N (tasks/s, default 5), --every N
 * (seconds, default 60), --retention N (seconds, default 20), --summaries N (seconds: summaries
 * expire this long after their task's last change, `ledger.retention.summariesMs`; default 0, kept), --nodes N (default 3),
 * --blob-every N (every Nth exec task writes a 20 KB output, stored as a blob; default 10, 0: none),
 * --samples-file F (every sample of every node as JSON, for a later look at what grew).
 * Exit code 1 when a behavioural check fails (not for the plateau: a crowded machine's figure).
 */
import { writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { positiveArg } from './bench/args.js'
import { runSoak } from './bench/soak.js'
import { PLATEAU_FIGURES, formatPlateau, formatSample, plateau } from './bench/soak-figures.js'
import './bench/busy.js' // --busy: a standard CPU load beside this run (scripts/bench/busy.ts)

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    seconds: { type: 'string' },
    rate: { type: 'string', default: '5' },
    every: { type: 'string', default: '60' },
    retention: { type: 'string', default: '20' },
    summaries: { type: 'string', default: '0' },
    nodes: { type: 'string', default: '3' },
    'blob-every': { type: 'string', default: '10' },
    'samples-file': { type: 'string' },
  },
})

const positive = (name: string, raw: string | undefined, max: number): number => positiveArg('bench:soak', name, raw, max)

const durationMs = values.seconds !== undefined ? positive('seconds', values.seconds, 86_400) * 1000 : positive('minutes', values.minutes ?? '10', 1440) * 60_000
const abort = new AbortController()
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => abort.abort())

const result = await runSoak({
  durationMs,
  rate: positive('rate', values.rate, 1000),
  everyMs: positive('every', values.every, 86_400) * 1000,
  retentionMs: positive('retention', values.retention, 86_400) * 1000,
  summariesMs: values.summaries === '0' ? 0 : positive('summaries', values.summaries, 86_400) * 1000,
  nodes: Math.round(positive('nodes', values.nodes, 16)),
  blobEvery: values['blob-every'] === '0' ? 0 : Math.round(positive('blob-every', values['blob-every'], 1_000_000)),
  log: line => console.log(line),
  signal: abort.signal,
})

console.log('\nafter the workload, every task ended and compacted:')
for (const n of result.nodes) console.log(formatSample(n.name, n.final))
console.log(`\nplateau: samples from ${new Date(result.warmupEnd).toISOString().slice(11, 19)} on (after two retention windows), last half, least-squares change across it / its mean; target within ±5%`)
for (const [name, list] of result.samples) {
  const of = (figure: typeof PLATEAU_FIGURES[number]): string => formatPlateau(plateau(list.map(s => ({ at: s.at, value: s[figure] })), result.warmupEnd))
  console.log(`${name}: db ${of('dbMb')}; blobs ${of('blobsMb')}; rss ${of('rssMb')}; rss with workers ${of('treeRssMb')}`)
  const also = (figure: 'heapMb' | 'dbLogMb' | 'dbTablesMb'): string => formatPlateau(plateau(list.map(s => ({ at: s.at, value: s[figure] })), result.warmupEnd))
  console.log(`${' '.repeat(name.length)}  (not targets, to see what moves) heap used ${also('heapMb')}; db log ${also('dbLogMb')}; db tables ${also('dbTablesMb')}`)
  const last = list[list.length - 1]
  if (last !== undefined) console.log(`${' '.repeat(name.length)}  entries live ${last.liveEntries} of ${last.liveEntries + last.compactedEntries} ever written at the last sample`)
}
if (values['samples-file'] !== undefined) await writeFile(values['samples-file'], JSON.stringify({ warmupEnd: result.warmupEnd, samples: Object.fromEntries(result.samples) }))
const answered = result.nodes.every(n => n.unanswered.length === 0)
console.log(`\ntasks acknowledged: ${result.acknowledged} (failed submits ${result.failedSubmits}, skipped ${result.skipped})`)
for (const n of result.nodes) console.log(`${n.name}: unanswered or not terminal ${n.unanswered.length}${n.unanswered.length > 0 ? ` (e.g. ${n.unanswered.slice(0, 3).join(', ')})` : ''}; listed but not compacted ${n.notCompacted}; fold ${n.foldDigest.slice(0, 16)}`)
console.log(`every acknowledged task answerable on every node: ${answered}`)
console.log(`folds identical: ${result.foldsIdentical}; version vectors identical: ${result.vectorsIdentical}`)
if (!answered || !result.foldsIdentical || !result.vectorsIdentical) process.exitCode = 1
