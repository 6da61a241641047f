/** Commander wiring of `gryphgen ledger status|compact`: the node's ledger retention, through its API. */
import type { Command } from 'commander'
import { UsageError } from '../../base/index.js'
import type { CompactBodyT, LedgerStatusT } from '../api/index.js'
import { apiRequest } from './client.js'
import { configOption, dataDirOption, localNode, type Common } from './options.js'
import { write, writeJson } from './output.js'

const COMPACT_TIMEOUT_MS = 600_000

export function formatLedgerStatus (s: LedgerStatusT): string {
  const rows: Array<[string, string]> = [
    ['entries', `${s.entries} (${s.indexed} indexed)`],
    ['live', String(s.liveEntries ?? '-')],
    ['compacted', `${s.compactedEntries ?? 0} entries, ${s.compactedTasks ?? 0} tasks (${s.expiredTasks ?? 0} expired)`],
    ['on disk', s.bytesOnDisk === undefined ? '-' : `${(s.bytesOnDisk / 1024 / 1024).toFixed(1)} MiB`],
    ['oldest live', s.oldestLiveEntry == null ? '-' : `${s.oldestLiveEntry.at} (seq ${s.oldestLiveEntry.seq} of ${s.oldestLiveEntry.author.slice(-8)})`],
    ['last run', s.lastCompactionAt ?? 'never'],
    ['next run', s.nextCompactionAt ?? 'off (ledger.retention.afterMs is 0)'],
  ]
  if (s.retention !== undefined) rows.push(['retention', `${s.retention.afterMs} ms, every ${s.retention.everyMs} ms; summaries ${s.retention.summariesMs === undefined || s.retention.summariesMs === 0 ? 'kept' : `expire after ${s.retention.summariesMs} ms`}`])
  return rows.map(([k, v]) => `${k.padEnd(11)}  ${v}`).join('\n')
}

export function addLedgerCommands (program: Command): void {
  const ledger = program.command('ledger').description("the node's task ledger: retention status, compaction")
  const sub = (name: string, description: string): Command =>
    ledger.command(name).description(description).addOption(dataDirOption()).addOption(configOption()).option('--json', 'print JSON')

  sub('status', 'entries live and compacted, bytes on disk, the oldest live entry, the next compaction')
    .action(async (opts: Common) => {
      const { local } = await localNode(opts)
      const status = await apiRequest<LedgerStatusT>(local, 'GET', '/v1/ledger/status')
      if (opts.json === true) writeJson(status)
      else write(formatLedgerStatus(status))
    })

  sub('compact', 'compact now the tasks that ended longer ago than the retention window (or --older-than-ms)')
    .option('--older-than-ms <ms>', 'compact tasks that ended longer ago than this instead')
    .action(async (opts: Common & { olderThanMs?: string }) => {
      const olderThanMs = opts.olderThanMs === undefined ? undefined : Number(opts.olderThanMs)
      if (olderThanMs !== undefined && (!Number.isInteger(olderThanMs) || olderThanMs < 0)) throw new UsageError('--older-than-ms must be a whole number of milliseconds, 0 or more')
      const { local } = await localNode(opts)
      const result = await apiRequest<CompactBodyT>(local, 'POST', '/v1/ledger/compact', { body: olderThanMs === undefined ? {} : { olderThanMs }, signal: AbortSignal.timeout(COMPACT_TIMEOUT_MS) })
      if (opts.json === true) writeJson(result)
      else write(`compacted ${result.tasks} tasks (${result.entries} entries) that ended before ${result.horizon}`)
    })
}
