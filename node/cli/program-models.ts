/** Commander wiring of `gryphgen model add|pull|fetch|list|rm`; their work is in commands/model.ts. They use the data dir directly, node running or not. */
import type { Command } from 'commander'
import { loadConfig } from '../config/index.js'
import { configOption, dataDirOption, type Common } from './options.js'
import { modelFetchCommand } from './commands/model-fetch.js'
import { modelAddCommand, modelListCommand, modelPullCommand, modelRemoveCommand, type ModelAddFlags } from './commands/model.js'

const configOf = async (opts: Common): Promise<{ dataDir: string, apiHost: string }> => await loadConfig({ flags: { dataDir: opts.dataDir }, configPath: opts.config })
const dataDirOf = async (opts: Common): Promise<string> => (await configOf(opts)).dataDir

export function addModelCommands (program: Command): void {
  const model = program.command('model').description('manage the GGUF models in this data dir (exit code: 0 ok, 1 failure, 2 bad usage)')
  const sub = (name: string, description: string): Command =>
    model.command(name).description(description).addOption(dataDirOption()).addOption(configOption())

  sub('add', 'add a GGUF model file (checked, copied into the store, hashed)')
    .argument('<path>', 'the .gguf file')
    .option('--name <name>', 'the model\'s name (default: its general.name, else the file name)')
    .option('--link', 'register the file where it is instead of copying it')
    .option('--json', 'print JSON')
    .action(async (path: string, opts: Common & ModelAddFlags) => {
      const { dataDir, apiHost } = await configOf(opts)
      await modelAddCommand(dataDir, path, opts, apiHost)
    })

  sub('pull', 'download a model (hf:user/repo:quant, hf:user/repo/file.gguf or an https URL; resumable) and add it')
    .argument('<uri>', 'the model URI')
    .option('--name <name>', 'the model\'s name (default: its general.name, else the file name)')
    .option('--json', 'print JSON')
    .action(async (uri: string, opts: Common & { name?: string }) => {
      const { dataDir, apiHost } = await configOf(opts)
      await modelPullCommand(dataDir, uri, opts, apiHost)
    })

  sub('fetch', 'fetch a model from the peers that hold it, through the running node (verified chunks, resumable)')
    .argument('<name>', 'the model\'s name, as GET /v1/models lists it')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: Common) => {
      const { dataDir, apiHost } = await configOf(opts)
      await modelFetchCommand(dataDir, name, opts, apiHost)
    })

  sub('list', 'list the models in the store and whether their files are usable')
    .alias('ls')
    .option('--json', 'print JSON')
    .action(async (opts: Common) => {
      await modelListCommand(await dataDirOf(opts), opts.json === true)
    })

  sub('rm', 'remove a model (its copy is deleted; a linked file is left alone)')
    .argument('<name>', 'the model\'s name')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: Common) => {
      await modelRemoveCommand(await dataDirOf(opts), name, opts.json === true)
    })
}
