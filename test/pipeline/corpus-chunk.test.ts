/** Chunking and tokenizing (pure): sections by language, bounded sizes, identifier splitting. */
import { describe, expect, test } from 'vitest'
import { chunkDocument, documentKind, tokenize, queryTerms, type Chunk } from '../../pipeline/corpus/index.js'

const firstLines = (chunks: Chunk[]): string[] => chunks.map(c => c.text.split('\n')[0].trim())

describe('chunkDocument', () => {
  test.each([
    ['a.py', 'python'], ['b.PYI', 'python'], ['c.ts', 'script'], ['d.mjs', 'script'], ['e.tsx', 'script'],
    ['README.md', 'markdown'], ['notes.txt', 'text'], ['Makefile', 'text'], ['main.go', 'text'],
  ])('%s is %s', (path, kind) => {
    expect(documentKind(path)).toBe(kind)
  })

  test('Python: one chunk per top-level def and per method, decorators and comments with them', () => {
    const text = [
      'import os', '', 'X = 1', '', '',
      'def top(a):', '    def nested():', '        return a', '    return nested()', '',
      '# comment about Thing', 'class Thing:', '    """Doc."""', '', '    def __init__(self):', '        self.x = 1', '        self.y = 2', '',
      '    @property', '    def size(self):', '        if self.x:', '            return 2', '        return 1', '',
      '@decorate', 'async def fetch(url):', '    return await get(url)',
    ].join('\n')
    const chunks = chunkDocument('m.py', text)
    expect(firstLines(chunks)).toEqual(['import os', 'def top(a):', '# comment about Thing', 'def __init__(self):', '@property', '@decorate'])
    expect(chunks[1].text).toContain('def nested') // nested defs stay with their function
    expect(chunks.map(c => [c.startLine, c.endLine])).toEqual([[1, 3], [6, 9], [11, 13], [15, 17], [19, 23], [25, 27]])
  })

  test('JavaScript/TypeScript: functions, arrow constants, classes and their methods, exports', () => {
    const text = [
      "import { x } from './x.js'", '',
      '/** Adds. */', 'export function add (a, b) {', '  if (a) {', '    return a + b', '  }', '  return b', '}', '',
      'const twice = (n) => {', '  const doubled = n * 2', '  return doubled', '}', '',
      'export class Box {', '  #w = 0', '', '  // Width.', '  width () {', '    foo(1)', '    return this.#w', '  }', '',
      '  async grow (by: number): Promise<void> {', '    this.#w += by', '    await save(this.#w)', '  }', '}', '',
      'export interface Shape {', '  area: number', '  name: string', '}',
    ].join('\n')
    const chunks = chunkDocument('m.ts', text)
    // A lone line (here the import) joins what follows.
    expect(chunks[0].text).toContain('export function add')
    expect(firstLines(chunks)).toEqual(["import { x } from './x.js'", 'const twice = (n) => {', 'export class Box {', '// Width.', 'async grow (by: number): Promise<void> {', 'export interface Shape {'])
  })

  test('a run of one-line declarations is one chunk', () => {
    const text = ['export const A = 1', 'export const B = 2', 'export const C = 3', 'export const D = 4', '', 'export function f () {', '  return 1', '}'].join('\n')
    expect(chunkDocument('c.js', text).map(c => [c.startLine, c.endLine])).toEqual([[1, 4], [6, 8]])
  })

  test('Markdown: by heading, not by a # inside fenced code', () => {
    const text = ['Intro text.', '', '# One', 'a', '', '```sh', '# not a heading', '```', '', '## Two', 'b'].join('\n')
    expect(firstLines(chunkDocument('r.md', text))).toEqual(['Intro text.', '# One', '## Two'])
  })

  test('text: paragraphs packed up to the limits', () => {
    const paragraph = (i: number): string => `Paragraph ${i} ${'word '.repeat(20)}`.trim()
    const text = Array.from({ length: 30 }, (_, i) => paragraph(i)).join('\n\n')
    const chunks = chunkDocument('n.txt', text, { maxLines: 80, maxChars: 500 })
    expect(chunks.length).toBeGreaterThan(1)
    expect(chunks.length).toBeLessThan(30)
    for (const c of chunks) expect(c.text.length).toBeLessThanOrEqual(500)
    expect(chunks.map(c => c.text).join('\n\n')).toBe(text)
  })

  test('long sections are split within the limits, at blank lines where near; every chunk non-blank; ids unique', () => {
    const body = Array.from({ length: 300 }, (_, i) => i % 10 === 9 ? '' : `    x${i} = compute(${i})`)
    const text = ['def huge():', ...body, '', '', '   ', 'def small():', '    pass', ''].join('\n')
    const limits = { maxLines: 40, maxChars: 1200 }
    const chunks = chunkDocument('h.py', text, limits)
    for (const c of chunks) {
      expect(c.endLine - c.startLine + 1).toBeLessThanOrEqual(40)
      expect(c.text.length).toBeLessThanOrEqual(1200)
      expect(c.text.trim()).not.toBe('')
      expect(c.text.split('\n')[0].trim()).not.toBe('')
    }
    expect(new Set(chunks.map(c => c.id)).size).toBe(chunks.length)
    expect(chunks.at(-1)?.text).toBe('def small():\n    pass')
    // Every non-blank line is in exactly one chunk.
    const covered = chunks.flatMap(c => c.text.split('\n')).filter(l => l.trim() !== '')
    expect(covered).toEqual(text.split('\n').filter(l => l.trim() !== ''))
  })

  test('a minified line is cut by characters into pieces with distinct ids', () => {
    const line = 'var a=1;'.repeat(1000)
    const chunks = chunkDocument('app.min.js', line, { maxLines: 80, maxChars: 3000 })
    expect(chunks.map(c => c.text).join('')).toBe(line)
    expect(chunks.every(c => c.startLine === 1 && c.endLine === 1 && c.text.length <= 3000)).toBe(true)
    expect(new Set(chunks.map(c => c.id)).size).toBe(chunks.length)
  })

  test('blank documents have no chunks; CRLF is read as LF', () => {
    expect(chunkDocument('e.py', '')).toEqual([])
    expect(chunkDocument('e.md', '\n  \n\t\n')).toEqual([])
    const [chunk] = chunkDocument('w.txt', 'one\r\ntwo\r\n')
    expect(chunk).toEqual({ id: 'w.txt#L1-2', source: 'w.txt', startLine: 1, endLine: 2, text: 'one\ntwo' })
  })
})

