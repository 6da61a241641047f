/** The `gryphgen` command line: commander wiring only; each command's work lives in commands/. */
import { Command } from 'commander'
import { loadConfig, dataDirFrom, type ConfigFlags } from '../config/index.js'
import { versionText } from '../version.js'
import type { NodeBodyT, PeerViewT } from '../api/index.js'
import { diagnose, gatherFacts } from '../doctor/index.js'
import { apiRequest } from './client.js'
import { collect, commandAfterDashes, configOption, dataDirOption, localNode, type Common } from './options.js'
import { addTaskCommands } from './program-tasks.js'
import { addModelCommands } from './program-models.js'
import { addChatCommand } from './program-chat.js'
import { addCorpusCommands } from './program-corpus.js'
import { addLedgerCommands } from './program-ledger.js'
import { addInstallCommands } from './program-install.js'
import { initCommand } from './commands/init.js'
import { inviteCommand } from './commands/invite.js'
import { formatNode, formatPeers } from './commands/read.js'
import type { SandboxRunOptions } from './commands/sandbox.js'
import { write, writeJson } from './output.js'
import { UsageError } from '../../base/index.js'

/** Flags for config resolution: only those the user actually typed, so config files still apply. */
function typedFlags (cmd: Command, names: Array<keyof ConfigFlags>): ConfigFlags {
  const flags: Record<string, unknown> = {}
  const opts = cmd.opts()
  for (const name of names) {
    if (cmd.getOptionValueSource(name) === 'cli') flags[name] = opts[name]
  }
  return flags as ConfigFlags
}

