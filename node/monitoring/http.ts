/**
 * HTTP requests by route (the route's pattern, never the raw URL: ids would make a series each)
 * and status, with a latency histogram. Unmatched URLs count as route "unmatched".
 */
import { Counter, Histogram, type Registry } from 'prom-client'

export interface HttpObservation { method: string, route: string | undefined, status: number, seconds: number }

export function httpMetrics (registry: Registry): (o: HttpObservation) => void {
  const registers = [registry]
  const requests = new Counter({ name: 'gryphgen_http_requests_total', help: 'HTTP API requests, by method, route and status', labelNames: ['method', 'route', 'status'], registers })
  const latency = new Histogram({
    name: 'gryphgen_http_request_duration_seconds',
    help: 'HTTP API latency until the answer (for streams: until the stream ended), by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
    registers,
  })
  return ({ method, route, status, seconds }) => {
    const labels = { method, route: route ?? 'unmatched' }
    requests.inc({ ...labels, status: String(status) })
    latency.observe(labels, seconds)
  }
}
