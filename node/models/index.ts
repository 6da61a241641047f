/**
 * The node's side of local models: the catalog of what it serves (its model store joined with
 * its model worker's state, kept in the advert), the worker settings from config and machine,
 * and the mesh's models by name.
 */
export { ModelCatalog, advertisedModels, ADVERT_MODELS_BYTES, type ModelCatalogInit } from './catalog.js'
export { hostSettings, autoThreads, type MachineFacts } from './settings.js'
export { meshModels, type MeshModel } from './mesh.js'
export { NodeModelFetching, DEFAULT_FETCH_MB_PER_S, type ModelFetchingInit, type ModelSource } from './fetching.js'
