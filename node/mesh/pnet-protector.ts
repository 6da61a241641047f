/**
 * libp2p's pnet connection protector (`@libp2p/pnet` 3.0's `preSharedKey`) with its cipher made
 * pluggable: the same wire protocol (each side sends a random 24-byte nonce, then every byte in
 * each direction is XORed with XSalsa20(swarm key, sender's nonce)), so it interoperates with
 * upstream pnet peers, but the keystream comes from pnet-cipher.ts (libsodium when it loads).
 * Inbound bytes are decrypted in place: the socket hands each chunk to this stream only.
 * Outbound bytes go to a fresh buffer: the caller may still own what it sent.
 */
import { AbstractMultiaddrConnection, byteStream } from '@libp2p/utils'
import type { AbortOptions, ConnectionProtector, Logger as Libp2pLogger, MultiaddrConnection, MessageStream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import type { Logger } from '../../base/index.js'
import type { SwarmKeyHex } from '../datadir/swarm-key.js'
import { pnetStreamXor, type StreamXor, type StreamXorFactory } from './pnet-cipher.js'

const NONCE_LENGTH = 24
/** pnet's own default for the nonce exchange when libp2p passes no signal. */
const DEFAULT_TIMEOUT_MS = 1000

export interface PnetInit {
  swarmKey: SwarmKeyHex
  /** Warns once when the native cipher cannot load. */
  log?: Logger
  /** For tests: the cipher to use instead of the best available. */
  streamXor?: StreamXorFactory
}

interface BoxInit {
  maConn: MultiaddrConnection
  inbound: StreamXor
  outbound: StreamXor
  log: Libp2pLogger
}

class BoxedConnection extends AbstractMultiaddrConnection {
  readonly #maConn: MultiaddrConnection
  readonly #outbound: StreamXor

  constructor (init: BoxInit) {
    super({ log: init.log, remoteAddr: init.maConn.remoteAddr, direction: init.maConn.direction })
    this.#maConn = init.maConn
    this.#outbound = init.outbound
    const inbound = init.inbound
    const decrypt = (chunk: Uint8Array): void => {
      inbound.update(chunk, chunk)
      this.onData(chunk)
    }
    init.maConn.addEventListener('message', (evt) => {
      const data: Uint8Array | Uint8ArrayList = evt.data
      if (data instanceof Uint8Array) decrypt(data)
      else for (const chunk of data) decrypt(chunk)
    })
    init.maConn.addEventListener('drain', () => { this.onMuxerDrain() })
    let finalized = false
    init.maConn.addEventListener('close', (evt) => {
      // Once only: the WASM fallback frees its slot on final, and a second free would hand
      // one slot to two later ciphers.
      if (!finalized) {
        finalized = true
        inbound.final()
        init.outbound.final()
      }
      if (evt.error == null) this.onTransportClosed()
      else if (evt.local) this.abort(evt.error)
      else this.onRemoteReset()
    })
  }

  async sendClose (options?: AbortOptions): Promise<void> {
    await this.#maConn.close(options)
  }

  sendData (data: Uint8ArrayList): { sentBytes: number, canSendMore: boolean } {
    // Each piece is enciphered straight into its place in one buffer (no joined copy first).
    const boxed = Buffer.allocUnsafe(data.byteLength)
    let at = 0
    for (const piece of data) {
      this.#outbound.update(piece, boxed.subarray(at, at + piece.byteLength))
      at += piece.byteLength
    }
    return { sentBytes: boxed.byteLength, canSendMore: this.#maConn.send(boxed) }
  }

  sendReset (err: Error): void { this.#maConn.abort(err) }
  sendPause (): void { this.#maConn.pause() }
  sendResume (): void { this.#maConn.resume() }
}

/** A drop-in for `preSharedKey({ psk })` from `@libp2p/pnet`. */
export function pnetProtector (init: PnetInit): () => ConnectionProtector {
  const key = Buffer.from(init.swarmKey, 'hex')
  return () => {
    const streamXor = init.streamXor ?? pnetStreamXor(init.log).factory
    return {
      async protect (connection: MessageStream, options?: AbortOptions): Promise<MessageStream> {
        const log = connection.log.newScope('pnet')
        const signal = options?.signal ?? AbortSignal.timeout(DEFAULT_TIMEOUT_MS)
        const localNonce = crypto.getRandomValues(new Uint8Array(NONCE_LENGTH))
        const bytes = byteStream(connection as MultiaddrConnection)
        const [remote] = await Promise.all([
          bytes.read({ bytes: NONCE_LENGTH, signal }),
          bytes.write(localNonce, { signal }),
        ])
        log('exchanged nonces')
        return new BoxedConnection({
          maConn: bytes.unwrap(),
          inbound: streamXor(remote.subarray(), key),
          outbound: streamXor(localNonce, key),
          log,
        })
      },
    }
  }
}
