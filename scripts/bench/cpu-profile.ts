/**
 * A per-task CPU breakdown from V8 CPU profiles (`node --cpu-prof`, e.g. bench:tasks with
 * BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"): self time by part of the code (this
 * repository's folders, then node_modules packages, Node internals, GC, idle), divided by the
 * tasks the run completed. `node --import tsx scripts/bench/cpu-profile.ts DIR TASKS [FROM TO]`:
 * FROM/TO (µs on the monotonic clock, as bench:tasks prints them) keep only the samples of the
 * measured window (start-up and shutdown left out). Then the top functions by self time
 * (part and function name), for what a part's share is made of.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

interface ProfileNode { id: number, callFrame: { functionName: string, url: string }, children?: number[] }
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[], startTime: number }

const OWN = /\/(dist\/)?(base|node|tasks|ledger|protocols|workers|sandbox|scheduler|blobs|models|pipeline)\/[^/]+$/

function partOf (frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame
  if (url === '') {
    if (functionName === '(idle)' || functionName === '(program)' || functionName === '(garbage collector)') return functionName
    return `native ${functionName === '' ? '(anonymous)' : functionName}`
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg !== null) return pkg[1]
  if (url.startsWith('node:')) return url
  const own = /\/(dist\/)?(base|node|tasks|ledger|protocols|workers|sandbox|scheduler|blobs|models|pipeline)\/([^/]+)/.exec(url)
  if (own !== null) return `${own[2]}/${own[3].replace(/\.(js|ts)$/, '')}`
  return url
}

export async function breakdown (dir: string, tasks: number, from = -Infinity, to = Infinity, topFunctions = 30): Promise<string> {
  const totals = new Map<string, number>()
  const functions = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let all = 0
  for (const file of (await readdir(dir)).filter(f => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as Profile
    const byId = new Map(profile.nodes.map(n => [n.id, n]))
    const parent = new Map<number, number>()
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
    let at = profile.startTime
    profile.samples.forEach((id, i) => {
      at += profile.timeDeltas[i] ?? 0
      if (at < from || at > to) return
      const part = partOf(byId.get(id)?.callFrame ?? { functionName: '?', url: '' })
      const us = profile.timeDeltas[i] ?? 0
      totals.set(part, (totals.get(part) ?? 0) + us)
      if (part === '(idle)') return
      all += us
      const name = `${part} ${byId.get(id)?.callFrame.functionName ?? '?'}`
      functions.set(name, (functions.get(name) ?? 0) + us)
      // Inclusive time of this repository's functions: each counted once per sample however deep it recurs.
      const onStack = new Set<string>()
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const frame = byId.get(at)?.callFrame
        if (frame === undefined || !OWN.test(frame.url)) continue
        onStack.add(`${partOf(frame)} ${frame.functionName === '' ? '(anonymous)' : frame.functionName}`)
      }
      for (const f of onStack) inclusive.set(f, (inclusive.get(f) ?? 0) + us)
    })
  }
  const rows = [...totals].filter(([part]) => part !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, 25)
  const perTask = (us: number): string => `${(us / Math.max(1, tasks)).toFixed(0).padStart(6)} µs/task`
  return [
    `busy CPU (not idle) ${(all / 1000).toFixed(0)} ms over ${tasks} tasks: ${perTask(all)}`,
    ...rows.map(([part, us]) => `  ${perTask(us)}  ${(100 * us / all).toFixed(1).padStart(5)}%  ${part}`),
    `top functions by self time:`,
    ...[...functions].sort((a, b) => b[1] - a[1]).slice(0, topFunctions).map(([name, us]) => `  ${perTask(us)}  ${(100 * us / all).toFixed(1).padStart(5)}%  ${name}`),
    `this repository's functions by inclusive time (self and callees):`,
    ...[...inclusive].sort((a, b) => b[1] - a[1]).slice(0, topFunctions).map(([name, us]) => `  ${perTask(us)}  ${(100 * us / all).toFixed(1).padStart(5)}%  ${name}`),
  ].join('\n')
}

if (process.argv[1]?.endsWith('cpu-profile.ts') === true) {
  const [dir, tasks, from, to] = process.argv.slice(2)
  process.stdout.write(await breakdown(dir, Number(tasks), from === undefined ? undefined : Number(from), to === undefined ? undefined : Number(to)) + '\n')
}
