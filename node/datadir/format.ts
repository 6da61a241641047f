/**
 * The data dir's format version: <data-dir>/format.json, `{"format": N, "writtenBy": "x.y.z"}`.
 * gryphgen 0.1.0 and older wrote no such file: a data dir that holds their files (identity,
 * swarm key, database) without it is format 0. Opening a data dir migrates an older format in
 * place, one step at a time; each step is idempotent and the file is written (fsynced) only
 * after every step succeeded, so a crash mid-way reruns the migration on the next start.
 * A data dir of a newer format than this build knows is refused and left untouched: an older
 * binary must never rewrite what a newer one wrote.
 */
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { GryphgenError, DataDirError, readIfExists, writeFileDurable } from '../../base/index.js'

/** The format this build reads and writes. */
export const DATA_DIR_FORMAT = 4

export const FORMAT_FILE = 'format.json'

/** The data dir was written by a newer gryphgen (a higher format number). */
export class DataDirTooNewError extends GryphgenError {}

export interface FormatCheck {
  /** The format found on disk (0: written before format numbers; null: a new, empty data dir). */
  found: number | null
  format: number
  migrated: boolean
}

/** Files that only a data dir in use holds (a brand-new one has none). */
const USED_MARKERS = ['identity.key', 'swarm.key', 'api-token', 'db']

/**
 * One migration step per format: `steps[n]` turns format n into n + 1.
 * 0 → 1: nothing on disk changes shape; the step only records that the format is now tracked.
 * 1 → 2: compaction summaries are stored once: task records that embed their summary are
 * deleted or rewritten without it (ledger/records.ts), then LevelDB reclaims their space.
 * 2 → 3: every summary gets its state table row (ledger/table.ts), what joiners are sent.
 * 3 → 4: summaries are rewritten as format 2 (each output held once; ledger/summary-upgrade.ts),
 * with their rows.
 */
const steps: Array<(dataDir: string) => Promise<void>> = [
  async () => {},
  async dataDir => { await withLedgerDb(dataDir, async (db, ledger) => { await ledger.migrateTaskRecords(db) }) },
  async dataDir => { await withLedgerDb(dataDir, async (db, ledger) => { await ledger.buildStateTable(db) }) },
  async dataDir => { await withLedgerDb(dataDir, async (db, ledger) => { await ledger.upgradeSummaries(db) }) },
]

/** Run `step` on the data dir's database, if it has one. */
async function withLedgerDb (dataDir: string, step: (db: import('classic-level').ClassicLevel<string, string>, ledger: typeof import('../../ledger/index.js')) => Promise<void>): Promise<void> {
  const path = join(dataDir, 'db')
  if (!await access(path).then(() => true, () => false)) return
  // Loaded only when a migration runs: opening a current data dir stays cheap.
  const [{ ClassicLevel }, ledger] = await Promise.all([import('classic-level'), import('../../ledger/index.js')])
  const db = new ClassicLevel<string, string>(path, { valueEncoding: 'utf8' })
  await db.open()
  try {
    await step(db, ledger)
  } finally {
    await db.close()
  }
}

export async function readDataDirFormat (dataDir: string): Promise<number | null> {
  const path = join(dataDir, FORMAT_FILE)
  const bytes = await readIfExists(path)
  if (bytes === undefined) {
    const used = await Promise.all(USED_MARKERS.map(async f => await access(join(dataDir, f)).then(() => true, () => false)))
    return used.some(Boolean) ? 0 : null
  }
  let parsed: unknown
  try { parsed = JSON.parse(bytes.toString('utf8')) } catch { parsed = undefined }
  const format = (parsed as { format?: unknown } | undefined)?.format
  if (typeof format !== 'number' || !Number.isInteger(format) || format < 1) {
    throw new DataDirError(`${path} is corrupt (expected {"format": <whole number>}); restore it from a backup`)
  }
  return format
}

/** Migrates an older data dir to DATA_DIR_FORMAT (or stamps a new one); refuses a newer one. */
export async function ensureDataDirFormat (dataDir: string, writtenBy: string): Promise<FormatCheck> {
  const found = await readDataDirFormat(dataDir)
  if (found !== null && found > DATA_DIR_FORMAT) {
    throw new DataDirTooNewError(`${dataDir} has data dir format ${found}, written by a newer gryphgen; this gryphgen (${writtenBy}) knows format ${DATA_DIR_FORMAT} at most. Upgrade gryphgen, or use another --data-dir; the data dir was not changed`,
      { details: { dataDir, found, supported: DATA_DIR_FORMAT } })
  }
  if (found === DATA_DIR_FORMAT) return { found, format: DATA_DIR_FORMAT, migrated: false }
  for (let n = found ?? DATA_DIR_FORMAT; n < DATA_DIR_FORMAT; n++) await steps[n](dataDir)
  await writeFileDurable(join(dataDir, FORMAT_FILE), JSON.stringify({ format: DATA_DIR_FORMAT, writtenBy }) + '\n', 0o644)
  return { found, format: DATA_DIR_FORMAT, migrated: found !== null }
}
