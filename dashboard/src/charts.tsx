/** Line charts with uPlot over the node's stats history (GET /v1/stats/history): the last hour. */
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { useEffect, useRef } from 'preact/hooks'
import type { StatsHistory } from './types.js'

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563']

interface Series { label: string, values: Array<number | null> }

function Chart ({ title, times, series, testid }: { title: string, times: number[], series: Series[], testid: string }) {
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    if (box.current === null) return
    const plot = new uPlot({
      title,
      width: Math.max(320, Math.min(560, box.current.clientWidth || 480)),
      height: 220,
      series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length], width: 2 }))],
      axes: [{}, { size: 50 }],
      // Always the last hour up to the newest sample (one sample alone would be padded to years).
      scales: { x: { time: true, range: (_u, _min, max) => [max - 3600, max] } },
    }, [times, ...series.map(s => s.values)], box.current)
    return () => { plot.destroy() }
  }, [title, times, series])
  return <div class='chart' data-testid={testid} ref={box} />
}

/** One series per node (by name), in the order nodes first appear. */
function perNode (history: StatsHistory, value: (n: StatsHistory['samples'][number]['nodes'][number]) => number, suffix = ''): Series[] {
  const ids: string[] = []
  const names = new Map<string, string>()
  for (const s of history.samples) for (const n of s.nodes) { if (!names.has(n.peerId)) ids.push(n.peerId); names.set(n.peerId, n.name) }
  return ids.map(id => ({ label: `${names.get(id) ?? id}${suffix}`, values: history.samples.map(s => { const n = s.nodes.find(x => x.peerId === id); return n === undefined ? null : value(n) }) }))
}

export function Charts ({ history }: { history: StatsHistory }) {
  const times = history.samples.map(s => s.at / 1000)
  const perMinute = 60_000 / history.intervalMs
  const states = [...new Set(history.samples.flatMap(s => Object.keys(s.transitions)))].sort()
  const rates: Series[] = states.map(state => ({ label: state, values: history.samples.map(s => (s.transitions[state] ?? 0) * perMinute) }))
  return (
    <section class='charts'>
      <Chart testid='chart-tasks' title='Tasks per minute by state' times={times} series={rates.length > 0 ? rates : [{ label: 'none yet', values: times.map(() => 0) }]} />
      <Chart testid='chart-queue' title='Queued and running per node' times={times} series={[...perNode(history, n => n.queued, ' queued'), ...perNode(history, n => n.running, ' running')]} />
      <Chart testid='chart-cpu' title='CPU load per node (%)' times={times} series={perNode(history, n => n.cpuPercent)} />
    </section>
  )
}
