/** What every command's wiring shares: repeatable flags, the data dir and config options, the local node. */
import { Option } from 'commander'
import { loadConfig } from '../config/index.js'
import { findLocalNode, type LocalNode } from './client.js'

export const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

export interface Common { dataDir?: string, config?: string, json?: boolean }

export async function localNode (opts: Common): Promise<{ dataDir: string, local: LocalNode }> {
  const config = await loadConfig({ flags: { dataDir: opts.dataDir }, configPath: opts.config })
  return { dataDir: config.dataDir, local: await findLocalNode(config.dataDir, config.apiHost) }
}

export const dataDirOption = (): Option => new Option('--data-dir <dir>', 'data dir (default ~/.gryphgen, env GRYPHGEN_DATA_DIR)')
export const configOption = (): Option => new Option('--config <file>', 'config file (default <data-dir>/gryphgen.json)')
