/**
 * Spawned workers log JSON lines (pino) to stderr; the pool re-logs each line through its own
 * logger with the worker's id, so a node has one log. Anything else a worker prints is logged
 * as plain output. Lines are bounded; the last few are kept for start-up failure reports.
 */
import type { Readable } from 'node:stream'
import type { Logger } from '../base/index.js'

export type LogLevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'

export interface ParsedLine { level: LogLevelName, message: string, fields: Record<string, unknown> }

const LINE_MAX_CHARS = 16 * 1024
const LEVELS: ReadonlyArray<[number, LogLevelName]> = [[60, 'fatal'], [50, 'error'], [40, 'warn'], [30, 'info'], [20, 'debug'], [0, 'trace']]

/** A pino JSON line as level, message and fields; anything else as an `info` line of output. */
export function parseWorkerLine (line: string): ParsedLine {
  if (line.startsWith('{')) {
    try {
      const record = JSON.parse(line) as Record<string, unknown>
      if (typeof record.level === 'number') {
        const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...fields } = record
        const name = LEVELS.find(([n]) => (level as number) >= n)?.[1] ?? 'info'
        return { level: name, message: typeof msg === 'string' ? msg : '', fields }
      }
    } catch {
      // not JSON after all: plain output
    }
  }
  return { level: 'info', message: 'worker output', fields: { line } }
}

/** Splits a stream into bounded lines; a line longer than the bound is cut and its rest dropped. */
export function forEachLine (stream: Readable, onLine: (line: string) => void): void {
  let buffered = ''
  let overflowing = false
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    let text = buffered + chunk
    let newline = text.indexOf('\n')
    while (newline !== -1) {
      if (!overflowing) onLine(text.slice(0, Math.min(newline, LINE_MAX_CHARS)))
      overflowing = false
      text = text.slice(newline + 1)
      newline = text.indexOf('\n')
    }
    if (text.length > LINE_MAX_CHARS) {
      if (!overflowing) onLine(text.slice(0, LINE_MAX_CHARS))
      overflowing = true
      text = ''
    }
    buffered = text
  })
  stream.on('end', () => { if (buffered.length > 0 && !overflowing) onLine(buffered) })
}

/** Re-logs a worker's output through `logger`; keeps the last `keep` lines in `tail`. */
export function forwardWorkerOutput (stream: Readable, logger: Logger, tail: string[], keep = 20): void {
  forEachLine(stream, line => {
    if (line.length === 0) return
    tail.push(line)
    if (tail.length > keep) tail.shift()
    const parsed = parseWorkerLine(line)
    logger[parsed.level](parsed.fields, parsed.message)
  })
}
