/**
 * Values that several wire formats (and the node's config) share: a GPU as a node declares or
 * advertises it, and a label. One definition each, so a label valid in a config file is valid
 * in an advert and in a task's requirements.
 */
import Type from 'typebox'

export const GpuSchema = Type.Object({
  vendor: Type.String({ minLength: 1, maxLength: 64 }),
  model: Type.String({ minLength: 1, maxLength: 128 }),
  vramMb: Type.Integer({ minimum: 0, maximum: 16_777_216 }),
}, { additionalProperties: false })

export const LabelSchema = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._:/=-]*$' })

export type Gpu = Type.Static<typeof GpuSchema>
