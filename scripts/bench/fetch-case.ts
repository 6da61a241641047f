/** The scheduler simulator's fetch-then-run table (scripts/simulate-scheduler.ts). */
import { fetchThenRun } from '../../scheduler/index.js'

/** models.autoFetch: a busy holder against an idle node that would fetch the model first (1 GB). */
export function printFetchCase (): boolean {
  console.log('')
  console.log('fetch then run (1000 MB model): holder busy s, fetch MB/s -> holder done s, fetcher done s, chosen')
  let ok = true
  for (const holderBusyMs of [0, 5_000, 30_000, 120_000]) {
    for (const fetchMbPerS of [10, 100, 1000]) {
      const r = fetchThenRun({ holderBusyMs, fetchMbPerS, sizeMb: 1000 })
      // A tie may go either way (rendezvous order): both finish at the same time.
      const right = r.winner === 'fetcher' ? r.fetcherMs <= r.holderMs : r.holderMs <= r.fetcherMs
      ok &&= right
      console.log(`  ${String(holderBusyMs / 1000).padStart(5)} ${String(fetchMbPerS).padStart(6)} -> ${(r.holderMs / 1000).toFixed(1).padStart(6)} ${(r.fetcherMs / 1000).toFixed(1).padStart(6)}  ${r.winner}${r.fetcherMs === r.holderMs ? ' (a tie)' : ''}${right ? '' : ' (WRONG: not the sooner)'}`)
    }
  }
  console.log(`fetch then run chosen only when it finishes sooner: ${ok ? 'PASS' : 'FAIL'}`)
  return ok
}
