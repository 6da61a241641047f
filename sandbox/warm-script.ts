/**
 * The request a warm sandbox runs, as pure functions. A warm sandbox is bubblewrap already set
 * up with the default profile, its pid 1 (tini) waiting on `sh -s` for a script on its fd 0;
 * the script is the run: it lowers the rlimits to the spec's, writes the input files into
 * /work, then execs the command through `env -i` with exactly the spec's environment (or, when
 * files are collected, runs it and sends /work as a tar stream, as collectScript does).
 * The whole script is one `{ ... }` group, so the shell runs nothing until it has read all of
 * it: a request cut short (the node died mid-write) runs nothing.
 *
 * Only specs the warm profile can serve exactly go this way (`warmFits`): the same tmpfs size,
 * rlimits no higher than the warm ones (they can be lowered, never raised), no NUL byte in a
 * file, argument or variable (a shell word cannot hold one), argv[0] without `=` (env would
 * read it as a variable) and at most WARM_MAX_FILE_BYTES of files (they travel in the script).
 */
import { parentDirectories } from './paths.js'
import { rlimitFigures } from './profile.js'
import type { SandboxLimits, ValidatedSpec } from './spec.js'

export const WARM_MAX_FILE_BYTES = 1024 * 1024

/** The request fd inside the sandbox is 0; the run's stdin arrives on this fd. */
export interface RequestFds { stdin: number, collect: number }

/** Quotes a word for sh: single quotes, each ' as '\''. */
export const shellQuote = (word: string): string => `'${word.replaceAll("'", "'\\''")}'`

export function warmFits (spec: ValidatedSpec, warm: SandboxLimits): boolean {
  const { limits } = spec
  if (limits.diskMb !== warm.diskMb || limits.cpuMs > warm.cpuMs || limits.fileSizeMb > warm.fileSizeMb) return false
  if ((spec.command[0] ?? '=').includes('=')) return false
  const words = [...spec.command, ...Object.entries(spec.env).flat(), ...spec.files.flatMap(f => [f.path, f.content])]
  if (words.some(word => word.includes('\0'))) return false
  return spec.files.reduce((sum, file) => sum + Buffer.byteLength(file.content), 0) <= WARM_MAX_FILE_BYTES
}

export interface RequestInput {
  spec: ValidatedSpec
  fds: RequestFds
  env: string
  tar: string
}

export function requestScript ({ spec, fds, env, tar }: RequestInput): string {
  const { cpuSoft, cpuHard, fileBlocks } = rlimitFigures(spec.limits, true)
  const lines = [
    '{',
    `ulimit -S -t ${cpuSoft} && ulimit -H -t ${cpuHard} && ulimit -f ${fileBlocks} || exit 125`,
  ]
  const directories = parentDirectories(spec.files.map(file => file.path))
  if (directories.length > 0) lines.push(`mkdir -p ${directories.map(shellQuote).join(' ')} || exit 125`)
  for (const file of spec.files) {
    lines.push(`printf '%s' ${shellQuote(file.content)} > ${shellQuote(file.path)} && chmod 0644 ${shellQuote(file.path)} || exit 125`)
  }
  const variables = Object.entries(spec.env).map(([name, value]) => shellQuote(`${name}=${value}`))
  const stdin = spec.stdin === null ? '</dev/null' : `<&${fds.stdin}`
  const command = [env, '-i', ...variables, ...spec.command.map(shellQuote)].join(' ')
  const redirects = `${stdin} ${fds.stdin}<&- ${fds.collect}>&-`
  if (spec.collect.length === 0) lines.push(`exec ${command} ${redirects}`)
  else {
    lines.push(`${command} ${redirects}; rc=$?`)
    lines.push(`exec ${fds.stdin}<&-; ${tar} --format=posix --hard-dereference -C /work -cf - . >&${fds.collect} 2>/dev/null; exit $rc`)
  }
  lines.push('}', '')
  return lines.join('\n')
}

/** The warm sandbox's command after tini: report readiness on the collect fd, then read the request. */
export function warmStub (shell: string, fds: RequestFds): string[] {
  return [shell, '-c', `printf R >&${fds.collect}; exec ${shell} -s`]
}
