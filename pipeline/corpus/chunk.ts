/**
 * Chunking: a document becomes the pieces retrieval ranks and a prompt quotes. Sections come
 * from sections.ts (functions, classes, headings, paragraphs). In code, runs of tiny sections
 * (one-line constants) are merged and a lone line (a class header) joins what follows; text
 * paragraphs are packed up to the limits; Markdown sections stay as they are. A section over
 * the limits is cut at a blank line where one is near, else at the limit (a single over-long
 * line, as in minified code, is cut by characters). Every chunk has text that is not blank,
 * 1-based inclusive line numbers and an id unique in its document. Pure.
 */
import { documentKind, sectionStarts } from './sections.js'

export interface Chunk {
  /** `<source>#L<start>-<end>`, with `.2`, `.3`... for pieces of one over-long line. */
  id: string
  source: string
  startLine: number
  endLine: number
  text: string
}

export interface ChunkLimits { maxLines: number, maxChars: number }

export const DEFAULT_CHUNK_LIMITS: Readonly<ChunkLimits> = Object.freeze({ maxLines: 80, maxChars: 3000 })

/** Sections of at most this many lines are "tiny": runs of them are merged. */
const TINY_LINES = 2

/** Lines [start, end), 0-based; `text` set only for a piece of one line. */
interface Span { start: number, end: number, text?: string }

const blank = (line: string): boolean => line.trim() === ''

function trimBlank (lines: readonly string[], span: Span): Span {
  let { start, end } = span
  while (start < end && blank(lines[start])) start++
  while (end > start && blank(lines[end - 1])) end--
  return { start, end }
}

function charsOf (lines: readonly string[], span: Span): number {
  let chars = span.end - span.start - 1
  for (let i = span.start; i < span.end; i++) chars += lines[i].length
  return chars
}

const fits = (lines: readonly string[], span: Span, limits: ChunkLimits): boolean =>
  span.end - span.start <= limits.maxLines && charsOf(lines, span) <= limits.maxChars

/** Merges neighbours while the result fits: any two for text; for code, runs of tiny sections, and a lone line into what follows. */
function pack (lines: readonly string[], spans: Span[], limits: ChunkLimits, packAll: boolean): Span[] {
  const packed: Array<Span & { tiny: boolean }> = []
  for (const span of spans) {
    const tiny = span.end - span.start <= TINY_LINES
    const last = packed[packed.length - 1]
    const joins = packAll || (last?.tiny === true && (tiny || last.end - last.start === 1))
    if (last !== undefined && joins && fits(lines, { start: last.start, end: span.end }, limits)) {
      last.end = span.end
      last.tiny &&= tiny
    } else {
      packed.push({ ...span, tiny })
    }
  }
  return packed.map(({ start, end }) => ({ start, end }))
}

/** Pieces of one line longer than maxChars, blank pieces left out. */
function lineParts (line: string, at: number, maxChars: number): Span[] {
  const parts: Span[] = []
  for (let i = 0; i < line.length; i += maxChars) {
    const text = line.slice(i, i + maxChars)
    if (!blank(text)) parts.push({ start: at, end: at + 1, text })
  }
  return parts
}

/** Cuts a span into pieces within the limits, preferring a blank line in the second half of each window. */
function split (lines: readonly string[], span: Span, limits: ChunkLimits): Span[] {
  const pieces: Span[] = []
  let start = span.start
  while (start < span.end) {
    let end = start
    let chars = -1
    while (end < span.end && end - start < limits.maxLines && chars + 1 + lines[end].length <= limits.maxChars) chars += 1 + lines[end++].length
    if (end === start) {
      pieces.push(...lineParts(lines[start], start, limits.maxChars))
      start++
      continue
    }
    if (end < span.end) {
      for (let j = end - 1; j > start + (end - start) / 2; j--) if (blank(lines[j])) { end = j; break }
    }
    const piece = trimBlank(lines, { start, end })
    if (piece.end > piece.start) pieces.push(piece)
    start = end
  }
  return pieces
}

/** The chunks of one document; none when it is blank. */
export function chunkDocument (path: string, text: string, limits: ChunkLimits = DEFAULT_CHUNK_LIMITS): Chunk[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n')
  const kind = documentKind(path)
  const starts = sectionStarts(kind, lines)
  const sections = starts
    .map((start, i) => trimBlank(lines, { start, end: starts[i + 1] ?? lines.length }))
    .filter(span => span.end > span.start)
  const packed = kind === 'markdown' ? sections : pack(lines, sections, limits, kind === 'text')
  const pieces = packed.flatMap(span => split(lines, span, limits))
  const seen = new Map<string, number>()
  return pieces.map(piece => {
    const base = `${path}#L${piece.start + 1}-${piece.end}`
    const n = (seen.get(base) ?? 0) + 1
    seen.set(base, n)
    return {
      id: n === 1 ? base : `${base}.${n}`,
      source: path,
      startLine: piece.start + 1,
      endLine: piece.end,
      text: piece.text ?? lines.slice(piece.start, piece.end).join('\n'),
    }
  })
}
