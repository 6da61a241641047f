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

/**
 * For commands that run a command given after `--`: an unknown option is most often the
 * command's own (`submit python3 -c ...`), so the error says where the command goes.
 */
export const commandAfterDashes = (example: string): { outputError: (text: string, write: (text: string) => void) => void } => ({
  outputError: (text, write) => {
    write(/unknown option/.test(text) && !/Did you mean/.test(text) ? `${text}(if that option is the command's own, put the command after --: ${example})\n` : text)
  },
})
