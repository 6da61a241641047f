/**
 * `POST /v1/models/fetch {name}`: fetch a model from the peers that hold it (docs/MODELS.md,
 * "Models that travel the mesh"). Answers at once, 202 with the fetch's progress (200 when the
 * model is already here); the fetch goes on in the node, its progress in `GET /v1/node`
 * (`modelFetches`). 404 (ModelNotFoundError) when no live peer advertises the name.
 */
import type { FastifyInstance } from 'fastify'
import Type from 'typebox'
import { ModelFetchView } from './schemas.js'

export type ModelFetchViewT = Type.Static<typeof ModelFetchView>

export interface ApiModelFetch {
  /** Starts (or joins) a fetch of `name`; `held`: the model was already in the store, nothing fetched. */
  request: (name: string) => Promise<{ fetch: ModelFetchViewT, held: boolean }>
}

const FetchRequest = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' }) }, { additionalProperties: false })

export function modelFetchRoutes (app: FastifyInstance, fetching: ApiModelFetch): void {
  app.post('/v1/models/fetch', { schema: { body: FetchRequest, response: { 200: ModelFetchView, 202: ModelFetchView } } }, async (request, reply) => {
    const { fetch, held } = await fetching.request((request.body as { name: string }).name)
    return reply.code(held ? 200 : 202).send(fetch)
  })
}
