export { resolveConfig, type ConfigFlags, type ConfigSources } from './resolve.js'
export { loadConfig, dataDirFrom, type LoadConfigInit } from './load.js'
export { defaultConfig, defaultDataDir, DEFAULT_API_PORT, DEFAULT_P2P_PORT, CONFIG_FILE_NAME } from './defaults.js'
export { ConfigSchema, DeclaredResourcesSchema, GpuSchema, LabelSchema, type Config, type DeclaredResources, type Gpu } from './schema.js'
