/** Model names: what the store accepts, and the default name a file gets. Pure. */
import { basename } from 'node:path'
import { InvalidModelNameError } from './errors.js'

/** A model name: a letter or digit, then up to 127 letters, digits, `.`, `_`, `:` or `-`. */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/

export function assertModelName (name: string): void {
  if (typeof name !== 'string' || !MODEL_NAME_PATTERN.test(name)) {
    throw new InvalidModelNameError(`invalid model name ${JSON.stringify(name)}: use 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit`, { details: { name } })
  }
}

/**
 * The name a model gets when none is given: its GGUF `general.name`, else its file name without
 * `.gguf`, with characters a name may not hold turned into `-`. A file with neither gives an
 * InvalidModelNameError asking for a name.
 */
export function defaultModelName (generalName: string | undefined, path: string): string {
  for (const candidate of [generalName, basename(path).replace(/\.gguf$/i, '')]) {
    const name = (candidate ?? '').replace(/[^A-Za-z0-9._:-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 128).replace(/-+$/, '')
    if (MODEL_NAME_PATTERN.test(name)) return name
  }
  throw new InvalidModelNameError(`${path}: no usable name in the file; give one (--name)`, { details: { name: generalName ?? '' } })
}
