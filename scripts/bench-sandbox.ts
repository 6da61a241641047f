/**
 * Sandbox benchmark (issue 3): `node --import tsx scripts/bench-sandbox.ts`.
 *  1. Start-up overhead: median wall time of a sandboxed `/bin/true` (default limits) against a
 *     plain spawn of `/bin/true`, interleaved in this same process so all see the same machine
 *     load: warm (a warm sandbox ready, the node's usual case between tasks; the bench waits
 *     until the next one is ready before each round, so its start-up never overlaps a timing)
 *     and cold (no warm sandbox: the whole launch on the critical path).
 *     Target: sandboxed <= 2.0x plain and overhead <= 8 ms.
 *  2. 20 concurrent sandboxed runs (a short Python program each) on this machine: all must
 *     succeed, and afterwards no sandbox process, uid, cgroup or task folder may remain.
 * Bounded loops only; exits non-zero when part 2 fails.
 */
import { spawn } from 'node:child_process'
import { readFile, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { createSandbox, type Sandbox } from '../sandbox/index.js'
import { TASK_GROUP_PREFIX } from '../sandbox/cgroup.js'
import { ownV1Directories, ownV2Directory, parseMountinfo, parseProcCgroup } from '../sandbox/cgroup-paths.js'
import { listProcesses } from '../sandbox/procfs.js'
import { SANDBOX_UID_RANGE } from '../sandbox/uid-pool.js'
import { busy } from './bench/busy.js'

const ROUNDS = 60
const WARMUP = 5
const CONCURRENT = 20
const TARGET_OVERHEAD_MS = 8
const TARGET_RATIO = 2.0

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN
const ms = (value: number): string => `${value.toFixed(2)} ms`

async function plainTrue (): Promise<number> {
  const started = performance.now()
  await new Promise<void>((resolve, reject) => {
    const child = spawn('/bin/true', [], { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.resume()
    child.stderr.resume()
    child.once('error', reject)
    child.once('close', () => { resolve() })
  })
  return performance.now() - started
}

async function sandboxedTrue (sandbox: Sandbox): Promise<number> {
  const started = performance.now()
  const result = await sandbox.run({ command: ['/bin/true'] })
  if (result.exitCode !== 0) throw new Error(`sandboxed /bin/true failed: ${JSON.stringify(result)}`)
  return performance.now() - started
}

/** Everything a run could leave behind, listed. */
async function leftovers (): Promise<string[]> {
  const found: string[] = []
  const inRange = (uid: number): boolean => uid >= SANDBOX_UID_RANGE.first && uid < SANDBOX_UID_RANGE.first + SANDBOX_UID_RANGE.count
  for (const p of await listProcesses()) {
    if (inRange(p.uid)) found.push(`process ${p.pid} (uid ${p.uid}, state ${p.state}): ${p.cmdline}`)
  }
  const own = parseProcCgroup(await readFile('/proc/self/cgroup', 'utf8'))
  const mounts = parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'))
  const parents = [...ownV1Directories(own, mounts, ['memory', 'pids', 'cpuacct']).values(), ownV2Directory(own, mounts)]
  for (const parent of parents) {
    if (parent === null) continue
    const names = await readdir(parent).catch(() => [] as string[])
    for (const name of names) if (name.startsWith(TASK_GROUP_PREFIX)) found.push(`cgroup ${parent}/${name}`)
  }
  for (const name of await readdir(tmpdir())) if (name.startsWith(TASK_GROUP_PREFIX)) found.push(`task folder ${tmpdir()}/${name}`)
  const claims = await readdir('/run/gryphgen-sandbox').catch(() => [] as string[])
  for (const name of claims) {
    const owner = await readFile(`/run/gryphgen-sandbox/${name}`, 'utf8').catch(() => '')
    if (owner === String(process.pid)) found.push(`uid claim /run/gryphgen-sandbox/${name}`)
  }
  return found
}

async function main (): Promise<void> {
  const warm = createSandbox()
  const cold = createSandbox({ warm: 0 })
  const probe = await warm.probe()
  console.log(`sandbox: ${JSON.stringify(probe)}`)
  if (!probe.available) throw new Error('sandbox unavailable on this host')

  const times = { plain: [] as number[], warm: [] as number[], cold: [] as number[] }
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    await warm.prepared()
    const round = { plain: await plainTrue(), warm: await sandboxedTrue(warm), cold: await sandboxedTrue(cold) }
    if (i >= WARMUP) for (const key of ['plain', 'warm', 'cold'] as const) times[key].push(round[key])
  }
  const plain = median(times.plain)
  console.log(`\n/bin/true, median of ${ROUNDS} interleaved rounds (limits: ${probe.limits}, uid per run: ${String(probe.uidPerRun)})`)
  console.log(`  plain spawn        ${ms(plain)}`)
  for (const key of ['warm', 'cold'] as const) {
    const overhead = median(times[key]) - plain
    const ratio = median(times[key]) / plain
    const met = overhead <= TARGET_OVERHEAD_MS && ratio <= TARGET_RATIO
    console.log(`  sandboxed, ${key}    ${ms(median(times[key]))}   overhead ${ms(overhead)}   ratio ${ratio.toFixed(2)}x   target <= ${TARGET_RATIO}x and <= ${TARGET_OVERHEAD_MS} ms: ${met ? 'met' : 'MISSED'}`)
  }
  console.log(`  ${busy.report()}`)
  await cold.close()

  const started = performance.now()
  const results = await Promise.allSettled(Array.from({ length: CONCURRENT }, async (_, i) => await warm.run({
    files: { 'job.py': 'import sys\nprint(sum(range(int(sys.argv[1]))))\n' },
    command: ['python3', 'job.py', String(100_000 + i)],
  })))
  const elapsed = performance.now() - started
  const failures = results.flatMap((r, i) => {
    if (r.status === 'rejected') return [`run ${i}: ${String(r.reason)}`]
    const expected = String((100_000 + i) * (100_000 + i - 1) / 2)
    return r.value.exitCode === 0 && r.value.stdout.trim() === expected ? [] : [`run ${i}: ${JSON.stringify(r.value).slice(0, 300)}`]
  })
  await warm.close()
  await sleep(50)
  const left = await leftovers()
  console.log(`\n${CONCURRENT} concurrent sandboxed python3 runs: ${CONCURRENT - failures.length}/${CONCURRENT} ok in ${ms(elapsed)}`)
  console.log(`  left behind: ${left.length === 0 ? 'nothing (processes, uids and uid claims, cgroups, task folders checked)' : ''}`)
  for (const line of [...failures, ...left]) console.log(`  ${line}`)
  if (failures.length > 0 || left.length > 0) process.exitCode = 1
}

await main()
