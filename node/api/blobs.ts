/**
 * Blob keeping routes: pin (`POST /v1/blobs/:digest/pin`, 200 once the pin is fsynced; a
 * blob not stored here is fetched from peers first, 404 when none has it), unpin (`DELETE`,
 * idempotent), the store's figures (`GET /v1/blobs`) and a collection now (`POST /v1/blobs/gc`).
 */
import type { FastifyInstance } from 'fastify'
import Type from 'typebox'
import { DIGEST_PATTERN } from '../../protocols/index.js'

export const PinBody = Type.Object({
  digest: Type.String(),
  pinned: Type.Boolean(),
  /** ISO time of the pin (pinned only). */
  pinnedAt: Type.Optional(Type.String()),
  size: Type.Optional(Type.Integer()),
})

export const BlobsStatusBody = Type.Object({
  storedBytes: Type.Integer({ description: 'as of the last collection, plus what was written since' }),
  storedBlobs: Type.Integer({ description: 'as of the last collection' }),
  maxBytes: Type.Integer(),
  pinned: Type.Integer(),
  overCap: Type.Boolean({ description: 'over the cap after the last collection: every blob left is pinned, kept or in use' }),
  gc: Type.Object({ runs: Type.Integer(), removed: Type.Integer(), removedBytes: Type.Integer(), lastRunAt: Type.Union([Type.String(), Type.Null()]) }),
})

export const CollectBody = Type.Object({ removed: Type.Integer(), removedBytes: Type.Integer(), storedBytes: Type.Integer(), overCap: Type.Boolean() })

export type PinBodyT = Type.Static<typeof PinBody>
export type BlobsStatusT = Type.Static<typeof BlobsStatusBody>
export type CollectBodyT = Type.Static<typeof CollectBody>

export interface ApiBlobs {
  pin: (digest: string, options: { signal: AbortSignal }) => Promise<PinBodyT>
  unpin: (digest: string, options: { signal: AbortSignal }) => Promise<PinBodyT>
  status: () => BlobsStatusT
  collect: (options: { signal: AbortSignal }) => Promise<CollectBodyT>
}

const DigestParams = Type.Object({ digest: Type.String({ pattern: DIGEST_PATTERN.source }) }, { additionalProperties: false })

export function blobRoutes (app: FastifyInstance, blobs: ApiBlobs): void {
  app.get('/v1/blobs', { schema: { response: { 200: BlobsStatusBody } } }, async () => blobs.status())

  app.post('/v1/blobs/gc', { schema: { response: { 200: CollectBody } } }, async () => blobs.collect({ signal: AbortSignal.timeout(300_000) }))

  app.post('/v1/blobs/:digest/pin', { schema: { params: DigestParams, response: { 200: PinBody } } }, async (request) => {
    return blobs.pin((request.params as { digest: string }).digest, { signal: AbortSignal.timeout(60_000) })
  })

  app.delete('/v1/blobs/:digest/pin', { schema: { params: DigestParams, response: { 200: PinBody } } }, async (request) => {
    return blobs.unpin((request.params as { digest: string }).digest, { signal: AbortSignal.timeout(10_000) })
  })
}
