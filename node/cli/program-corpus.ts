/** Commander wiring of `gryphgen corpus add|list|query|rm`; their work is in commands/corpus.ts. */
import type { Command } from 'commander'
import { rejectProblems, wholeNumber } from './flags.js'
import { collect, configOption, dataDirOption, localNode, type Common } from './options.js'
import { corpusAddCommand, corpusListCommand, corpusQueryCommand, corpusRemoveCommand } from './commands/corpus.js'

export function addCorpusCommands (program: Command): void {
  const corpus = program.command('corpus').description('retrieval corpora: text and code whose relevant chunks build tasks put in their prompts')
  const sub = (name: string, description: string): Command =>
    corpus.command(name).description(description).addOption(dataDirOption()).addOption(configOption())

  sub('add', 'index files into a corpus (directories walked; binaries, node_modules and .git skipped; a file added again is replaced)')
    .argument('<paths...>', 'directories and files')
    .requiredOption('--name <name>', 'the corpus (created if needed)')
    .option('--include <pattern>', 'only files matching: an extension (.py) or a glob (src/**/*.ts) (repeatable)', collect)
    .option('--max-file-bytes <n>', 'skip larger files (default 1048576)')
    .option('--json', 'print JSON')
    .action(async (paths: string[], opts: Common & { name: string, include?: string[], maxFileBytes?: string }) => {
      const problems: string[] = []
      const maxFileBytes = wholeNumber(opts.maxFileBytes, '--max-file-bytes', problems, { min: 1 })
      rejectProblems('invalid corpus add', problems)
      const { local } = await localNode(opts)
      await corpusAddCommand(local, paths, { name: opts.name, include: opts.include, maxFileBytes, json: opts.json })
    })

  sub('list', 'list the corpora with their chunk and file counts')
    .alias('ls')
    .option('--json', 'print JSON')
    .action(async (opts: Common) => {
      const { local } = await localNode(opts)
      await corpusListCommand(local, opts.json === true)
    })

  sub('query', 'show the chunks of a corpus most relevant to a query')
    .argument('<name>', 'the corpus')
    .argument('<query...>', 'what to look for')
    .option('-k, --top <n>', 'how many chunks (1-100, default 8)')
    .option('--json', 'print JSON')
    .action(async (name: string, words: string[], opts: Common & { top?: string }) => {
      const problems: string[] = []
      const k = wholeNumber(opts.top, '--top', problems, { min: 1, max: 100 })
      rejectProblems('invalid corpus query', problems)
      const { local } = await localNode(opts)
      await corpusQueryCommand(local, name, words.join(' '), { k, json: opts.json })
    })

  sub('rm', 'remove a corpus')
    .argument('<name>', 'the corpus')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: Common) => {
      const { local } = await localNode(opts)
      await corpusRemoveCommand(local, name, opts.json === true)
    })
}
