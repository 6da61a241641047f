/**
 * `gryphgen completion bash|zsh|fish`: shell completion scripts generated from the commander
 * program itself, so every command and option the CLI has completes, and nothing it lacks.
 * bash: subcommands and options at each level of the command path; zsh: the bash function
 * through zsh's bashcompinit; fish: one `complete` line per command and option, with help.
 */
import type { Command, Option } from 'commander'

export const SHELLS = ['bash', 'zsh', 'fish'] as const
export type Shell = typeof SHELLS[number]

interface Level { path: string[], command: Command }

function levels (command: Command, path: string[] = []): Level[] {
  return [{ path, command }, ...command.commands.flatMap(c => levels(c, [...path, c.name()]))]
}

const flags = (option: Option): string[] => [option.long, option.short].filter((f): f is string => f !== undefined)

function words (command: Command): string[] {
  return [...command.commands.map(c => c.name()), ...command.options.flatMap(flags), '--help']
}

function bash (program: Command): string {
  const all = levels(program)
  const name = program.name()
  const fn = `_${name.replace(/\W/g, '_')}_complete`
  const known = all.filter(l => l.path.length > 0).map(l => `"/${l.path.join('/')}"`).join('|')
  const cases = all.map(l => `    "${l.path.length === 0 ? '' : '/' + l.path.join('/')}") at="${words(l.command).join(' ')}" ;;`).join('\n')
  // Runs in bash and, through bashcompinit, in zsh: words are read by slicing (0-based in
  // both shells, where subscripts are not), and no variable is one of zsh's specials (path, words).
  return `# ${name} completion for bash: eval "$(${name} completion bash)" (or save it in /etc/bash_completion.d/${name})
${fn} () {
  local cur="\${COMP_WORDS[@]:$COMP_CWORD:1}" seen="" at="" word i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[@]:$i:1}"
    case "$seen/$word" in
      ${known}) seen="$seen/$word" ;;
    esac
  done
  case "$seen" in
${cases}
  esac
  COMPREPLY=($(compgen -W "$at" -- "$cur"))
}
complete -o default -F ${fn} ${name}
`
}

function zsh (program: Command): string {
  return `# ${program.name()} completion for zsh: eval "$(${program.name()} completion zsh)" in ~/.zshrc
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bash(program).split('\n').slice(1).join('\n')}`
}

const fishQuote = (text: string): string => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`

function fish (program: Command): string {
  const name = program.name()
  const lines = [`# ${name} completion for fish: ${name} completion fish > ~/.config/fish/completions/${name}.fish`, `complete -c ${name} -f`]
  for (const { path, command } of levels(program)) {
    // At the top: no subcommand yet; below: the last word of the path was seen (fish has no
    // nested helper, so a name shared by two levels offers both levels' words).
    const when = path.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${path[path.length - 1]}`
    for (const sub of command.commands) lines.push(`complete -c ${name} -n ${fishQuote(when)} -a ${sub.name()} -d ${fishQuote(sub.description())}`)
    for (const option of command.options) {
      const parts = [option.long === undefined ? '' : `-l ${option.long.replace(/^--/, '')}`, option.short === undefined ? '' : `-s ${option.short.replace(/^-/, '')}`]
      lines.push(`complete -c ${name} -n ${fishQuote(when)} ${parts.filter(p => p !== '').join(' ')}${option.required || option.optional ? ' -r' : ''} -d ${fishQuote(option.description)}`)
    }
  }
  return lines.join('\n') + '\n'
}

export function completionScript (program: Command, shell: Shell): string {
  switch (shell) {
    case 'bash': return bash(program)
    case 'zsh': return zsh(program)
    case 'fish': return fish(program)
    default: return shell satisfies never
  }
}
