/**
 * This process's event-loop delay (perf_hooks.monitorEventLoopDelay), read once per
 * heartbeat: the p99 of the last interval (how late timers fire now: renewals come earlier
 * when it grows) and the largest delay of the last few leases (part of the margin before a
 * lease is judged expired, lease-timing.ts). A stall longer than the sampling resolution shows
 * up in the max of the interval that contains it.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'
import { WindowedMax } from './lease-timing.js'

const RESOLUTION_MS = 20
const NS_PER_MS = 1e6

export class LoopDelay {
  readonly #histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  readonly #recent: WindowedMax
  #p99Ms = 0

  constructor (windowMs: number) {
    this.#recent = new WindowedMax(windowMs)
  }

  start (): void { this.#histogram.enable() }
  stop (): void { this.#histogram.disable() }

  /** Folds the interval since the last read into the figures; call once per heartbeat. */
  sample (now: number): void {
    if (this.#histogram.count === 0) return
    // The histogram counts the resolution itself in every sample: a timer due every 20 ms that fires on time reads 20 ms.
    this.#p99Ms = Math.max(0, this.#histogram.percentile(99) / NS_PER_MS - RESOLUTION_MS)
    this.#recent.add(now, Math.max(0, this.#histogram.max / NS_PER_MS - RESOLUTION_MS))
    this.#histogram.reset()
  }

  /** p99 delay of the last interval, ms. */
  get currentMs (): number { return this.#p99Ms }

  /** Largest delay within the window, ms. */
  recentMaxMs (now: number): number { return this.#recent.max(now) }
}
