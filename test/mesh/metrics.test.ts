/**
 * GET /metrics of real nodes on a loopback mesh (real worker processes and sandboxes): the text
 * passes `promtool check metrics` (Debian's prometheus package; prom-client's own format when
 * promtool is missing is not accepted: the test says so), and the counters move when real tasks
 * run. The second node adds libp2p's metrics (one node per registry with them, see
 * node/monitoring/node-metrics.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { spawnSync } from 'node:child_process'
import { readApiToken } from '../../node/datadir/index.js'
import { newSwarmKeyHex, nodeTracker, waitFor } from '../helpers/nodes.js'
import type { GryphgenNode } from '../../node/node.js'

const nodes = nodeTracker()
let a: GryphgenNode
let b: GryphgenNode

beforeAll(async () => {
  const swarmKey = newSwarmKeyHex()
  a = await nodes.start({ swarmKey, execWorkers: 1, name: 'metrics-a' })
  b = await nodes.start({ swarmKey, bootstrap: a.addresses(), execWorkers: 1, name: 'metrics-b', metrics: { libp2p: true } })
  await waitFor(() => [a, b].every(n => n.peers().length === 1 && n.peers()[0].capabilities.sandbox?.available === true))
})
afterAll(async () => { await nodes.stopAll() })

async function scrape (node: GryphgenNode, token?: string): Promise<Response> {
  return fetch(`${node.apiUrl}/metrics`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(60_000) })
}

async function metricsText (node: GryphgenNode): Promise<string> {
  const res = await scrape(node, await readApiToken(node.config.dataDir))
  expect(res.status).toBe(200)
  return res.text()
}

/** The value of one sample (labels in any order), or 0 when absent. */
function sample (text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line)
    if (m === null || m[1] !== name) continue
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(l => [l[1], l[2]]))
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3])
  }
  return 0
}

const total = (texts: string[], name: string, labels: Record<string, string> = {}): number => texts.reduce((sum, t) => sum + sample(t, name, labels), 0)

describe('GET /metrics on a real mesh', () => {
  test('needs the token (401 in the API\'s error shape)', async () => {
    const res = await scrape(a)
    expect(res.status).toBe(401)
    expect((await res.json()).error.name).toBe('UnauthorizedError')
  })

  test('passes promtool check metrics, on both nodes (libp2p metrics included on b)', async () => {
    const found = spawnSync('promtool', ['--version'], { encoding: 'utf8' })
    expect(found.error, 'promtool is missing: apt-get install -y --no-install-recommends prometheus').toBeUndefined()
    const check = async (node: GryphgenNode): Promise<string[]> => {
      const text = await metricsText(node)
      expect(sample(text, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThan(0)
      const checked = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 60_000 })
      return `${checked.stdout}${checked.stderr}`.split('\n').filter(l => l.trim() !== '')
    }
    // Ours and prom-client's: clean.
    expect(await check(a)).toEqual([])
    expect(await metricsText(a)).not.toMatch(/^libp2p_/m)
    // libp2p's own metric names break Prometheus' naming rules (*_total gauges, milliseconds):
    // promtool parses the text and only lints those names (the reason they are opt-in).
    expect(await metricsText(b)).toMatch(/^libp2p_/m)
    const complaints = await check(b)
    expect(complaints.filter(l => !/^libp2p_\w+ (non-counter metrics should not have "_total" suffix|use base unit "seconds")/.test(l))).toEqual([])
  })

  test('counters move when real tasks run', async () => {
    const before = await Promise.all([a, b].map(metricsText))
    const exec = (command: string[], extra = {}): Record<string, unknown> => ({ kind: 'exec', command, requirements: { cpus: 1, memoryMb: 64 }, ...extra })
    const ids = [
      (await a.tasks.submit(exec(['true']), {})).id,
      (await a.tasks.submit(exec(['true']), {})).id,
      (await a.tasks.submit(exec(['sh', '-c', 'exit 3']), {})).id,
      // Hits its wall-clock limit however busy the machine: it would sleep far longer.
      (await a.tasks.submit(exec(['sleep', '600'], { limits: { timeoutMs: 1500 } }), {})).id,
    ]
    await waitFor(async () => (await Promise.all(ids.map(async id => a.tasks.get(id)))).every(t => ['succeeded', 'failed'].includes(t.state)))
    const states = await Promise.all(ids.map(async id => (await a.tasks.get(id)).state))
    expect(states).toEqual(['succeeded', 'succeeded', 'failed', 'failed'])
    // The ledger events that drive the task counters may land a moment after the state is read.
    await waitFor(async () => sample(await metricsText(a), 'gryphgen_tasks_ended_total', { kind: 'exec', state: 'failed' }) >= 2 + sample(before[0], 'gryphgen_tasks_ended_total', { kind: 'exec', state: 'failed' }))
    const after = await Promise.all([a, b].map(metricsText))
    const moved = (name: string, labels: Record<string, string> = {}, texts = [0, 1]): number =>
      total(texts.map(i => after[i]), name, labels) - total(texts.map(i => before[i]), name, labels)
    expect(moved('gryphgen_tasks_submitted_total', { kind: 'exec' }, [0])).toBe(4)
    expect(moved('gryphgen_tasks_ended_total', { kind: 'exec', state: 'succeeded' }, [0])).toBe(2)
    expect(moved('gryphgen_tasks_ended_total', { kind: 'exec', state: 'failed' }, [0])).toBe(2)
    expect(moved('gryphgen_auction_duration_seconds_count', {}, [0])).toBe(4)
    expect(moved('gryphgen_bids_received_total', {}, [0])).toBeGreaterThanOrEqual(4)
    expect(moved('gryphgen_bids_sent_total')).toBeGreaterThanOrEqual(1)
    // The runs happened on whichever node won each auction: the mesh's sum counts them.
    expect(moved('gryphgen_sandbox_runs_total', { outcome: 'succeeded', limit: 'none' })).toBe(2)
    expect(moved('gryphgen_sandbox_runs_total', { outcome: 'nonzero_exit', limit: 'none' })).toBe(1)
    expect(moved('gryphgen_sandbox_runs_total', { outcome: 'timed_out', limit: 'wall' })).toBe(1)
    expect(moved('gryphgen_ledger_entries', {}, [0])).toBeGreaterThan(0)
    expect(moved('gryphgen_http_requests_total', { method: 'GET', route: '/metrics', status: '200' }, [0])).toBeGreaterThanOrEqual(1)
    for (const text of after) {
      expect(sample(text, 'gryphgen_peers_connected')).toBe(1)
      expect(sample(text, 'gryphgen_adverts_total', { direction: 'accepted' })).toBeGreaterThan(0)
      expect(sample(text, 'gryphgen_workers_ready', { worker_kind: 'exec' })).toBe(1)
    }
  })
})
