/**
 * The generator's answer: FILES_SCHEMA is given to the model as a grammar (models/grammar's
 * subset), so its output is `{ "files": [ { "path", "content" } ] }`; parseGeneratedFiles
 * reads it back. Only the shape is checked here: whether the paths are acceptable is the
 * task monitor's question (checkAlignment), answered as violations in the checkpoint. Pure.
 */
import { FILE_LIMITS } from './alignment.js'
import { GeneratedFilesError } from './errors.js'
import type { FileSet } from './types.js'

export const FILES_SCHEMA = {
  type: 'object',
  properties: {
    files: {
      type: 'array',
      minItems: 1,
      maxItems: FILE_LIMITS.maxFiles,
      items: {
        type: 'object',
        properties: {
          path: { type: 'string', minLength: 1, maxLength: 1024 },
          content: { type: 'string', maxLength: FILE_LIMITS.maxFileBytes },
        },
        required: ['path', 'content'],
        additionalProperties: false,
      },
    },
  },
  required: ['files'],
  additionalProperties: false,
} as const

/** The files of the generator's answer; GeneratedFilesError when it is not the files JSON. */
export function parseGeneratedFiles (text: string, finishReason?: 'stop' | 'length'): FileSet {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new GeneratedFilesError(finishReason === 'length'
      ? 'the generator\'s answer was cut off at maxTokens before its JSON was complete; raise the token budget or ask for fewer files'
      : 'the generator\'s answer is not JSON')
  }
  const files = (parsed as { files?: unknown } | null)?.files
  if (!Array.isArray(files)) throw new GeneratedFilesError('the generator\'s answer has no "files" list')
  const entries: Array<[string, string]> = []
  const seen = new Set<string>()
  for (const [i, file] of files.entries()) {
    const { path, content } = (file ?? {}) as { path?: unknown, content?: unknown }
    if (typeof path !== 'string' || typeof content !== 'string') throw new GeneratedFilesError(`file ${i} of the generator's answer needs a "path" and a "content" string`)
    if (seen.has(path)) throw new GeneratedFilesError(`the generator's answer has ${path} twice`)
    seen.add(path)
    entries.push([path, content])
  }
  return Object.fromEntries(entries)
}

/** The base's files with the generated ones written over them (the attempt's whole solution). */
export function applyGeneratedFiles (base: Readonly<FileSet>, generated: Readonly<FileSet>): FileSet {
  return Object.fromEntries([...Object.entries(base), ...Object.entries(generated)])
}
