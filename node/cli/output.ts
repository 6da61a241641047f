/** Terminal output for the CLI: plain tables, JSON, short ids and sizes. */

export function write (text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n')
}

export function writeError (text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : text + '\n')
}

export function writeJson (value: unknown): void {
  write(JSON.stringify(value, null, 2))
}

export function table (header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

export function shortId (peerId: string): string {
  return peerId.length > 16 ? `${peerId.slice(0, 8)}…${peerId.slice(-6)}` : peerId
}

export function mb (value: number): string {
  return value >= 1024 ? `${(value / 1024).toFixed(1)} GiB` : `${value} MiB`
}

export function ago (iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000))
  return s < 120 ? `${s}s ago` : `${Math.round(s / 60)}m ago`
}
