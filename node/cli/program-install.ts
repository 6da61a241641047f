/** Installation commands: `service install|uninstall`, `setup --gpu`, `completion`. */
import { Option, type Command } from 'commander'
import { UsageError } from '../../base/index.js'
import { completionScript, SHELLS, type Shell } from './completion.js'
import { dataDirOption } from './options.js'
import { write, writeJson } from './output.js'

interface ServiceFlags { user?: boolean, dataDir?: string, unitDir?: string, serviceUser?: string, print?: boolean, json?: boolean }

export function addInstallCommands (program: Command): void {
  const service = program.command('service').description('run the node as a systemd service')
  service.command('install')
    .description('write a systemd unit (as root: a system unit run by a dedicated user; --user: your own) and print how to enable it')
    .option('--user', 'a user unit (~/.config/systemd/user), run as you')
    .addOption(dataDirOption().default(undefined, '/var/lib/gryphgen as root, ~/.gryphgen with --user'))
    .option('--service-user <name>', 'account of a system unit, created when missing (default gryphgen)')
    .option('--unit-dir <dir>', 'write the unit there instead of the systemd folder')
    .option('--print', 'print the unit; write nothing')
    .option('--json', 'print JSON')
    .action(async (opts: ServiceFlags) => {
      const { installService } = await import('../service/index.js')
      const plan = await installService(opts)
      if (opts.json === true) writeJson(plan)
      else if (opts.print === true) write(plan.unit)
      else write(`wrote ${plan.unitPath}${plan.serviceUser === undefined ? '' : ` (runs as ${plan.serviceUser}, data dir ${plan.dataDir})`}\nenable and start it:\n${plan.hint}`)
    })
  service.command('uninstall')
    .description('remove the systemd unit (the data dir stays)')
    .option('--user', 'the user unit')
    .option('--unit-dir <dir>', 'the folder the unit was written to')
    .action(async (opts: ServiceFlags) => {
      const { uninstallService } = await import('../service/index.js')
      const result = await uninstallService(opts)
      write(result.removed ? `removed ${result.unitPath}; ${result.hint}` : `no unit at ${result.unitPath}`)
    })

  program.command('setup')
    .description("add node-llama-cpp's prebuilt llama.cpp binaries for this machine (after `npm install -g --omit=optional`)")
    .addOption(new Option('--gpu <backend>', 'cpu, cuda or vulkan').choices(['cpu', 'cuda', 'vulkan']).default('cpu'))
    .option('--prune', "remove node-llama-cpp's other binaries (other platforms and GPUs) from this installation")
    .action(async (opts: { gpu: 'cpu' | 'cuda' | 'vulkan', prune?: boolean }) => {
      const { backendPackage, installBackend, pruneBackends } = await import('../setup/index.js')
      const done = await installBackend(opts.gpu)
      write(`installed ${done.name}@${done.version} in ${done.dir}`)
      if (opts.prune === true) write(`removed: ${(await pruneBackends([done.name, backendPackage('cpu', process.platform, process.arch) ?? done.name])).join(' ') || 'nothing'}`)
    })

  program.command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .argument('<shell>', SHELLS.join('|'))
    .action((shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`completion: expected ${SHELLS.join(', ')}; got ${JSON.stringify(shell)}`)
      process.stdout.write(completionScript(program, shell as Shell))
    })
}