export function buildProgram (): Command {
  const program = new Command('gryphgen')
    .description('gryphgen: a peer-to-peer compute grid for LLM software production')
    .version(versionText(), '-V, --version', 'print the version, protocol versions and data dir format')
    .showHelpAfterError('(see --help for usage)')
    .enablePositionalOptions()

  program.command('init')
    .description('create a new mesh in a data dir: identity, swarm key and API token')
    .addOption(dataDirOption())
    .option('--json', 'print JSON')
    .action(async (opts: Common) => {
      const result = await initCommand(dataDirFrom({ dataDir: opts.dataDir }, process.env))
      if (opts.json === true) writeJson(result)
      else write(`new mesh created in ${result.dataDir}\npeer id: ${result.peerId}\nstart the node: gryphgen start --data-dir ${result.dataDir}\ninvite others: gryphgen invite --data-dir ${result.dataDir}`)
    })

  program.command('start')
    .description('run a node (keys and database are created in the data dir on first run)')
    .addOption(dataDirOption())
    .addOption(configOption())
    .option('--listen <multiaddr>', 'address to listen on for peers (repeatable; default /ip4/0.0.0.0/tcp/7410)', collect)
    .option('--api-host <host>', 'HTTP API host (default 127.0.0.1)')
    .option('--api-port <port>', 'HTTP API port (default 7411; 0 = any free port, written to <data-dir>/api-port)')
    .option('--join <invite>', 'join the mesh of an invite (from `gryphgen invite`)')
    .option('--bootstrap <multiaddr>', 'peer to connect to (repeatable)', collect)
    .option('--no-mdns', 'do not discover peers on the LAN by mDNS')
    .option('--name <name>', 'name shown to peers (default: host name)')
    .option('--label <label>', 'label this node (repeatable)', collect)
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .action(async (opts: Common & { join?: string, label?: string[] }, cmd: Command) => {
      const flags = typedFlags(cmd, ['dataDir', 'listen', 'apiHost', 'apiPort', 'bootstrap', 'mdns', 'name', 'logLevel'])
      if (opts.label !== undefined) flags.labels = opts.label
      // Loaded on use: the node's modules (libp2p, fastify, llama.cpp) take about a second to
      // import, which every other command would pay for nothing.
      const { startCommand } = await import('./commands/start.js')
      await startCommand({ flags, config: opts.config, join: opts.join })
    })

  program.command('invite')
    .description('print an invite (a secret!) that lets another machine join this mesh')
    .addOption(dataDirOption())
    .addOption(configOption())
    .action(async (opts: Common) => {
      const { dataDir, local } = await localNode(opts)
      write(await inviteCommand(dataDir, local))
    })

  program.command('peers')
    .description('list the live peers this node knows from their adverts')
    .addOption(dataDirOption())
    .addOption(configOption())
    .option('--json', 'print JSON')
    .action(async (opts: Common) => {
      const { local } = await localNode(opts)
      const { peers } = await apiRequest<{ peers: PeerViewT[] }>(local, 'GET', '/v1/peers')
      if (opts.json === true) writeJson({ peers })
      else write(formatPeers(peers))
    })

  program.command('node')
    .description("show this node's identity, addresses and capabilities")
    .addOption(dataDirOption())
    .addOption(configOption())
    .option('--json', 'print JSON')
    .action(async (opts: Common) => {
      const { local } = await localNode(opts)
      const node = await apiRequest<NodeBodyT>(local, 'GET', '/v1/node')
      if (opts.json === true) writeJson(node)
      else write(formatNode(node))
    })

  program.command('doctor')
    .description('explain why peers may not be seen, and what to do')
    .addOption(dataDirOption())
    .addOption(configOption())
    .option('--bootstrap <multiaddr>', 'also probe this bootstrap address (repeatable; the running node\'s own list is always probed)', collect)
    .option('--json', 'print JSON')
    .action(async (opts: Common & { bootstrap?: string[] }) => {
      const config = await loadConfig({ flags: { dataDir: opts.dataDir, ...(opts.bootstrap === undefined ? {} : { bootstrap: opts.bootstrap }) }, configPath: opts.config })
      const findings = diagnose(await gatherFacts(config.dataDir, config.bootstrap, config.apiHost))
      if (opts.json === true) writeJson({ findings })
      else write(findings.map(f => `[${f.severity.toUpperCase().padEnd(4)}] ${f.check}: ${f.message}${f.advice === undefined ? '' : `\n       -> ${f.advice}`}`).join('\n'))
      if (findings.some(f => f.severity === 'fail')) process.exitCode = 1
    })

  program.command('worker')
    .description("run a worker that joins a local node's worker pool (e.g. in a GPU container on the same host)")
    .addOption(dataDirOption())
    .option('--connect <endpoint>', 'broker endpoint (default ipc://<data-dir>/workers.sock)')
    .requiredOption('--kind <kind>', 'exec|model')
    .option('--token-file <file>', 'worker token (default: env GRYPHGEN_WORKER_TOKEN, then <data-dir>/worker-token)')
    .option('--slots <n>', 'tasks run at once (default 1)')
    .option('--nice <n>', 'niceness 0-19 of this worker and its tasks (default 0)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .action(async (o: { dataDir?: string, connect?: string, kind: string, tokenFile?: string, slots?: string, nice?: string, logLevel?: string }) => {
      for (const [flag, value] of [['--slots', o.slots], ['--nice', o.nice]] as const) {
        if (value !== undefined && !/^\d+$/.test(value)) throw new UsageError(`${flag}: expected a whole number, got ${JSON.stringify(value)}`)
      }
      const { runWorkerCommand } = await import('../../workers/index.js')
      await runWorkerCommand({
        kind: o.kind as 'exec', connect: o.connect, dataDir: o.dataDir ?? dataDirFrom({}, process.env), tokenFile: o.tokenFile,
        slots: o.slots === undefined ? undefined : Number.parseInt(o.slots, 10), logLevel: o.logLevel,
        nice: o.nice === undefined ? undefined : Number.parseInt(o.nice, 10),
      })
    })

  const sandbox = program.command('sandbox').description('run untrusted code in the local sandbox').enablePositionalOptions()
  sandbox.command('run')
    .description('run one command locally in the sandbox (no network); exit code is the command\'s')
    .usage('[options] -- CMD ARGS...')
    .configureOutput(commandAfterDashes('gryphgen sandbox run -- python3 -c "print(1)"'))
    .option('--memory-mb <n>', 'memory limit of all its processes (MiB)')
    .option('--cpu-ms <n>', 'CPU time limit (ms)')
    .option('--timeout-ms <n>', 'wall-clock limit (ms)')
    .option('--pids <n>', 'process/thread limit')
    .option('--output-bytes <n>', 'limit on each of stdout and stderr (bytes)')
    .option('--file <path=@localfile>', 'put LOCALFILE at /work/PATH (repeatable)', collect)
    .option('--env <name=value>', 'set an environment variable (repeatable; nothing else is passed)', collect)
    .option('--collect <glob>', 'return files under /work matching GLOB (repeatable)', collect)
    .option('--json', 'print the whole result as JSON')
    .argument('<command...>', 'the command and its arguments')
    .passThroughOptions()
    .action(async (command: string[], opts: SandboxRunOptions) => {
      const { sandboxRunCommand } = await import('./commands/sandbox.js')
      process.exitCode = await sandboxRunCommand(command, opts)
    })

  program.command('top')
    .description('a live view of the mesh: nodes, load, queued and running tasks (q or Ctrl-C to quit)')
    .addOption(dataDirOption())
    .addOption(configOption())
    .option('--interval <seconds>', 'seconds between refreshes (default 2)')
    .option('--once', 'print one screen and exit (also when stdout is not a terminal)')
    .option('--json', 'print one snapshot as JSON and exit')
    .action(async (opts: Common & { interval?: string, once?: boolean }) => {
      const { local } = await localNode(opts)
      const { topCommand } = await import('./commands/top.js')
      await topCommand(local, opts)
    })

  addTaskCommands(program)
  addModelCommands(program)
  addChatCommand(program)
  addLedgerCommands(program)
  addCorpusCommands(program)
  addInstallCommands(program)
  return program
}
