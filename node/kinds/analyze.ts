/**
 * The `analyze` kind's prompt and answer (pure): the code goes to the model with numbered
 * lines, its answer is held by a grammar to ANALYZE_SCHEMA (protocols/analysis.ts) and parsed here. An answer cut
 * by maxTokens cannot parse: that is an AnalysisOutputError naming the cause.
 */
import { ANALYZE_SCHEMA, SEVERITIES, type Analysis, type ChatMessage, type FinishReason } from '../../protocols/index.js'

export { ANALYZE_SCHEMA, type Analysis }
import { GryphgenError } from '../../base/index.js'

export class AnalysisOutputError extends GryphgenError {}

const SYSTEM = 'You review code. Answer only with JSON: "issues", a list of problems, each with "severity" ' +
  '(error, warning or info), "line" (the line number shown before the code line) and "message"; and "summary", ' +
  'a short overall assessment. Report only real problems; an empty list is a fine answer.'

export function analysisMessages (code: string, question: string | undefined, language: string | undefined): ChatMessage[] {
  const lines = code.split('\n')
  const width = String(lines.length).length
  const numbered = lines.map((l, i) => `${String(i + 1).padStart(width)}| ${l}`).join('\n')
  const ask = question === undefined || question.trim() === '' ? 'Find bugs, security problems and unclear code.' : question
  return [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: `${language === undefined ? '' : `Language: ${language}\n`}Question: ${ask}\n\nCode:\n${numbered}` },
  ]
}

/** The model's answer as an Analysis; AnalysisOutputError when it is not one. */
export function parseAnalysis (text: string, finishReason: FinishReason): Analysis {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new AnalysisOutputError(finishReason === 'length'
      ? 'the model\'s answer was cut off at maxTokens before its JSON was complete; raise maxTokens'
      : 'the model\'s answer is not JSON')
  }
  const a = parsed as Partial<Analysis>
  const ok = Array.isArray(a.issues) && typeof a.summary === 'string' &&
    a.issues.every(i => typeof i === 'object' && i !== null && (SEVERITIES as readonly string[]).includes(i.severity) && Number.isInteger(i.line) && typeof i.message === 'string')
  if (!ok) throw new AnalysisOutputError('the model\'s answer does not have the analysis shape')
  return { issues: a.issues as Analysis['issues'], summary: a.summary as string }
}
