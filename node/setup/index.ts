/** `gryphgen setup`: what an installation adds after `npm install` (node-llama-cpp's binaries). */
export { installBackend, pruneBackends, backendPackage, llamaPackageDir, GPU_BACKENDS, type GpuBackend, type BackendInstall } from './llama-backend.js'
