/**
 * One error handler: every error becomes `{ error: { name, message } }`. Validation and
 * parsing problems are 400 with the validator's message; known typed errors map to their
 * status (with `details`, when the error lists problems); anything else is a 500 whose
 * internals stay in the log.
 */
import type { FastifyError, FastifyInstance } from 'fastify'

const STATUS_BY_NAME: Record<string, number> = {
  ValidationError: 400,
  InvalidMessageError: 400,
  ConfigError: 400,
  UnauthorizedError: 401,
  NotFoundError: 404,
  InvalidTaskError: 400,
  InvalidDigestError: 400,
  BlobNotFoundError: 404,
  BlobTooLargeError: 413,
  TaskConflictError: 409,
  ReplicationError: 503,
  TasksStoppedError: 503,
}

const FASTIFY_CODES: Record<string, { status: number, name: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, name: 'InvalidJsonError' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, name: 'InvalidJsonError' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, name: 'BodyTooLargeError' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, name: 'UnsupportedMediaTypeError' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, name: 'InvalidContentLengthError' },
}

export function installErrorHandling (app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err.validation !== undefined) {
      return reply.code(400).send({ error: { name: 'ValidationError', message: err.message } })
    }
    const known = err.code === undefined ? undefined : FASTIFY_CODES[err.code]
    if (known !== undefined) return reply.code(known.status).send({ error: { name: known.name, message: err.message } })
    const status = STATUS_BY_NAME[err.name] ?? (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500)
    if (status >= 500 && STATUS_BY_NAME[err.name] === undefined) {
      request.log.error({ err }, 'request failed')
      return reply.code(500).send({ error: { name: 'InternalError', message: 'internal error; see the node log' } })
    }
    const details = (err as { details?: unknown }).details
    const problems = Array.isArray(details) && details.every(d => typeof d === 'string') ? { details } : {}
    return reply.code(status).send({ error: { name: err.name === 'Error' ? 'BadRequestError' : err.name, message: err.message, ...problems } })
  })
  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send({ error: { name: 'NotFoundError', message: `no route ${request.method} ${request.url.split('?')[0]}` } })
  })
}
