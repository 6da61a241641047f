/** Puts a built API on its socket: the port it got, and a port in use as a clear error. */
import type { FastifyInstance } from 'fastify'
import { AddressInUseError } from '../../base/index.js'

export async function listenApi (app: FastifyInstance, host: string, port: number): Promise<number> {
  try {
    await app.listen({ host, port })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new AddressInUseError(`API port ${host}:${port} is already in use (another gryphgen node? use --api-port)`, { cause: err })
    }
    throw err
  }
  const address = app.server.address()
  return typeof address === 'object' && address !== null ? address.port : port
}
