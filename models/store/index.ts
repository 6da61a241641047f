/** The model store of a data dir (add, link, list, get, remove) and pulling models by URI. */
export { ModelStore, type ModelStoreInit, type ModelEntry, type AddModelOptions, type AddModelResult } from './store.js'
export { pullModel, assertModelUri, type PullModelOptions } from './pull.js'
export { MODEL_NAME_PATTERN, assertModelName, defaultModelName } from './names.js'
export { MANIFEST_VERSION, type ModelRecord } from './manifest.js'
export type { ModelProgress } from './copy.js'
export { ModelNotFoundError, ModelExistsError, InvalidModelNameError, InvalidModelUriError } from './errors.js'
