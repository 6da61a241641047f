/**
 * One error handler: every error becomes `{ error: { name, message, type } }` (`type` in
 * OpenAI's words, so OpenAI clients read our errors too; `code` and `param` when the error has them). Validation and
 * parsing problems are 400 with the validator's message; known typed errors map to their
 * status (with `details`, when the error lists problems); anything else is a 500 whose
 * internals stay in the log.
 */
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import { explainSchemaErrors, type SchemaErrorLike } from '../../protocols/index.js'

const STATUS_BY_NAME: Record<string, number> = {
  ValidationError: 400,
  InvalidMessageError: 400,
  UsageError: 400,
  ConfigError: 400,
  UnauthorizedError: 401,
  NotFoundError: 404,
  InvalidTaskError: 400,
  InvalidDigestError: 400,
  BlobNotFoundError: 404,
  BlobTooLargeError: 413,
  TooManyPinsError: 409,
  TaskConflictError: 409,
  ReplicationError: 503,
  TasksStoppedError: 503,
  InvalidRequestError: 400,
  ModelNotServedError: 404,
  ModelNotFoundError: 404,
  // A model request's task failed (ModelRequestError): its status comes from the worker's error.
  PromptTooLongError: 400,
  InfillNotSupportedError: 400,
  InvalidJsonSchemaError: 400,
  InvalidTaskDataError: 400,
  ModelTooLargeError: 503,
  TaskCancelledError: 409,
  ModelRunError: 502,
  CorpusNotFoundError: 404,
  InvalidCorpusNameError: 400,
  EmptyQueryError: 400,
  CorpusOptionsError: 400,
  InvalidDocumentsError: 400,
  IndexerFailedError: 503,
  InvalidCorpusError: 400,
  InvalidEmbeddingError: 502,
  EmbeddingFailedError: 502,
  InvalidVectorsError: 502,
  BodyTimeoutError: 408,
  ServerBusyError: 503,
}

const TYPE_BY_STATUS: Record<number, string> = { 400: 'invalid_request_error', 401: 'authentication_error', 404: 'not_found_error', 409: 'conflict_error', 413: 'invalid_request_error', 415: 'invalid_request_error' }
const typeOf = (status: number): string => TYPE_BY_STATUS[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error')

/** The error's name as clients see it: a failed model request shows the worker's error. */
function publicName (err: FastifyError): string {
  const name = err.name === 'ModelRequestError' ? (err as unknown as { errorName: string }).errorName : err.name
  return name === 'Error' ? 'BadRequestError' : name
}

const FASTIFY_CODES: Record<string, { status: number, name: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, name: 'InvalidJsonError' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, name: 'InvalidJsonError' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, name: 'BodyTooLargeError' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, name: 'UnsupportedMediaTypeError' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, name: 'InvalidContentLengthError' },
}

/** What a path parameter names, for a message about a malformed one. */
const PARAM_NOUNS: Record<string, string> = { id: 'task id', digest: 'blob digest (64 hex digits)', name: 'name' }

/** A validation failure in words: unknown fields named (with the likely intended one), a malformed path parameter named. */
function validationMessage (err: FastifyError & { validationContext?: string }, request: FastifyRequest): { message: string, details: string[] } {
  const context = err.validationContext ?? 'body'
  const errors = (err.validation ?? []) as SchemaErrorLike[]
  if (context === 'params') {
    const params = request.params as Record<string, unknown>
    const details = errors.map(e => {
      const name = e.instancePath.slice(1) || Object.keys(params)[0] || 'parameter'
      return `not a ${PARAM_NOUNS[name] ?? name}: ${JSON.stringify(params[name])}`
    })
    return { message: [...new Set(details)].join('; '), details: [...new Set(details)] }
  }
  const schema = (request.routeOptions.schema as Record<string, unknown> | undefined)?.[context]
  const details = explainSchemaErrors(errors, schema, context)
  return { message: details.join('; '), details }
}

export function installErrorHandling (app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err.validation !== undefined) {
      const { message, details } = validationMessage(err, request)
      return reply.code(400).send({ error: { name: 'ValidationError', message, type: typeOf(400), details } })
    }
    const known = err.code === undefined ? undefined : FASTIFY_CODES[err.code]
    if (known !== undefined) return reply.code(known.status).send({ error: { name: known.name, message: err.message, type: typeOf(known.status) } })
    const name = publicName(err)
    const status = STATUS_BY_NAME[name] ?? (err.name === 'ModelRequestError' ? 502 : undefined) ?? (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500)
    if (status >= 500 && STATUS_BY_NAME[name] === undefined && err.name !== 'ModelRequestError') {
      request.log.error({ err }, 'request failed')
      return reply.code(500).send({ error: { name: 'InternalError', message: 'internal error; see the node log', type: typeOf(500) } })
    }
    const { details, code, param } = err as { details?: unknown, code?: unknown, param?: unknown }
    const problems = Array.isArray(details) && details.every(d => typeof d === 'string') ? { details } : {}
    const openai = { ...(typeof code === 'string' ? { code } : {}), ...(typeof param === 'string' ? { param } : {}) }
    return reply.code(status).send({ error: { name, message: err.message, type: typeOf(status), ...openai, ...problems } })
  })
  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send({ error: { name: 'NotFoundError', message: `no route ${request.method} ${request.url.split('?')[0]}`, type: typeOf(404) } })
  })
}
