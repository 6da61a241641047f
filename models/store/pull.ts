/**
 * Pulling a model by URI: node-llama-cpp's resolver downloads it (resumably: a partial download
 * stays in `<store>/downloads` and a later pull goes on from it) and the file is then moved into
 * the store. URIs: `hf:user/repo:quant`, `hf:user/repo/file.gguf`, or an https URL. A file
 * already downloaded is found by the name the resolver gives it (`hf_<user>_<repo>_<file>`)
 * without any network traffic. node-llama-cpp is loaded only when a pull runs.
 */
import { mkdir } from 'node:fs/promises'
import { InvalidModelUriError } from './errors.js'
import type { ModelProgress } from './copy.js'
import type { AddModelResult, ModelStore } from './store.js'

export interface PullModelOptions {
  store: ModelStore
  /** Default: as for `add`, the file's `general.name` or file name. */
  name?: string
  signal?: AbortSignal
  /** Download progress, then (`phase: 'add'`) the store's hashing of the file. */
  onProgress?: (progress: ModelProgress & { phase: 'download' | 'add' }) => void
}

const HF_URI = /^hf:[A-Za-z0-9][\w.-]*\/[\w.-]+(\/[^\s:]+\.gguf|:[\w.-]+)?$/

/** Throws InvalidModelUriError unless `uri` is one the pull accepts. */
export function assertModelUri (uri: string): void {
  let ok = HF_URI.test(uri)
  if (!ok && uri.startsWith('https://')) {
    try { ok = new URL(uri).hostname !== '' } catch { ok = false }
  }
  if (!ok) {
    throw new InvalidModelUriError(`invalid model URI ${JSON.stringify(uri)}: expected hf:user/repo:quant, hf:user/repo/file.gguf or an https:// URL`, { details: { uri } })
  }
}

export async function pullModel (uri: string, options: PullModelOptions): Promise<AddModelResult> {
  assertModelUri(uri)
  const { store, signal, onProgress } = options
  await mkdir(store.downloadDir, { recursive: true, mode: 0o700 })
  const { resolveModelFile } = await import('node-llama-cpp')
  const path = await resolveModelFile(uri, {
    directory: store.downloadDir,
    cli: false,
    signal,
    deleteTempFileOnCancel: false,
    onProgress: onProgress === undefined ? undefined : ({ downloadedSize, totalSize }) => { onProgress({ phase: 'download', doneBytes: downloadedSize, totalBytes: totalSize }) },
  })
  return store.add(path, {
    name: options.name,
    move: true,
    signal,
    onProgress: onProgress === undefined ? undefined : p => { onProgress({ ...p, phase: 'add' }) },
  })
}
