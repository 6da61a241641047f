/** The node's task kinds: the basic ones (noop, exec) and the model kinds (generate, analyze, embed). */
import { BASIC_KINDS, type KindRegistry, type TaskKind } from './kinds.js'
import { MODEL_KINDS } from './model-kinds.js'

export function kindRegistry (kinds: readonly TaskKind[] = [...BASIC_KINDS, ...MODEL_KINDS]): KindRegistry {
  return new Map(kinds.map(k => [k.name, k]))
}
