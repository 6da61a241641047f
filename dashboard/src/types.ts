/** The shapes of the API answers the dashboard reads (node/api/schemas.ts, protocols/task.ts). */
export interface ModelCap { name: string, loaded: boolean, generationTokensPerSecond?: number, promptTokensPerSecond?: number, sizeMb?: number, quantization?: string }
export interface Capabilities {
  name: string
  version: string
  cpu: { model: string, cores: number, physicalCores: number, speedGHz: number, arch: string }
  memory: { totalMb: number, availableMb: number }
  gpus: Array<{ vendor?: string, model?: string, vramMb?: number }>
  diskFreeMb: number
  load: { avg1: number, cpuPercent: number }
  labels: string[]
  sandbox: { available: boolean, isolation?: string, runtimes?: string[] } | null
  models: ModelCap[]
}
export interface NodeInfo { peerId: string, name: string, addresses: string[], capabilities: Capabilities, tasks: { queued: number, running: number } }
export interface Peer { peerId: string, addresses: string[], capabilities: Capabilities, lastSeen: string, clockSkewMs: number, connected: boolean }
export interface Attempt { attempt: number, node: string, awardedAt: string, startedAt?: string, endedAt?: string, outcome?: string, error?: string }
export interface Checkpoint { step: number, attempt: number, node: string, at: string, basedOn: number | null, files: Record<string, { digest: string, size: number }>, summary: Record<string, unknown> }
export interface Task {
  id: string
  kind: string
  state: string
  priority: number
  submittedAt: string
  updatedAt: string
  auctioneer: string
  requirements: Record<string, unknown>
  attempts: Attempt[]
  result?: Record<string, unknown>
  error?: string
  checkpoints?: Checkpoint[]
  feedback?: Array<{ verdict: string, note?: string, node: string, at: string }>
  blocked?: { verdict: 'wait' | 'impossible', nodes: number, at: string, reasons: Array<{ check: string, fit: string, reason: string, nodes: number }> }
}
export interface HistoryEntry { id: string, author: string, seq: number, hlc: { wall: number }, type: string, body: Record<string, unknown> }
export interface StatsHistory {
  intervalMs: number
  samples: Array<{ at: number, transitions: Record<string, number>, nodes: Array<{ peerId: string, name: string, cpuPercent: number, queued: number, running: number }> }>
}
export const TERMINAL = ['succeeded', 'failed', 'cancelled']
export const STATES = ['pending', 'awarded', 'running', 'succeeded', 'failed', 'cancelled']
