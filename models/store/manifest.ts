/**
 * The store's manifest, `<store>/index.json`: `{ version: 1, models: ModelRecord[] }`. It is
 * replaced whole (temporary file, fsync, rename, directory fsync), so a reader sees the old or
 * the new one, never a mix. A manifest that cannot be parsed is a DataDirError: it is never
 * silently replaced, since that would forget every model in it.
 */
import { DataDirError, readIfExists, writeFileDurable } from '../../base/index.js'

export const MANIFEST_VERSION = 1

/** One model as the manifest records it. */
export interface ModelRecord {
  name: string
  /** A copy: its path relative to the store dir. A link: the absolute path it was added from. */
  file: string
  linked: boolean
  /** SHA-256 of the file, lowercase hex. */
  digest: string
  bytes: number
  architecture: string
  /** `Q4_0`, `Q4_K_M`, `F16`... */
  quantization: string
  /** The context length the model was trained for; null when the file does not say. */
  contextLength: number | null
  parameterCount: number
  /** ISO 8601. */
  addedAt: string
  /** A link only: the file's modification time when added, to notice a changed file cheaply. */
  mtimeMs?: number
}

export async function readManifest (path: string): Promise<ModelRecord[]> {
  const bytes = await readIfExists(path)
  if (bytes === undefined) return []
  let parsed: unknown
  try {
    parsed = JSON.parse(bytes.toString('utf8'))
  } catch (err) {
    throw new DataDirError(`${path} is not valid JSON; fix or remove it (the model files stay where they are)`, { cause: err })
  }
  const doc = parsed as { version?: unknown, models?: unknown }
  if (typeof doc !== 'object' || doc === null || doc.version !== MANIFEST_VERSION || !Array.isArray(doc.models)) {
    throw new DataDirError(`${path} is not a version ${MANIFEST_VERSION} model manifest`)
  }
  const bad = doc.models.findIndex(m => !isRecord(m))
  if (bad >= 0) throw new DataDirError(`${path}: model entry ${bad} is malformed`)
  return doc.models as ModelRecord[]
}

export async function writeManifest (path: string, models: readonly ModelRecord[]): Promise<void> {
  await writeFileDurable(path, JSON.stringify({ version: MANIFEST_VERSION, models }, null, 2) + '\n')
}

function isRecord (m: unknown): m is ModelRecord {
  const r = m as Record<string, unknown>
  return typeof r === 'object' && r !== null &&
    typeof r.name === 'string' && typeof r.file === 'string' && typeof r.linked === 'boolean' &&
    typeof r.digest === 'string' && typeof r.bytes === 'number' && typeof r.architecture === 'string' &&
    typeof r.quantization === 'string' && (r.contextLength === null || typeof r.contextLength === 'number') &&
    typeof r.parameterCount === 'number' && typeof r.addedAt === 'string'
}
