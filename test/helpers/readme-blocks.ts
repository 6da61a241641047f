/**
 * The README doc test's reading of README.md: its shell blocks, their directives and their
 * expected output. Pure (text in, data out); test/process/readme.test.ts runs what it finds.
 *
 * The convention (also in README.md, Development):
 * - Every fenced block whose language is `sh`, `bash` or `shell` is runnable. It runs with
 *   `bash` under `set -euo pipefail` and must exit 0.
 * - An HTML comment on the line right before the fence changes that:
 *   `<!-- doctest: skip (why it cannot run in a test) -->` (the reason is required),
 *   `<!-- doctest: machine NAME -->` (runs as another machine: its own home, data dir and API port),
 *   `<!-- doctest: in-repo -->` (runs in the repository's root instead of the user's folder),
 *   `<!-- doctest: timeout SECONDS -->` (default 60). Several are separated by `;`.
 * - `# -> TEXT` (alone or after a command) says what the block prints: TEXT must appear in its
 *   output (stdout and stderr), `…` standing for any text within a line. Two spaces end TEXT
 *   (what follows is a remark). A word with `…` in it (e.g. `gryphgen-invite-v1:…`) is then
 *   bound to what it matched, and later blocks that write the same word get that text.
 */

export interface Directives { skip?: string, machine: string, inRepo: boolean, timeoutS: number }
export interface ShellBlock { line: number, code: string, directives: Directives }
export interface Expectation { line: number, text: string }

const SHELLS = new Set(['sh', 'bash', 'shell'])
export const DEFAULT_MACHINE = 'A'
export const DEFAULT_TIMEOUT_S = 60

/** The shell blocks of a markdown text, in order; `line` is the 1-based line of the opening fence. */
export function shellBlocks (markdown: string): ShellBlock[] {
  const lines = markdown.split('\n')
  const blocks: ShellBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})(\S*)/.exec(lines[i])
    if (open === null) continue
    const [, indent, fence, lang] = open
    const body: string[] = []
    let j = i + 1
    while (j < lines.length && !lines[j].trim().startsWith(fence)) body.push(lines[j++].slice(indent.length))
    if (SHELLS.has(lang)) blocks.push({ line: i + 1, code: body.join('\n'), directives: directives(i > 0 ? lines[i - 1] : '', i) })
    i = j
  }
  return blocks
}

function directives (previous: string, index: number): Directives {
  const result: Directives = { machine: DEFAULT_MACHINE, inRepo: false, timeoutS: DEFAULT_TIMEOUT_S }
  const comment = /^\s*<!--\s*doctest:(.*)-->\s*$/.exec(previous)
  if (comment === null) {
    if (/doctest/.test(previous)) throw new Error(`README.md:${index}: a doctest comment must be one line: <!-- doctest: ... -->`)
    return result
  }
  // A skip stands alone: its reason may hold any text, `;` included.
  const skip = /^\s*skip\s*\((.*)\)\s*$/.exec(comment[1])
  if (skip !== null) {
    if (skip[1].trim() === '') throw new Error(`README.md:${index}: a doctest skip needs a reason: <!-- doctest: skip (why) -->`)
    return { ...result, skip: skip[1].trim() }
  }
  for (const part of comment[1].split(';').map(p => p.trim()).filter(p => p !== '')) {
    const machine = /^machine\s+([\w-]+)$/.exec(part)
    const timeout = /^timeout\s+(\d+)$/.exec(part)
    if (machine !== null) result.machine = machine[1]
    else if (timeout !== null) result.timeoutS = Number(timeout[1])
    else if (part === 'in-repo') result.inRepo = true
    else throw new Error(`README.md:${index}: unknown doctest directive "${part}" (skip (reason) alone, or machine NAME, in-repo, timeout SECONDS)`)
  }
  return result
}

/** The `# -> TEXT` comments of a block, with their README line numbers. */
export function expectations (block: ShellBlock): Expectation[] {
  const found: Expectation[] = []
  block.code.split('\n').forEach((text, i) => {
    const m = /(?:^|\s)# -> (.*)$/.exec(text)
    if (m !== null) found.push({ line: block.line + 1 + i, text: m[1].split(/\s{2,}/)[0].trim() })
  })
  return found
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * Where `expected` appears in `output` (`…` matching any text within a line): undefined when
 * it does not, else the bindings of its words with `…` (word -> the text it matched).
 */
export function matchOutput (expected: string, output: string): Map<string, string> | undefined {
  const pattern = expected.split('…').map(escape).join('([^\\n]*?)')
  const m = new RegExp(pattern + (expected.endsWith('…') ? '(?=\\s|$)' : ''), 'm').exec(output)
  if (m === null) return undefined
  const bindings = new Map<string, string>()
  const words = [...expected.matchAll(/[^\s'"`]*…[^\s'"`]*/g)].map(w => w[0])
  for (const word of words) {
    if (word === '…') continue
    const wm = new RegExp(word.split('…').map(escape).join('\\S*?') + '(?=[\\s\'"`]|$)', 'm').exec(m[0])
    if (wm !== null) bindings.set(word, wm[0])
  }
  return bindings
}

/** The block's code with every bound word replaced by what it matched earlier. */
export function substitute (code: string, bindings: ReadonlyMap<string, string>): string {
  let result = code
  for (const [word, value] of bindings) result = result.split(word).join(value)
  return result
}
