/**
 * The mesh's models by name (pure): which nodes have each, where it is loaded, the fastest
 * measured generation speed. What GET /v1/models lists and what the API checks before it
 * places a model request (a name no live node has is a 404, not a task that waits forever).
 */
import type { ModelCapability } from '../../protocols/index.js'

export interface MeshModel {
  name: string
  /** Nodes that have it, this node first when it has it. */
  nodes: string[]
  loadedOn: string[]
  digests: string[]
  sizeMb?: number
  quantization?: string
  contextLength?: number
  generationTokensPerSecond?: number
}

export function meshModels (self: string, own: readonly ModelCapability[], peers: ReadonlyArray<{ peerId: string, models: readonly ModelCapability[] }>): MeshModel[] {
  const byName = new Map<string, MeshModel>()
  for (const { peerId, models } of [{ peerId: self, models: own }, ...peers]) {
    for (const m of models) {
      let entry = byName.get(m.name)
      if (entry === undefined) {
        entry = { name: m.name, nodes: [], loadedOn: [], digests: [], sizeMb: m.sizeMb, quantization: m.quantization, contextLength: m.contextLength }
        byName.set(m.name, entry)
      }
      if (!entry.nodes.includes(peerId)) entry.nodes.push(peerId)
      if (m.loaded && !entry.loadedOn.includes(peerId)) entry.loadedOn.push(peerId)
      if (m.digest !== undefined && !entry.digests.includes(m.digest)) entry.digests.push(m.digest)
      const speed = m.generationTokensPerSecond
      if (speed !== undefined && speed > (entry.generationTokensPerSecond ?? 0)) entry.generationTokensPerSecond = speed
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name))
}
