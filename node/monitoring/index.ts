export { NodeMetrics, type NodeMetricsInit, type MetricsSources } from './node-metrics.js'
export { readiness, type ReadinessView } from './readiness.js'
export { metricsSources, type NodeParts } from './sources.js'
