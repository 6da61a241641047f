/**
 * One Prometheus registry per node (tests run several nodes in one process; prom-client's
 * global registry would mix them): prom-client's default process metrics (CPU, memory, GC,
 * handles, event-loop delay with nodejs_eventloop_lag_p99_seconds), gryphgen's own (see
 * scraped.ts, ledger-watch.ts, sandbox-runs.ts, http.ts) and, when asked, libp2p's.
 * Nothing is exported until scraped; the ledger listeners are removed on stop.
 */
import { collectDefaultMetrics, Registry } from 'prom-client'
import type { prometheusMetrics } from '@libp2p/prometheus-metrics'
import type { WorkerPool } from '../../workers/index.js'
import { httpMetrics, type HttpObservation } from './http.js'
import { instrumentSandboxRuns } from './sandbox-runs.js'
import { registerScraped, type ScrapeSources } from './scraped.js'
import { LedgerWatch, type LedgerWatchSources } from './ledger-watch.js'

export interface NodeMetricsInit {
  /** Serve /metrics without the bearer token. */
  public: boolean
  /** Include libp2p's metrics (see libp2pMetrics). */
  libp2p: boolean
}

export type MetricsSources = ScrapeSources & LedgerWatchSources

export class NodeMetrics {
  readonly registry = new Registry()
  readonly public: boolean
  readonly #init: NodeMetricsInit
  readonly #http: (o: HttpObservation) => void
  #watch: LedgerWatch | undefined

  constructor (init: NodeMetricsInit) {
    this.#init = init
    this.public = init.public
    collectDefaultMetrics({ register: this.registry })
    // Gauges named *_total break Prometheus' naming rules (promtool rejects them); the same
    // counts by type remain (nodejs_active_handles{type}, ...).
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name)
    this.#http = httpMetrics(this.registry)
  }

  get contentType (): string { return this.registry.contentType }

  /**
   * libp2p's metrics service for this registry, when asked for. @libp2p/prometheus-metrics keeps
   * its metric objects in a map global to the process: with several nodes in one process each new
   * node takes the map over, so it is right only with one node per process (the CLI's case).
   * Loaded only when asked for.
   */
  async libp2pMetrics (): Promise<ReturnType<typeof prometheusMetrics> | undefined> {
    if (!this.#init.libp2p) return undefined
    const { prometheusMetrics } = await import('@libp2p/prometheus-metrics')
    return prometheusMetrics({ registry: this.registry, collectDefaultMetrics: false })
  }

  /** The pool as the task service should see it: sandbox runs counted. */
  instrumentPool (pool: WorkerPool): WorkerPool { return instrumentSandboxRuns(pool, this.registry) }

  /** Starts the metrics that read the node's parts; call once, when they exist. */
  watch (sources: MetricsSources): void {
    registerScraped(this.registry, sources)
    this.#watch = new LedgerWatch(this.registry, sources)
    this.#watch.start()
  }

  observe (o: HttpObservation): void { this.#http(o) }

  async render (): Promise<string> { return this.registry.metrics() }

  stop (): void {
    this.#watch?.stop()
    this.#watch = undefined
  }
}
