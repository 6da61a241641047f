/**
 * Components with a lifetime, started in order and stopped in the reverse order (js-libp2p's
 * Startable): what is started later may depend on what started before it, never the other way.
 * A start that fails stops what had started; stopping goes on past a component whose stop
 * fails (logged), so one broken part never keeps the rest running.
 */
import type { Logger } from './logger.js'

export interface Stoppable {
  stop: () => unknown
}

export class Lifecycle {
  readonly #started: Array<{ name: string, stop: () => unknown }> = []
  readonly #logger: Logger

  constructor (logger: Logger) {
    this.#logger = logger
  }

  /** Starts `component` (`start` may be omitted for one made started) and registers its stop. */
  async add<T extends Stoppable> (name: string, component: T, start?: (component: T) => unknown): Promise<T> {
    if (start !== undefined) await start(component)
    this.#started.push({ name, stop: () => component.stop() })
    return component
  }

  /** Registers how to stop something already running (a database to close, a pool started in parallel). */
  defer (name: string, stop: () => unknown): void {
    this.#started.push({ name, stop })
  }

  /** Stops everything registered, last first; each failure is logged and the rest still stop. */
  async stopAll (): Promise<void> {
    for (const { name, stop } of this.#started.splice(0).reverse()) {
      try {
        await stop()
      } catch (err) {
        this.#logger.warn({ component: name, err: (err as Error).message }, 'component stop failed')
      }
    }
  }

  get size (): number { return this.#started.length }
}
