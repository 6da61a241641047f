/**
 * Pure config resolution: defaults < config file < environment (GRYPHGEN_*) < flags.
 * Every problem from every source is collected and reported together in one ConfigError;
 * the result is deep-frozen. No I/O: the caller reads the file and passes its text.
 */
import { Compile } from 'typebox/compile'
import { multiaddr } from '@multiformats/multiaddr'
import { ConfigError } from '../../base/index.js'
import { explainSchemaErrors } from '../../protocols/index.js'
import { defaultConfig } from './defaults.js'
import { ConfigFileSchema, ConfigSchema, type Config, type ConfigFile } from './schema.js'

const checkConfig = Compile(ConfigSchema)
const checkConfigFile = Compile(ConfigFileSchema)

/** Values set on the command line, already split by flag but still strings where the CLI had strings. */
export interface ConfigFlags {
  dataDir?: string
  name?: string
  listen?: string[]
  apiHost?: string
  apiPort?: string | number
  bootstrap?: string[]
  mdns?: boolean
  labels?: string[]
  logLevel?: string
}

export interface ConfigSources {
  /** The config file's text and where it came from, when there is one. */
  file?: { path: string, text: string }
  env?: Record<string, string | undefined>
  flags?: ConfigFlags
  /** The data dir decided before the file was read (flags/env/default). */
  dataDir?: string
}

type Setter = (raw: string, problems: string[]) => Partial<Config>

const list = (raw: string): string[] => raw.split(',').map(s => s.trim()).filter(s => s.length > 0)

function integer (source: string, raw: string, problems: string[]): number | undefined {
  if (!/^\d+$/.test(raw.trim())) {
    problems.push(`${source}: expected a whole number, got ${JSON.stringify(raw)}`)
    return undefined
  }
  return Number.parseInt(raw, 10)
}

const ENV: Record<string, Setter> = {
  GRYPHGEN_DATA_DIR: raw => ({ dataDir: raw }),
  GRYPHGEN_NAME: raw => ({ name: raw }),
  GRYPHGEN_LISTEN: raw => ({ listen: list(raw) }),
  GRYPHGEN_API_HOST: raw => ({ apiHost: raw }),
  GRYPHGEN_API_PORT: (raw, problems) => {
    const port = integer('GRYPHGEN_API_PORT', raw, problems)
    return port === undefined ? {} : { apiPort: port }
  },
  GRYPHGEN_BOOTSTRAP: raw => ({ bootstrap: list(raw) }),
  GRYPHGEN_MDNS: (raw, problems) => {
    const value = raw.trim().toLowerCase()
    if (['1', 'true', 'yes', 'on'].includes(value)) return { mdns: true }
    if (['0', 'false', 'no', 'off'].includes(value)) return { mdns: false }
    problems.push(`GRYPHGEN_MDNS: expected true or false, got ${JSON.stringify(raw)}`)
    return {}
  },
  GRYPHGEN_LABELS: raw => ({ labels: list(raw) }),
  GRYPHGEN_LOG_LEVEL: raw => ({ logLevel: raw as Config['logLevel'] }),
  // Niceness of task and model workers: a container or a CI runner may want another policy
  // than the config file's (the schema bounds them to 0-19).
  GRYPHGEN_TASK_NICE: (raw, problems) => nice('GRYPHGEN_TASK_NICE', 'taskNice', raw, problems),
  GRYPHGEN_MODEL_NICE: (raw, problems) => nice('GRYPHGEN_MODEL_NICE', 'modelNice', raw, problems),
}

function nice (source: string, key: 'taskNice' | 'modelNice', raw: string, problems: string[]): Partial<Config> {
  const value = integer(source, raw, problems)
  return value === undefined ? {} : { priority: { [key]: value } as unknown as Config['priority'] }
}

/** Environment variables that belong to the tooling rather than the node's config. */
const ENV_IGNORED = new Set(['GRYPHGEN_CONFIG'])

