/** The I/O edge of configuration: find the data dir, read the config file, resolve. */
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { ConfigError, dataDirOf } from '../../base/index.js'
import { CONFIG_FILE_NAME } from './defaults.js'
import { resolveConfig, type ConfigFlags } from './resolve.js'
import type { Config } from './schema.js'

export interface LoadConfigInit {
  flags?: ConfigFlags
  /** `--config FILE`; otherwise `<data-dir>/gryphgen.json` when it exists. */
  configPath?: string
  env?: Record<string, string | undefined>
}

export function dataDirFrom (flags: ConfigFlags | undefined, env: Record<string, string | undefined>): string {
  return dataDirOf(flags?.dataDir, env)
}

export async function loadConfig (init: LoadConfigInit = {}): Promise<Readonly<Config>> {
  const env = init.env ?? process.env
  const configPath = init.configPath ?? env.GRYPHGEN_CONFIG
  const explicitDataDir = init.flags?.dataDir ?? env.GRYPHGEN_DATA_DIR
  const path = configPath === undefined ? join(dataDirFrom(init.flags, env), CONFIG_FILE_NAME) : resolve(configPath)
  let file: { path: string, text: string } | undefined
  try {
    file = { path, text: await readFile(path, 'utf8') }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (configPath !== undefined || code !== 'ENOENT') {
      throw new ConfigError(`cannot read config file ${path}: ${code ?? (err as Error).message}`, { details: [`${path}: ${code ?? 'unreadable'}`] })
    }
  }
  // A data dir named inside the config file counts only when the file was named explicitly:
  // the default file lives in the data dir, so it cannot move it.
  const dataDir = explicitDataDir !== undefined ? resolve(explicitDataDir) : configPath === undefined ? dataDirFrom(undefined, env) : undefined
  const config = resolveConfig({ file, env, flags: init.flags, dataDir })
  return config.dataDir === resolve(config.dataDir) ? config : Object.freeze({ ...config, dataDir: resolve(config.dataDir) })
}
