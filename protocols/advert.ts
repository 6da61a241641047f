/**
 * Capability advert: what a node tells the mesh about its hardware, published on the
 * versioned gossipsub topic ADVERT_TOPIC. Gossipsub signs every message (StrictSign) with the
 * publisher's key, so `from` is authentic; an advert whose `peerId` differs from the
 * signer is forged and rejected, as is anything that fails this schema or is oversized.
 */
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { GpuSchema, LabelSchema } from './common.js'
import { InvalidMessageError } from '../base/index.js'
import { parseJsonBytes } from './json.js'

export const ADVERT_TOPIC = '/gryphgen/adverts/1'
export const ADVERT_VERSION = 1
/** Adverts are a few hundred bytes; anything near this is an attack or a bug. */
export const ADVERT_MAX_BYTES = 8 * 1024

const Str = (max: number) => Type.String({ maxLength: max })
const Count = Type.Integer({ minimum: 0, maximum: 1_073_741_824 })

export const SandboxCapabilitySchema = Type.Object({
  available: Type.Boolean(),
  isolation: Str(32),
  limits: Type.Union([Type.Literal('cgroup2'), Type.Literal('cgroup1'), Type.Literal('rlimit'), Type.Literal('none')]),
  runtimes: Type.Array(Str(32), { maxItems: 32 }),
}, { additionalProperties: false })

export const ModelCapabilitySchema = Type.Object({
  name: Str(128),
  digest: Type.Optional(Str(80)),
  sizeMb: Type.Optional(Count),
  quantization: Type.Optional(Str(32)),
  contextLength: Type.Optional(Count),
  loaded: Type.Boolean(),
  promptTokensPerSecond: Type.Optional(Type.Number({ minimum: 0 })),
  generationTokensPerSecond: Type.Optional(Type.Number({ minimum: 0 })),
}, { additionalProperties: false })

export const CapabilitiesSchema = Type.Object({
  name: Str(64),
  version: Str(32),
  nodeVersion: Str(32),
  os: Type.Object({ platform: Str(32), distro: Str(64), release: Str(64) }, { additionalProperties: false }),
  cpu: Type.Object({
    model: Str(128),
    cores: Type.Integer({ minimum: 1, maximum: 65_536 }),
    physicalCores: Type.Integer({ minimum: 1, maximum: 65_536 }),
    speedGHz: Type.Number({ minimum: 0, maximum: 100 }),
    arch: Str(32),
  }, { additionalProperties: false }),
  memory: Type.Object({ totalMb: Count, availableMb: Count }, { additionalProperties: false }),
  gpus: Type.Array(GpuSchema, { maxItems: 64 }),
  diskFreeMb: Count,
  load: Type.Object({
    avg1: Type.Number({ minimum: 0, maximum: 1_000_000 }),
    cpuPercent: Type.Number({ minimum: 0, maximum: 100 }),
  }, { additionalProperties: false }),
  labels: Type.Array(LabelSchema, { maxItems: 32 }),
  sandbox: Type.Union([SandboxCapabilitySchema, Type.Null()]),
  models: Type.Array(ModelCapabilitySchema, { maxItems: 64 }),
}, { additionalProperties: false })

export const AdvertSchema = Type.Object({
  v: Type.Literal(ADVERT_VERSION),
  peerId: Type.String({ minLength: 1, maxLength: 128 }),
  /** Increases with every advert of this node; older or equal ones are replays. */
  seq: Type.Integer({ minimum: 0 }),
  /** Sender's wall clock (ms since epoch); receivers estimate clock skew from it. */
  sentAt: Type.Integer({ minimum: 0 }),
  /** Longest gap the sender promises before its next advert; receivers expire it after 3. */
  intervalMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
  addresses: Type.Array(Str(256), { maxItems: 16 }),
  capabilities: CapabilitiesSchema,
}, { additionalProperties: false })

export type Capabilities = Type.Static<typeof CapabilitiesSchema>
export type Advert = Type.Static<typeof AdvertSchema>
export type SandboxCapability = Type.Static<typeof SandboxCapabilitySchema>
export type ModelCapability = Type.Static<typeof ModelCapabilitySchema>

const checkAdvert = Compile(AdvertSchema)

export function encodeAdvert (advert: Advert): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(advert))
}

/**
 * Decode and validate an advert received from `fromPeerId` (the gossipsub signer).
 * Throws InvalidMessageError; never returns an unvalidated value.
 */
export function decodeAdvert (bytes: Uint8Array, fromPeerId: string): Advert {
  if (bytes.byteLength > ADVERT_MAX_BYTES) throw new InvalidMessageError(`advert of ${bytes.byteLength} bytes exceeds ${ADVERT_MAX_BYTES}`)
  const parsed = parseJsonBytes(bytes, 'advert')
  if (!checkAdvert.Check(parsed)) {
    const first = checkAdvert.Errors(parsed)[0]
    throw new InvalidMessageError(`advert fails schema at ${first?.instancePath ?? ''}: ${first?.message ?? 'invalid'}`)
  }
  if (parsed.peerId !== fromPeerId) throw new InvalidMessageError(`advert claims peer ${parsed.peerId} but was signed by ${fromPeerId}`)
  return parsed
}
