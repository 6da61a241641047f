/**
 * Models that travel the mesh: the model fetch protocol's two sides (serve a held GGUF by its
 * digest in verified chunks; fetch one from holders, resumably) and the fetcher that adds a
 * fetched model to the store. Peer discovery and the mesh are injected (the node composes them).
 */
export { ModelFetcher, type ModelFetchComponents, type ModelFetchInit, type ModelFetchRequest, type FetchProgress, type FetchState } from './fetcher.js'
export { ModelServer, type ModelServerComponents, type ModelServerInit, type ModelServerStats } from './server.js'
export { serveModelFetch, type HeldModelFile, type ServeModelOptions, type ServeModelOutcome } from './serve.js'
export { fetchFromHolder, type ModelFetchMesh, type FetchFromHolderOptions } from './client.js'
export { ManifestCache, chunkManifestOf } from './manifest.js'
export { PartialModel } from './partial.js'
export { ModelHolderError, ModelUnavailableError, ModelFetchTooLargeError, ModelDigestMismatchError, ModelFetchOptionsError } from './errors.js'
