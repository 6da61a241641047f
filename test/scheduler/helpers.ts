import { emptyLoad, type NodeView, type PlacementTask } from '../../scheduler/index.js'

export const node = (over: Partial<NodeView> = {}): NodeView => ({
  id: 'n1', arch: 'x64', cpus: 8, memoryTotalMb: 16_384, memoryAvailableMb: 8_192, gpuVramMb: [],
  models: [], modelInfo: {}, labels: [], sandboxAvailable: true, runtimes: ['sh', 'python3', 'pytest', 'node'], speed: 1, load: emptyLoad(4), ...over,
})

export const task = (over: Partial<PlacementTask> = {}, req: Partial<PlacementTask['requirements']> = {}): PlacementTask => ({
  id: 't1', kind: 'exec', needsSandbox: true, priority: 5, submittedAt: 0, ...over,
  requirements: { cpus: 1, memoryMb: 512, gpu: null, ...over.requirements, ...req },
})
