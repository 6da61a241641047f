/**
 * The one llama.cpp runtime of a host: node-llama-cpp imported on first use (it is heavy, and
 * a worker that never runs a model never pays for it) and one `Llama`, created once. Its
 * thread cap is the first request's `settings.threads`: llama.cpp shares that many threads among
 * all contexts; more than the physical cores makes its spinning thread pool collapse.
 */
import type { Llama, LlamaLogLevel } from 'node-llama-cpp'
import type { Logger } from '../../base/index.js'
import { ModelLoadError } from './errors.js'

export type LlamaLibrary = typeof import('node-llama-cpp')
export interface LlamaRuntime { lib: LlamaLibrary, llama: Llama }

export async function createLlamaRuntime (threads: number, log: Logger): Promise<LlamaRuntime> {
  const lib = await import('node-llama-cpp')
  try {
    const llama = await lib.getLlama({
      // A GPU build where one is usable (CUDA, Vulkan, Metal), else the CPU one; prebuilt only:
      // building llama.cpp from source takes many minutes and needs a network.
      gpu: 'auto',
      build: 'never',
      maxThreads: threads,
      logLevel: lib.LlamaLogLevel.warn,
      logger: (level, message) => logLlama(log, lib, level, message),
      progressLogs: false,
    })
    log.info({ gpu: llama.gpu, maxThreads: llama.maxThreads }, 'llama.cpp ready')
    return { lib, llama }
  } catch (err) {
    throw new ModelLoadError(`no usable llama.cpp build: ${(err as Error).message}`, { cause: err })
  }
}

function logLlama (log: Logger, lib: LlamaLibrary, level: LlamaLogLevel, message: string): void {
  const text = message.trimEnd()
  if (text === '') return
  if (level === lib.LlamaLogLevel.error || level === lib.LlamaLogLevel.fatal) log.error({ llama: text }, 'llama.cpp error')
  else if (level === lib.LlamaLogLevel.warn) log.warn({ llama: text }, 'llama.cpp warning')
  else log.debug({ llama: text }, 'llama.cpp')
}
