/**
 * The node's current capabilities: static facts measured once, dynamic ones re-probed on
 * demand, declared parts (labels, resources, sandbox, models) settable at run time.
 */
import type { Capabilities, ModelCapability, SandboxCapability } from '../../protocols/index.js'
import type { DeclaredResources } from '../config/schema.js'
import { buildCapabilities, type Declared } from './capabilities.js'
import { CpuMeter, probeDynamic, probeStatic, type StaticFacts } from './probe.js'

export interface CapabilitySourceInit {
  dataDir: string
  name: string
  version: string
  labels: readonly string[]
  resources: Readonly<DeclaredResources>
}

export class CapabilitySource {
  readonly #dataDir: string
  readonly #cpu = new CpuMeter()
  #declared: Declared
  #static: StaticFacts
  #last: Capabilities | undefined

  private constructor (init: CapabilitySourceInit, facts: StaticFacts) {
    this.#dataDir = init.dataDir
    this.#static = facts
    this.#declared = { name: init.name, version: init.version, labels: [...init.labels], resources: init.resources, sandbox: null, models: [] }
  }

  /** `facts`: the static facts when the caller has them (the host cache); else measured now. */
  static async create (init: CapabilitySourceInit, facts?: StaticFacts): Promise<CapabilitySource> {
    return new CapabilitySource(init, facts ?? await probeStatic())
  }

  /** The facts measured once at start (cores, memory, GPUs), without probing anything. */
  get machine (): Readonly<StaticFacts> { return this.#static }

  /** Measure the dynamic parts now and return the full capabilities. */
  async refresh (): Promise<Capabilities> {
    this.#last = buildCapabilities(this.#static, await probeDynamic(this.#dataDir, this.#cpu), this.#declared)
    return this.#last
  }

  /** The last measured capabilities (refreshes once if none yet). */
  async current (): Promise<Capabilities> {
    return this.#last ?? await this.refresh()
  }

  setLabels (labels: readonly string[]): void {
    this.#declared = { ...this.#declared, labels: [...labels] }
    this.#last = undefined
  }

  setSandbox (sandbox: SandboxCapability | null): void {
    this.#declared = { ...this.#declared, sandbox }
    this.#last = undefined
  }

  setModels (models: readonly ModelCapability[]): void {
    this.#declared = { ...this.#declared, models: [...models] }
    this.#last = undefined
  }
}
