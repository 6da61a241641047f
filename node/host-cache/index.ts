/**
 * The host cache: facts slow to measure that stay true until the host changes (hardware, the
 * sandbox probe), kept in `<data-dir>/cache/` so that a warm start skips measuring them.
 */
export { hostKey, readCached, writeCached, CACHE_DIR } from './store.js'
export { cachedStaticFacts, type StaticFactsInit } from './static-facts.js'
export { cachedSandboxProbe, SANDBOX_RECHECK_MS, type SandboxProbeCacheInit } from './sandbox-probe.js'
