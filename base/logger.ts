/**
 * The one structured logger. JSON lines by default; human-readable when stdout is a TTY.
 * Components get a child logger named after themselves (`gryphgen:mesh`, `gryphgen:api`).
 */
import { createRequire } from 'node:module'
import { pino, type Logger } from 'pino'

export type { Logger }

export interface LoggerInit {
  level?: string
  /** Force pretty (true) or JSON (false); default: pretty when stdout is a TTY. */
  pretty?: boolean
  /** Destination stream; default stdout. Tests pass a sink to keep output quiet. */
  destination?: NodeJS.WritableStream
}

export function createLogger (init: LoggerInit = {}): Logger {
  const level = init.level ?? 'info'
  const usePretty = init.pretty ?? (init.destination === undefined && process.stdout.isTTY === true)
  if (usePretty) {
    // Loaded only for terminals: a service logging JSON never pays for it.
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty')
    return pino({ level, base: undefined }, pretty({ sync: true, colorize: true, destination: init.destination ?? 1 }))
  }
  return pino({ level, base: undefined }, init.destination ?? pino.destination({ sync: false }))
}

/** A logger that discards everything, for tests and library callers that pass none. */
export function silentLogger (): Logger {
  return pino({ level: 'silent' })
}

export function componentLogger (parent: Logger, component: string): Logger {
  return parent.child({ component: `gryphgen:${component}` })
}