describe('tokenize', () => {
  test('identifiers: parts plus the whole, whichever the case style', () => {
    expect(tokenize('parseDate')).toEqual(['parse', 'date', 'parsedate'])
    expect(tokenize('parse_date')).toEqual(['parse', 'date', 'parsedate'])
    expect(tokenize('PARSE_DATE')).toEqual(['parse', 'date', 'parsedate'])
    expect(tokenize('HTTPServer')).toEqual(['http', 'server', 'httpserver'])
    expect(tokenize('base64Encode')).toEqual(['base', '64', 'encode', 'base64encode'])
  })

  test('lowercase, plurals folded, short tokens and stop words dropped', () => {
    expect(tokenize('Parse the Dates of a file, x = y')).toEqual(['parse', 'date', 'file'])
    expect(tokenize('entries classes status axis')).toEqual(['entry', 'classe', 'status', 'axis'])
    expect(tokenize('def f(self): return None')).toEqual([])
  })

  test('the query "parse date" meets parseDate', () => {
    const doc = new Set(tokenize('function parseDate (text) {}'))
    expect(queryTerms('parse a date').every(t => doc.has(t))).toBe(true)
    expect(queryTerms('parse parse date')).toEqual(['parse', 'date'])
  })

  test('unicode words are kept; long junk is dropped', () => {
    expect(tokenize('Größe café naïve')).toEqual(['größe', 'café', 'naïve'])
    expect(tokenize('a'.repeat(300))).toEqual([])
  })
})
