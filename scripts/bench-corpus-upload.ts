/**
 * Corpus upload benchmark (issue 15 item 4): `node --import tsx scripts/bench-corpus-upload.ts
 * [--uploads 8] [--mb 4] [--files 64] [--unfixed] [--only worker|main-thread]`. Event-loop delay
 * (perf_hooks.monitorEventLoopDelay) and main-thread GC pauses while `--uploads` concurrent
 * uploads of `--mb` MiB each (`--files` documents apiece, as the CLI sends a directory), held
 * as raw bytes as the API receives them, are added to a CorpusStore on a real LevelDB, through
 * a queue of one (the API's heavy-request gate):
 *  - main-thread (the baseline): each body decoded and JSON-parsed on the main thread, then
 *    chunked, tokenized and indexed there, yielding to the loop every 10 ms (`store.add`);
 *  - worker: each body handed to the indexing worker thread, which parses, checks, chunks and
 *    tokenizes it, then merges its postings with the stored ones (read as bytes); the main
 *    thread only reads and writes LevelDB in yielding steps (`store.addBody`, what the API does);
 *  - with `--unfixed`, also every upload at once with indexing in one piece (the node before
 *    any fix); `--only` runs one path (to profile it: `--cpu-prof`, `--trace-gc`).
 * `--mb 13.5` is the upload size (about 4 minutes on a crowded 2-core machine; the
 * default 4 MiB keeps a run near 2). Prints an idle loop's delay (the machine's floor), then
 * p50/p99/max delay and GC pauses of each path and the ratio of p99s, worker/main-thread
 * (target: worker p99 under 100 ms). Synthetic text from a seeded PRNG: every run indexes the
 * same bytes. For each GC event: `node --trace-gc --import tsx scripts/bench-corpus-upload.ts`.
 */
import '../base/polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { ClassicLevel } from 'classic-level'
import PQueue from 'p-queue'
import { CorpusStore } from '../pipeline/corpus/index.js'
import './bench/busy.js' // --busy: a standard CPU load beside this run (scripts/bench/busy.ts)

const { values: args } = parseArgs({ options: { uploads: { type: 'string', default: '8' }, mb: { type: 'string', default: '4' }, files: { type: 'string', default: '64' }, unfixed: { type: 'boolean', default: false }, only: { type: 'string' } } })
const UPLOADS = Number(args.uploads)
const BYTES = Number(args.mb) * 1024 * 1024
const FILES = Number(args.files)
const TARGET_P99_MS = 100

let seed = 0x2545f491
const random = (): number => { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
const WORDS = 'parse format load save read write fetch send build create update delete remove insert merge split join sort filter map reduce validate check compute resolve render token session request response header cache queue worker lease'.split(' ')

function body (upload: number): Buffer {
  const documents = Array.from({ length: FILES }, (_, f) => {
    const lines: string[] = []
    for (let n = 0; n < BYTES / FILES;) {
      const line = `def ${WORDS[Math.floor(random() * WORDS.length)]}_${Math.floor(random() * 500)}(x): return ` + Array.from({ length: 8 }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ')
      lines.push(line, ...(random() < 0.2 ? [''] : []))
      n += line.length + 1
    }
    return { path: `u${upload}/f${f}.py`, text: lines.join('\n') }
  })
  return Buffer.from(JSON.stringify({ documents }))
}

type Add = (store: CorpusStore, name: string, body: Buffer) => Promise<unknown>
/** What the API did before: the body as a string, JSON.parse, `add` on the main thread. */
const onMainThread: Add = async (store, name, body) => store.add(name, (JSON.parse(body.toString()) as { documents: Array<{ path: string, text: string }> }).documents)
/** What the API does now: the raw bytes to the indexing worker thread. */
const onWorker: Add = async (store, name, body) => store.addBody(name, body)

async function run (label: string, bodies: Buffer[], add: Add, yieldEveryMs: number, concurrency: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-corpus-upload-'))
  const db = new ClassicLevel<string, string>(dir)
  await db.open()
  const store = await CorpusStore.open(db, { yieldEveryMs })
  try {
    const own = bodies.map(b => Buffer.from(b)) // addBody takes ownership (transfers the buffer)
    const queue = new PQueue({ concurrency })
    const gcs: number[] = []
    const observer = new PerformanceObserver(list => { for (const e of list.getEntries()) gcs.push(e.duration) })
    observer.observe({ entryTypes: ['gc'] })
    const delay = monitorEventLoopDelay({ resolution: 10 })
    delay.enable()
    const started = performance.now()
    await Promise.all(own.map(async (b, i) => queue.add(async () => add(store, `c${i % 2}`, b))))
    delay.disable()
    observer.disconnect()
    const ms = (ns: number): string => (ns / 1e6).toFixed(1)
    const gcMax = Math.max(0, ...gcs)
    console.log(`${label.padEnd(12)} p50 ${ms(delay.percentile(50)).padStart(7)} ms  p99 ${ms(delay.percentile(99)).padStart(7)} ms  max ${ms(delay.max).padStart(7)} ms  ` +
      `GC ${gcs.length} pauses, ${gcs.filter(d => d >= 50).length} >= 50 ms, longest ${gcMax.toFixed(1)} ms, ${(gcs.reduce((a, b) => a + b, 0) / 1000).toFixed(2)} s in all  ` +
      `(${UPLOADS} x ${args.mb} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s)`)
    return delay.percentile(99) / 1e6
  } finally {
    await store.close()
    await db.close()
    await rm(dir, { recursive: true, force: true })
  }
}

const bodies = Array.from({ length: UPLOADS }, (_, i) => body(i))
console.log(`corpus upload: ${UPLOADS} concurrent uploads of ${args.mb} MiB (${FILES} files each), queued one at a time; main-thread event-loop delay and GC pauses (a crowded machine inflates both)`)
// The machine's own floor: the delay of an idle loop for a few seconds (a crowded machine's scheduling shows here too).
const idle = monitorEventLoopDelay({ resolution: 10 })
idle.enable()
await new Promise(resolve => setTimeout(resolve, 5000))
idle.disable()
console.log(`${'idle loop'.padEnd(12)} p50 ${(idle.percentile(50) / 1e6).toFixed(1).padStart(7)} ms  p99 ${(idle.percentile(99) / 1e6).toFixed(1).padStart(7)} ms  max ${(idle.max / 1e6).toFixed(1).padStart(7)} ms  (5 s, no work: this machine's floor now)`)
if (args.unfixed) await run('unfixed', bodies, onMainThread, Infinity, UPLOADS)
const baseline = args.only === 'worker' ? NaN : await run('main-thread', bodies, onMainThread, 10, 1)
const worker = args.only === 'main-thread' ? NaN : await run('worker', bodies, onWorker, 10, 1)
if (args.only === undefined) console.log(`p99 worker/main-thread: ${(worker / baseline).toFixed(3)}; target worker p99 < ${TARGET_P99_MS} ms: ${worker < TARGET_P99_MS ? 'met' : 'NOT met'}`)
