/** Commander wiring of the task commands (submit, status, tasks, cancel, logs, build, files); their work is in commands/. */
import type { Command } from 'commander'
import { TASK_STATES } from '../../protocols/index.js'
import { rejectProblems, wholeNumber } from './flags.js'
import { collect, commandAfterDashes, configOption, dataDirOption, localNode, type Common } from './options.js'
import { submitBody, submitOperands, type SubmitFlags } from './commands/task-body.js'
import { cancelTask, listTasks, showTask, submitTask, taskLogs } from './commands/tasks.js'
import { buildCommand, filesCommand, type BuildFlags, type FilesFlags } from './commands/build.js'

const EXIT_CODES = 'exit code: 0 succeeded, the command\'s own code (1-255) when it exited so, 1 other failures, 3 no node can ever run it, 130 cancelled'

/** A command with the options every task command takes. */
const taskCommand = (program: Command, name: string, description: string): Command =>
  program.command(name).description(description).addOption(dataDirOption()).addOption(configOption())

export function addTaskCommands (program: Command): void {
  taskCommand(program, 'submit', 'submit a task: a command to run in a sandbox somewhere in the mesh (after --), a JSON task file, or --noop')
    .usage('[options] -- CMD ARGS...  |  [options] FILE.json (- for stdin)  |  --noop [options]')
    .configureOutput(commandAfterDashes('gryphgen submit -- python3 -c "print(1)"'))
    .option('--noop', 'a noop task (completes at once; checks the mesh)')
    .option('--priority <n>', 'priority 0-9 (default 5)')
    .option('--cpus <n>', 'cpus it needs')
    .option('--memory-mb <n>', 'memory it needs (MiB); also its memory limit')
    .option('--gpu <n>', 'GPUs it needs')
    .option('--gpu-vram-mb <n>', 'VRAM each of its GPUs needs (MiB)')
    .option('--label <label>', 'a label the node must have (repeatable)', collect)
    .option('--arch <arch>', 'CPU architecture the node must have (x64, arm64)')
    .option('--timeout-ms <n>', 'wall-clock limit of a run (ms)')
    .option('--file <path=@localfile|path=text>', 'put a local file\'s content (or the text) at /work/PATH (repeatable)', collect)
    .option('--collect <glob>', 'return files under /work matching GLOB (repeatable)', collect)
    .option('--stdin-file <file>', 'the command\'s stdin (- for this command\'s stdin)')
    .option('--env <name=value>', 'set an environment variable (repeatable; nothing else is passed)', collect)
    .option('--replicated', 'answer once another node also stored the task')
    .option('--wait', `wait for the task, print its output and exit with its code (${EXIT_CODES})`)
    .option('--json', 'print JSON')
    .argument('[args...]', 'FILE.json, or the command and its arguments after --')
    .action(async (args: string[], opts: SubmitFlags & Common & { wait?: boolean }, cmd: Command) => {
      const body = await submitBody(submitOperands(args, cmd.parent?.args ?? []), opts)
      const { local } = await localNode(opts)
      process.exitCode = await submitTask(local, body, { wait: opts.wait, json: opts.json })
    })

  taskCommand(program, 'status', "show a task: state, attempts, error, why it waits, its result's summary")
    .option('--json', 'print JSON')
    .argument('<id>', 'task id')
    .action(async (id: string, opts: Common) => {
      const { local } = await localNode(opts)
      await showTask(local, id, opts.json === true)
    })

  taskCommand(program, 'tasks', 'list tasks, newest first')
    .option('--state <state>', TASK_STATES.join('|'))
    .option('--limit <n>', 'at most N tasks (1-1000, default 100)')
    .option('--json', 'print JSON')
    .action(async (opts: Common & { state?: string, limit?: string }) => {
      const problems: string[] = []
      if (opts.state !== undefined && !(TASK_STATES as readonly string[]).includes(opts.state)) problems.push(`--state: expected one of ${TASK_STATES.join(', ')}, got ${JSON.stringify(opts.state)}`)
      const limit = wholeNumber(opts.limit, '--limit', problems, { min: 1, max: 1000 })
      rejectProblems('invalid tasks', problems)
      const { local } = await localNode(opts)
      await listTasks(local, { state: opts.state, limit }, opts.json === true)
    })

  taskCommand(program, 'cancel', 'cancel a task that is not over yet')
    .option('--json', 'print the task as JSON')
    .argument('<id>', 'task id')
    .action(async (id: string, opts: Common) => {
      const { local } = await localNode(opts)
      await cancelTask(local, id, opts.json === true)
    })

  taskCommand(program, 'logs', "print a finished task's output (stdout, then stderr on stderr)")
    .option('--follow', `wait for the task, showing its log events, then print its output (${EXIT_CODES})`)
    .argument('<id>', 'task id')
    .action(async (id: string, opts: Common & { follow?: boolean }) => {
      const { local } = await localNode(opts)
      process.exitCode = await taskLogs(local, id, opts.follow === true)
    })

  taskCommand(program, 'build', 'build code from a specification until its tests pass: generate, check, test in the sandbox, repair (a build task)')
    .requiredOption('--spec <file>', 'the specification (text or Markdown)')
    .requiredOption('--tests <dir>', 'the test suite: every file under DIR, by its path there')
    .requiredOption('--test-command <cmd>', 'how to run the tests, e.g. "python3 -m pytest -q" or "node --test"')
    .requiredOption('--model <name>', 'the model that writes the code (gryphgen model list; any node\'s)')
    .option('--language <lang>', 'python, javascript or typescript (default: from the test command)')
    .option('--files <dir>', 'starting files')
    .option('--corpus <name>', 'a corpus (gryphgen corpus add) whose relevant chunks go into the prompt')
    .option('--max-attempts <n>', 'attempts before giving up')
    .option('--max-tokens <n>', 'generated tokens before giving up')
    .option('--max-minutes <n>', 'wall time before giving up')
    .option('--out <dir>', 'write the best attempt\'s files here (with --wait)')
    .option('--wait', 'follow the build: one line per attempt; exit 0 when the tests pass, 1 otherwise')
    .option('--json', 'print JSON')
    .action(async (opts: BuildFlags & Common) => {
      const { local } = await localNode(opts)
      process.exitCode = await buildCommand(local, opts)
    })

  taskCommand(program, 'files', 'write a build\'s files: the best attempt\'s, or a checkpoint\'s (to inspect it, or start again from it with build --files)')
    .argument('<task>', 'the build task id')
    .option('--checkpoint <n>', 'the checkpoint (attempt) whose files to write; default the best attempt\'s')
    .requiredOption('--out <dir>', 'where to write them')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: FilesFlags & Common) => {
      const { local } = await localNode(opts)
      process.exitCode = await filesCommand(local, id, opts)
    })
}