function fromEnv (env: Record<string, string | undefined>, problems: string[]): Partial<Config> {
  let out: Partial<Config> = {}
  for (const [key, raw] of Object.entries(env)) {
    if (!key.startsWith('GRYPHGEN_') || raw === undefined || ENV_IGNORED.has(key)) continue
    const setter = ENV[key]
    if (setter === undefined) {
      problems.push(`${key}: unknown environment variable (known: ${[...Object.keys(ENV), ...ENV_IGNORED].join(', ')})`)
      continue
    }
    const set = setter(raw, problems)
    out = { ...out, ...set, ...(set.priority === undefined ? {} : { priority: { ...out.priority, ...set.priority } }) }
  }
  return out
}

function fromFlags (flags: ConfigFlags, problems: string[]): Partial<Config> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined) continue
    if (key === 'apiPort' && typeof value === 'string') {
      const port = integer('--api-port', value, problems)
      if (port !== undefined) out.apiPort = port
      continue
    }
    out[key] = value
  }
  return out as Partial<Config>
}

function fromFile (file: { path: string, text: string }, problems: string[]): ConfigFile {
  let parsed: unknown
  try {
    parsed = JSON.parse(file.text)
  } catch (err) {
    problems.push(`${file.path}: not valid JSON (${(err as Error).message})`)
    return {}
  }
  if (!checkConfigFile.Check(parsed)) {
    for (const problem of explainSchemaErrors(checkConfigFile.Errors(parsed), ConfigFileSchema, '(top level)')) problems.push(`${file.path}: ${problem}`)
    return {}
  }
  return parsed
}

function checkAddresses (config: Config, problems: string[]): void {
  const strings = (v: unknown): string[] => Array.isArray(v) ? v.filter((a): a is string => typeof a === 'string') : []
  for (const addr of strings(config.listen)) {
    try { multiaddr(addr) } catch { problems.push(`listen: ${JSON.stringify(addr)} is not a multiaddr`) }
  }
  for (const addr of strings(config.bootstrap)) {
    try {
      if (multiaddr(addr).getComponents().find(c => c.name === 'p2p') === undefined) {
        problems.push(`bootstrap: ${JSON.stringify(addr)} lacks the /p2p/<peer id> part`)
      }
    } catch { problems.push(`bootstrap: ${JSON.stringify(addr)} is not a multiaddr`) }
  }
}

function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

/** Merge and validate; throws ConfigError listing every problem. */
export function resolveConfig (sources: ConfigSources): Readonly<Config> {
  const problems: string[] = []
  const defaults = defaultConfig()
  const file = sources.file === undefined ? {} : fromFile(sources.file, problems)
  const env = fromEnv(sources.env ?? {}, problems)
  const flags = fromFlags(sources.flags ?? {}, problems)
  const merged: Config = {
    ...defaults,
    ...file,
    ...env,
    ...flags,
    dataDir: sources.dataDir ?? flags.dataDir ?? env.dataDir ?? file.dataDir ?? defaults.dataDir,
    advert: { ...defaults.advert, ...file.advert },
    auction: { ...defaults.auction, ...file.auction },
    models: { ...defaults.models, ...file.models },
    apiLimits: { ...defaults.apiLimits, ...file.apiLimits },
    blobs: { ...defaults.blobs, ...file.blobs },
    workers: { ...defaults.workers, ...file.workers },
    resources: { ...defaults.resources, ...file.resources },
    metrics: { ...defaults.metrics, ...file.metrics },
    priority: { ...defaults.priority, ...file.priority, ...env.priority },
    ledger: { retention: { ...defaults.ledger.retention, ...file.ledger?.retention } },
  }
  if (!checkConfig.Check(merged)) {
    problems.push(...explainSchemaErrors(checkConfig.Errors(merged), ConfigSchema, '(top level)'))
  }
  checkAddresses(merged, problems)
  if (merged.auction?.heartbeatMs !== undefined && merged.auction.heartbeatMs * 2 > merged.auction.leaseMs) {
    problems.push(`auction.heartbeatMs (${merged.auction.heartbeatMs}) must be at most half of auction.leaseMs (${merged.auction.leaseMs})`)
  }
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n  - ${problems.join('\n  - ')}`, { details: problems })
  }
  return deepFreeze(merged)
}
