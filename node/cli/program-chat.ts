/** Commander wiring of `gryphgen chat MODEL`; its work is in commands/chat.ts. */
import type { Command } from 'commander'
import { rejectProblems, wholeNumber } from './flags.js'
import { configOption, dataDirOption, localNode, type Common } from './options.js'
import { chatInteractive, chatOnce, type ChatSettings } from './commands/chat.js'

interface ChatFlags extends Common { system?: string, maxTokens?: string, temperature?: string, seed?: string }

export function addChatCommand (program: Command): void {
  program.command('chat').description('chat with a model of the mesh through this node (streams the answer); --json: one message, one answer as JSON')
    .addOption(dataDirOption()).addOption(configOption())
    .argument('<model>', 'the model\'s name (gryphgen model list; GET /v1/models)')
    .argument('[message]', 'with --json: the message (default: all of stdin)')
    .option('--system <text>', 'a system message that opens the conversation')
    .option('--max-tokens <n>', 'most tokens an answer may take')
    .option('--temperature <t>', 'sampling temperature, 0 (greedy) to 2')
    .option('--seed <n>', 'sampling seed (the same answer again with the same seed)')
    .option('--json', 'one answer to MESSAGE (or stdin), printed as the OpenAI chat.completion object')
    .action(async (model: string, message: string | undefined, opts: ChatFlags) => {
      const settings = chatSettings(opts)
      if (message !== undefined && opts.json !== true) rejectProblems('invalid chat', ['MESSAGE is for --json; the interactive chat reads its messages from the terminal'])
      const { local } = await localNode(opts)
      if (opts.json === true) await chatOnce(local, model, message ?? await readStdin(), settings)
      else await chatInteractive(local, model, settings)
    })
}

function chatSettings (opts: ChatFlags): ChatSettings {
  const problems: string[] = []
  const maxTokens = wholeNumber(opts.maxTokens, '--max-tokens', problems, { min: 1, max: 131_072 })
  const seed = wholeNumber(opts.seed, '--seed', problems, { max: 4_294_967_295 })
  let temperature: number | undefined
  if (opts.temperature !== undefined) {
    temperature = Number(opts.temperature)
    if (!/^\d+(\.\d+)?$/.test(opts.temperature) || temperature > 2) problems.push(`--temperature: expected a number from 0 to 2, got ${JSON.stringify(opts.temperature)}`)
  }
  rejectProblems('invalid chat', problems)
  return { ...(opts.system === undefined ? {} : { system: opts.system }), ...(maxTokens === undefined ? {} : { maxTokens }), ...(temperature === undefined ? {} : { temperature }), ...(seed === undefined ? {} : { seed }) }
}

async function readStdin (): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
