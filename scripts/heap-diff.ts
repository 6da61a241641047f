/**
 * What grew between two V8 heap snapshots of one process (`node --heapsnapshot-signal=SIGUSR2`,
 * e.g. through BENCH_NODE_ARGS for the soak's nodes): objects grouped by type and constructor
 * name (strings, arrays and code together by type), their count and self size in each, sorted
 * by growth of self size. A snapshot is taken after a full GC, so what it holds is live.
 * Usage: node --import tsx scripts/heap-diff.ts BEFORE.heapsnapshot AFTER.heapsnapshot [--top N]
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'

interface Snapshot { snapshot: { meta: { node_fields: string[], node_types: [string[]] } }, nodes: number[], strings: string[] }
interface Group { count: number, bytes: number }

const BY_TYPE = new Set(['string', 'concatenated string', 'sliced string', 'code', 'number', 'hidden', 'array', 'symbol', 'bigint'])

async function groups (path: string): Promise<Map<string, Group>> {
  const snap = JSON.parse(await readFile(path, 'utf8')) as Snapshot
  const fields = snap.snapshot.meta.node_fields
  const types = snap.snapshot.meta.node_types[0]
  const width = fields.length
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map(f => fields.indexOf(f))
  const out = new Map<string, Group>()
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]]
    const key = BY_TYPE.has(type) ? `(${type})` : `${type} ${snap.strings[snap.nodes[i + nameAt]].slice(0, 60)}`
    const g = out.get(key) ?? { count: 0, bytes: 0 }
    g.count++
    g.bytes += snap.nodes[i + sizeAt]
    out.set(key, g)
  }
  return out
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } })
if (positionals.length !== 2) { console.error('usage: heap-diff.ts BEFORE.heapsnapshot AFTER.heapsnapshot [--top N]'); process.exit(2) }
const [before, after] = [await groups(positionals[0]), await groups(positionals[1])]
const total = (m: Map<string, Group>): number => [...m.values()].reduce((s, g) => s + g.bytes, 0)
console.log(`self size in total: ${(total(before) / 2 ** 20).toFixed(1)} MB -> ${(total(after) / 2 ** 20).toFixed(1)} MB`)
const rows = [...new Set([...before.keys(), ...after.keys()])].map(key => {
  const b = before.get(key) ?? { count: 0, bytes: 0 }
  const a = after.get(key) ?? { count: 0, bytes: 0 }
  return { key, b, a, grew: a.bytes - b.bytes }
}).sort((x, y) => y.grew - x.grew)
for (const r of rows.slice(0, Number(values.top))) {
  console.log(`${(r.grew / 1024).toFixed(0).padStart(8)} KB  ${String(r.b.count).padStart(8)} -> ${String(r.a.count).padEnd(8)} ${(r.b.bytes / 1024).toFixed(0).padStart(7)} -> ${(r.a.bytes / 1024).toFixed(0).padEnd(7)} KB  ${r.key}`)
}
