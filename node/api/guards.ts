/**
 * Request guards that protect the node from slow or heavy requests:
 * - A reply sent before the request's body was read whole (401 on headers, 413, 408, 503)
 *   closes the connection, so a client trickling a body it was refused holds no socket.
 *   Authentication runs in `onRequest`, on headers alone, before any body byte is read.
 * - A body that takes longer than `bodyReadTimeoutMs` to arrive ends in 408 (a timer from
 *   the start of the body read; Node's own requestTimeout is 300 s and checked every 30 s).
 * - Heavy routes (corpus uploads) run through a bounded queue: `heavyConcurrency` at once, up
 *   to `heavyQueue` waiting with their bodies unread; beyond that 503 with `retry-after`.
 */
import { PassThrough } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import PQueue from 'p-queue'
import { GryphgenError } from '../../base/index.js'

/** The request body did not arrive within the body-read timeout (408). */
export class BodyTimeoutError extends GryphgenError {}
/** Too many heavy requests are running or waiting; try again later (503). */
export class ServerBusyError extends GryphgenError {}

export interface ApiLimits {
  /** A request body must arrive whole within this (408 otherwise). */
  bodyReadTimeoutMs: number
  /** Body cap of `POST /v1/corpora/:name/documents` (413 above it). */
  documentsBodyMb: number
  /** Heavy requests (corpus uploads) handled at once. */
  heavyConcurrency: number
  /** Heavy requests that may wait for a turn (503 beyond). */
  heavyQueue: number
}

export const DEFAULT_API_LIMITS: ApiLimits = { bodyReadTimeoutMs: 10_000, documentsBodyMb: 16, heavyConcurrency: 1, heavyQueue: 8 }

export function installBodyGuards (app: FastifyInstance, limits: Pick<ApiLimits, 'bodyReadTimeoutMs'>): void {
  app.addHook('onSend', async (request, reply) => {
    if (!request.raw.complete) reply.header('connection', 'close')
  })
  app.addHook('preParsing', async (request, reply, payload) => {
    if (request.headers['content-length'] === undefined && request.headers['transfer-encoding'] === undefined) return payload
    // The whole body is already here (a small request arrives in one packet, parsed before this
    // hook): nothing left to time out, and no stream to interpose on the hot path.
    if (request.raw.complete) return payload
    const through = new PassThrough()
    through.on('error', () => {}) // the body parser reports it; nothing else may crash on it
    const timer = setTimeout(() => {
      payload.unpipe(through)
      through.destroy(Object.assign(new BodyTimeoutError(`the request body did not arrive within ${limits.bodyReadTimeoutMs} ms`), { statusCode: 408 }))
    }, limits.bodyReadTimeoutMs)
    const done = (): void => { clearTimeout(timer) }
    through.once('end', done).once('close', done)
    reply.raw.once('close', done)
    payload.once('error', err => { through.destroy(err) })
    return payload.pipe(through)
  })
}

/** A route hook pair that admits a heavy request once a slot is free (bounded queue; ServerBusyError when full). */
export function heavyRequestGate (limits: Pick<ApiLimits, 'heavyConcurrency' | 'heavyQueue'>): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const queue = new PQueue({ concurrency: limits.heavyConcurrency })
  return async (request, reply) => {
    if (queue.pending >= limits.heavyConcurrency && queue.size >= limits.heavyQueue) {
      void reply.header('retry-after', '5')
      throw new ServerBusyError(`${queue.pending} heavy requests running and ${queue.size} waiting; try again later`, { details: [`heavyConcurrency: ${limits.heavyConcurrency}`, `heavyQueue: ${limits.heavyQueue}`] })
    }
    await new Promise<void>((admitted, refused) => {
      // The slot is held until the response is over (or the client went away).
      queue.add(async () => new Promise<void>(release => {
        if (request.raw.destroyed) { release(); refused(new ServerBusyError('the client went away while waiting')); return }
        reply.raw.once('close', release)
        admitted()
      })).catch(refused)
    })
  }
}
