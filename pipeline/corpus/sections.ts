/**
 * Where a document's sections begin, by kind: Python by def/class (top-level, and methods
 * directly in a top-level class), JavaScript/TypeScript by top-level declarations (function,
 * class, interface, type, const/let/var, export) and methods directly in a top-level class,
 * Markdown by heading (not inside fenced code), other text by paragraph. Comments and
 * decorators right above a declaration go with it. Line patterns, not parsers: a `def` inside
 * a multi-line string can start a section too. Pure.
 */
import { extname } from 'node:path'

export type DocumentKind = 'python' | 'script' | 'markdown' | 'text'

const KIND_BY_EXTENSION: Record<string, DocumentKind> = {
  '.py': 'python', '.pyi': 'python', '.pyw': 'python',
  '.js': 'script', '.mjs': 'script', '.cjs': 'script', '.jsx': 'script', '.ts': 'script', '.mts': 'script', '.cts': 'script', '.tsx': 'script',
  '.md': 'markdown', '.markdown': 'markdown', '.mdx': 'markdown',
}

export function documentKind (path: string): DocumentKind {
  return KIND_BY_EXTENSION[extname(path).toLowerCase()] ?? 'text'
}

const PY_DEF = /^[ \t]*(?:async[ \t]+def|def|class)[ \t]+[A-Za-z_]/
const PY_ATTACHED = /^[ \t]*[@#]/
const JS_TOP = /^(?:export[ \t]|(?:async[ \t]+)?function\b|(?:abstract[ \t]+)?class\b|interface\b|type[ \t]+[\w$]+|enum\b|declare\b|namespace\b|(?:const|let|var)[ \t]|module\.exports\b|exports\.)/
const JS_CLASS = /^(?:export[ \t]+(?:default[ \t]+)?)?(?:declare[ \t]+)?(?:abstract[ \t]+)?class\b/
const JS_METHOD = /^[ \t]+(?:(?:public|private|protected|static|async|override|readonly|get|set)[ \t]+)*(?:\*[ \t]*)?[#\w$]+[ \t]*(?:<[^>]*>)?[ \t]*\(/
const JS_NOT_METHOD = /^[ \t]*(?:if|for|while|switch|catch|return|function|new|await|typeof|else|do|try|super|this|throw|yield)\b/
const JS_ATTACHED = /^[ \t]*(?:\/\/|\/\*|\*|@)/
const MD_FENCE = /^[ \t]{0,3}(?:```|~~~)/
const MD_HEADING = /^#{1,6}[ \t]/

const blank = (line: string): boolean => line.trim() === ''
const indentOf = (line: string): number => line.length - line.trimStart().length

/** The first of the non-blank `attached` lines (comments, decorators) right above line `at`, not above `floor`. */
function attachAbove (lines: readonly string[], at: number, attached: RegExp, floor: number): number {
  let start = at
  while (start - 1 > floor && !blank(lines[start - 1]) && attached.test(lines[start - 1])) start--
  return start
}

/**
 * Declarations by line pattern: `top` at column 0 starts a section; inside a top-level class
 * (`isClass`), a `member` line at the class body's indent starts one too.
 */
function declarationStarts (lines: readonly string[], rules: { top: (line: string) => boolean, isClass: (line: string) => boolean, member: (line: string) => boolean, attached: RegExp }): number[] {
  const starts = [0]
  let inClass = false
  let bodyIndent: number | undefined
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (blank(line)) continue
    const indent = indentOf(line)
    if (indent === 0) {
      if (rules.top(line)) {
        starts.push(attachAbove(lines, i, rules.attached, starts[starts.length - 1]))
        inClass = rules.isClass(line)
        bodyIndent = undefined
      } else if (!rules.attached.test(line) && !/^[)\]}]/.test(line)) {
        inClass = false
      }
      continue
    }
    if (!inClass) continue
    bodyIndent ??= indent
    if (indent === bodyIndent && rules.member(line)) starts.push(attachAbove(lines, i, rules.attached, starts[starts.length - 1]))
  }
  return starts
}

const pythonStarts = (lines: readonly string[]): number[] => declarationStarts(lines, {
  top: line => PY_DEF.test(line),
  isClass: line => line.startsWith('class'),
  member: line => PY_DEF.test(line),
  attached: PY_ATTACHED,
})

const scriptStarts = (lines: readonly string[]): number[] => declarationStarts(lines, {
  top: line => JS_TOP.test(line),
  isClass: line => JS_CLASS.test(line),
  member: line => JS_METHOD.test(line) && !JS_NOT_METHOD.test(line) && !/;[ \t]*$/.test(line) && !/^[^(]*=/.test(line),
  attached: JS_ATTACHED,
})

function markdownStarts (lines: readonly string[]): number[] {
  const starts = [0]
  let fenced = false
  for (let i = 0; i < lines.length; i++) {
    if (MD_FENCE.test(lines[i])) fenced = !fenced
    else if (!fenced && MD_HEADING.test(lines[i])) starts.push(i)
  }
  return starts
}

function paragraphStarts (lines: readonly string[]): number[] {
  const starts = [0]
  for (let i = 1; i < lines.length; i++) if (blank(lines[i - 1]) && !blank(lines[i])) starts.push(i)
  return starts
}

/** 0-based indexes of the lines where sections begin: ascending, distinct, the first 0. */
export function sectionStarts (kind: DocumentKind, lines: readonly string[]): number[] {
  const starts = startsOf(kind, lines)
  return [...new Set(starts)].sort((a, b) => a - b)
}

function startsOf (kind: DocumentKind, lines: readonly string[]): number[] {
  switch (kind) {
    case 'python': return pythonStarts(lines)
    case 'script': return scriptStarts(lines)
    case 'markdown': return markdownStarts(lines)
    case 'text': return paragraphStarts(lines)
    default: return kind satisfies never
  }
}
