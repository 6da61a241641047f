/**
 * Corpus upload benchmark (issue 15 item 4): `node --import tsx scripts/bench-corpus-upload.ts
 * [--uploads 8] [--mb 2] [--files 64]`. Event-loop delay (perf_hooks.monitorEventLoopDelay)
 * while `--uploads` concurrent uploads of `--mb` MiB each (`--files` documents apiece, as the
 * CLI sends a directory) are parsed from JSON and added to a CorpusStore on a real LevelDB:
 *  - baseline: every upload at once, indexing in one piece (the node before the fix);
 *  - fixed: uploads through a queue of one (the API's heavy-request gate), indexing yielding
 *    to the loop every 10 ms (the store's default).
 * Prints p50/p99/max delay of each and the ratio of p99s (target: fixed p99 under 100 ms).
 * Synthetic text from a seeded PRNG, so every run indexes the same bytes.
 */
import '../base/polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { ClassicLevel } from 'classic-level'
import PQueue from 'p-queue'
import { CorpusStore } from '../pipeline/corpus/index.js'
import './bench/busy.js' // --busy: a standard CPU load beside this run (scripts/bench/busy.ts)

const { values: args } = parseArgs({ options: { uploads: { type: 'string', default: '8' }, mb: { type: 'string', default: '2' }, files: { type: 'string', default: '64' } } })
const UPLOADS = Number(args.uploads)
const BYTES = Number(args.mb) * 1024 * 1024
const FILES = Number(args.files)
const TARGET_P99_MS = 100

let seed = 0x2545f491
const random = (): number => { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
const WORDS = 'parse format load save read write fetch send build create update delete remove insert merge split join sort filter map reduce validate check compute resolve render token session request response header cache queue worker lease'.split(' ')

function body (upload: number): string {
  const documents = Array.from({ length: FILES }, (_, f) => {
    const lines: string[] = []
    for (let n = 0; n < BYTES / FILES;) {
      const line = `def ${WORDS[Math.floor(random() * WORDS.length)]}_${Math.floor(random() * 500)}(x): return ` + Array.from({ length: 8 }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ')
      lines.push(line, ...(random() < 0.2 ? [''] : []))
      n += line.length + 1
    }
    return { path: `u${upload}/f${f}.py`, text: lines.join('\n') }
  })
  return JSON.stringify({ documents })
}

async function run (label: string, bodies: string[], yieldEveryMs: number, concurrency: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-corpus-upload-'))
  const db = new ClassicLevel<string, string>(dir)
  await db.open()
  try {
    const store = await CorpusStore.open(db, { yieldEveryMs })
    const queue = new PQueue({ concurrency })
    const delay = monitorEventLoopDelay({ resolution: 10 })
    delay.enable()
    const started = performance.now()
    await Promise.all(bodies.map(async (text, i) => queue.add(async () => {
      const { documents } = JSON.parse(text) as { documents: Array<{ path: string, text: string }> }
      await store.add(`c${i % 2}`, documents)
    })))
    delay.disable()
    const ms = (ns: number): string => (ns / 1e6).toFixed(1)
    console.log(`${label.padEnd(9)} p50 ${ms(delay.percentile(50)).padStart(8)} ms  p99 ${ms(delay.percentile(99)).padStart(8)} ms  max ${ms(delay.max).padStart(8)} ms  (${UPLOADS} x ${args.mb} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s)`)
    return delay.percentile(99) / 1e6
  } finally {
    await db.close()
    await rm(dir, { recursive: true, force: true })
  }
}

const bodies = Array.from({ length: UPLOADS }, (_, i) => body(i))
console.log(`corpus upload: ${UPLOADS} concurrent uploads of ${args.mb} MiB (${FILES} files each); event-loop delay`)
const baseline = await run('baseline', bodies, Infinity, UPLOADS)
const fixed = await run('fixed', bodies, 10, 1)
console.log(`p99 fixed/baseline: ${(fixed / baseline).toFixed(3)}; target p99 < ${TARGET_P99_MS} ms: ${fixed < TARGET_P99_MS ? 'met' : 'NOT met'}`)
