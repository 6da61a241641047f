/**
 * The code generator's prompt. System: the role, the rules and the output format. User: the
 * specification, why this attempt exists, the base attempt's alignment violations, the test
 * files, the base's failing tests with their messages, its files, its static findings, its
 * review issues and the retrieved context, in that order of importance. The user message is
 * bounded (maxChars): the least important parts are cut first, whole items where that is
 * enough, and a closing line says what was left out. Pure.
 */
import type { ChatMessage } from '../../protocols/index.js'
import { FILE_LIMITS } from './alignment.js'
import type { BuildSpec, Checkpoint, Feedback, FileSet } from './types.js'

export const PROMPT_LIMITS = Object.freeze({
  /** The user message's size by default (about 12k tokens). */
  maxChars: 48_000,
  /** Retrieved context's share of maxChars, and the most of one passage. */
  retrievedShare: 0.25,
  maxPassageChars: 4000,
  /** An item cut short keeps at least this much; shorter, it is left out whole. */
  minKeptChars: 200,
})

export interface RetrievedPassage { source: string, text: string }

interface Section {
  title: string
  /** What an item is, for the note on what was cut ("base files"). */
  noun: string
  items: string[]
  dropped: number
  clipped: number
}

const CUT = '\n[… cut to fit the prompt]'

export function generatorMessages (
  spec: BuildSpec,
  retrieved: readonly RetrievedPassage[],
  base: Checkpoint | null,
  feedback: Feedback | null,
  options: { maxChars?: number } = {},
): ChatMessage[] {
  const maxChars = options.maxChars ?? PROMPT_LIMITS.maxChars
  const baseName = base === null ? 'the starting files' : `attempt ${base.attempt}`
  const tests = base?.tests
  // Most important first; cutting starts from the end.
  const sections: Section[] = [
    section('Specification', 'specification', [spec.specification]),
    section('Why this attempt', 'notes', feedback === null ? [] : [feedback.reason, ...feedback.dropped.map(d => `Dropped: ${d}; do not repeat it.`)]),
    section(`Rules ${baseName} broke (fix these first)`, 'alignment violations', (base?.alignment ?? []).map(v => `- ${v.message}`)),
    section(`Test files (run with: ${spec.tests.command.join(' ')})`, 'test files', fileItems(spec.tests.files)),
    section(testsTitle(baseName, base), 'failing tests', (tests?.failures ?? []).map(f => `- ${f.name} (${f.kind}): ${f.message}`)),
    section(`Files of ${baseName} (your starting point)`, 'files', fileItems(base?.files ?? spec.files ?? {})),
    section(`Static check findings on ${baseName}`, 'static findings', (base?.staticFindings ?? []).map(f => `- ${f.file}${f.line === undefined ? '' : `:${f.line}`} (${f.tool}): ${f.message}`)),
    section(`Review of ${baseName}`, 'review issues', (base?.review ?? []).map(i => `- line ${i.line} [${i.severity}]: ${i.message}`)),
    section('Context that may help', 'retrieved passages', boundedPassages(retrieved, Math.floor(maxChars * PROMPT_LIMITS.retrievedShare))),
  ]
  fit(sections, maxChars - 400)
  const cuts = sections.filter(s => s.dropped + s.clipped > 0).map(s => `${s.dropped + s.clipped} of ${s.items.length + s.dropped} ${s.noun}${s.clipped > 0 ? ` (${s.clipped} cut short)` : ''}`)
  const note = cuts.length === 0 ? '' : `\n\nLeft out or cut short to fit the prompt: ${cuts.join('; ')}.`
  return [
    { role: 'system', content: systemPrompt(spec) },
    { role: 'user', content: render(sections) + note },
  ]
}

function systemPrompt (spec: BuildSpec): string {
  const forbidden = spec.forbiddenPaths === undefined || spec.forbiddenPaths.length === 0 ? '' : `, nor these paths: ${spec.forbiddenPaths.join(', ')}`
  return `You write ${spec.language} code that meets a specification and passes its test suite. ` +
    'Answer only with JSON: {"files": [{"path": "...", "content": "..."}]}, each file whole, its path relative to the project root ' +
    `(no leading "/", no ".."), at most ${FILE_LIMITS.maxFiles} files. Files you leave out stay as they are. ` +
    `Never write the test files${forbidden}.`
}

function testsTitle (baseName: string, base: Checkpoint | null): string {
  if (base === null) return 'Failing tests'
  if (base.tests === null) return `The tests could not run on ${baseName}`
  const { passed, failed, errored } = base.tests
  return `Failing tests of ${baseName} (${passed}/${passed + failed + errored} passed)`
}

const section = (title: string, noun: string, items: string[]): Section => ({ title, noun, items, dropped: 0, clipped: 0 })

function fileItems (files: Readonly<FileSet>): string[] {
  return Object.entries(files).map(([path, content]) => `File ${path}:\n\`\`\`\n${content}\n\`\`\``)
}

function boundedPassages (retrieved: readonly RetrievedPassage[], maxChars: number): string[] {
  const items: string[] = []
  let used = 0
  for (const { source, text } of retrieved) {
    const item = `[${source}]\n${clip(text, PROMPT_LIMITS.maxPassageChars)}`
    if (used + item.length > maxChars) break
    items.push(item)
    used += item.length + 1
  }
  return items
}

function render (sections: readonly Section[]): string {
  return sections.filter(s => s.items.length > 0).map(s => `## ${s.title}\n${s.items.join('\n')}`).join('\n\n')
}

/** render(sections).length, without building the text. */
function renderedLength (sections: readonly Section[]): number {
  const shown = sections.filter(s => s.items.length > 0)
  const each = shown.map(s => 4 + s.title.length + s.items.reduce((n, item) => n + item.length, 0) + s.items.length - 1)
  return each.reduce((n, m) => n + m, 0) + Math.max(0, shown.length - 1) * 2
}

/** Cuts the least important sections first (from the end), the last items of a section first. */
function fit (sections: Section[], maxChars: number): void {
  for (const s of [...sections].reverse()) {
    while (s.items.length > 0) {
      const excess = renderedLength(sections) - maxChars
      if (excess <= 0) return
      const last = s.items[s.items.length - 1] ?? ''
      const keep = last.length - excess - CUT.length
      if (keep >= PROMPT_LIMITS.minKeptChars) {
        s.items[s.items.length - 1] = clip(last, keep)
        s.clipped++
        return
      }
      s.items.pop()
      s.dropped++
    }
  }
}

function clip (text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max) + CUT
}
