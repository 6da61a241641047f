/**
 * One tokenizer for code and prose, used at index and at query time alike (so any change to
 * it changes what old indexes match: bump TOKENIZER_VERSION). Pure.
 *
 * Words are runs of letters, digits and `_`. An identifier is split into its camelCase and
 * snake_case parts and also kept whole with the parts joined, so `parseDate`, `parse_date`
 * and "parse date" all meet: parts `parse`, `date` and whole `parsedate`. Tokens are
 * lowercased, plurals folded (`dates` -> `date`), and one-letter tokens, tokens over 64
 * characters and a small list of stop words (English and ubiquitous keywords) dropped.
 */

export const TOKENIZER_VERSION = 1

const MAX_TOKEN_LENGTH = 64
const WORD = /[\p{L}\p{N}_]+/gu
const PART = /\p{Lu}+(?!\p{Ll})|\p{Lu}?\p{Ll}+|\p{N}+|\p{L}+/gu

const STOP_WORDS = new Set([
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'do', 'does', 'for', 'from', 'has', 'have', 'how', 'if', 'in',
  'into', 'is', 'it', 'its', 'of', 'on', 'or', 'so', 'that', 'the', 'then', 'there', 'these', 'this', 'to', 'was',
  'what', 'when', 'which', 'will', 'with', 'we', 'you', 'can', 'should', 'me', 'my', 'some',
  // keywords nearly every code chunk has, which only add noise to a ranking
  'const', 'let', 'var', 'def', 'self', 'function', 'return', 'import', 'export', 'none', 'null', 'undefined', 'true', 'false',
])

/** Folds common English plurals: `dates` -> `date`, `entries` -> `entry`; leaves `class`, `status`, `axis` alone. */
export function foldPlural (word: string): string {
  if (word.length < 4 || !word.endsWith('s')) return word
  if (word.endsWith('ies') && word.length > 4) return word.slice(0, -3) + 'y'
  const before = word[word.length - 2]
  if (before === 's' || before === 'u' || before === 'i') return word
  return word.slice(0, -1)
}

function keep (token: string): boolean {
  return token.length >= 2 && token.length <= MAX_TOKEN_LENGTH && !STOP_WORDS.has(token)
}

/** Every token of `text`, in order, repeats kept (term frequencies count them). */
export function tokenize (text: string): string[] {
  const tokens: string[] = []
  for (const [word] of text.matchAll(WORD)) {
    if (word.length > 4 * MAX_TOKEN_LENGTH) continue // base64, hashes: nothing to search by
    const parts = word.match(PART) ?? []
    if (parts.length === 1) {
      const token = foldPlural(parts[0].toLowerCase())
      if (keep(token)) tokens.push(token)
      continue
    }
    const lower = parts.map(p => p.toLowerCase())
    for (const part of lower) {
      const token = foldPlural(part)
      if (keep(token)) tokens.push(token)
    }
    const whole = foldPlural(lower.join(''))
    if (keep(whole)) tokens.push(whole)
  }
  return tokens
}

/** Term frequencies of `text`, and its length in tokens. */
export function termFrequencies (text: string): { terms: Map<string, number>, length: number } {
  const tokens = tokenize(text)
  const terms = new Map<string, number>()
  for (const token of tokens) terms.set(token, (terms.get(token) ?? 0) + 1)
  return { terms, length: tokens.length }
}

/** The distinct terms of a query, in first-seen order. */
export function queryTerms (text: string): string[] {
  return [...new Set(tokenize(text))]
}
