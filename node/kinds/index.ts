/** The node's task kinds: the basic ones (noop, exec), the model kinds (generate, analyze, embed) and `build` (pipeline/). */
import { BASIC_KINDS, type KindRegistry, type TaskKind } from '../../tasks/index.js'
import { MODEL_KINDS } from './models.js'
import { buildKind } from '../../pipeline/build/index.js'

export function kindRegistry (kinds: readonly TaskKind[] = [...BASIC_KINDS, ...MODEL_KINDS, buildKind]): KindRegistry {
  return new Map(kinds.map(k => [k.name, k]))
}
