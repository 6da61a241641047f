/**
 * ModelFetcher: get a GGUF model from the mesh into the local store.
 * - Holders come from the caller (`holders`: advert holders first, then kad-dht providers);
 *   each is asked at most once per try, in order. A holder that lies (bad chunk, other
 *   manifest, wrong size, stall) is dropped and the next one continues from the last verified
 *   chunk, so a source that dies or lies costs at most one chunk.
 * - Resumable: received chunks stay in the store's download dir (partial.ts); a later fetch of
 *   the same digest, in this process or after a restart, goes on from them.
 * - Verified and durable: the whole file's SHA-256 must be the model's digest and the file is
 *   fsynced before the store adds it (moved in, not copied, not hashed twice).
 * - Bounded: at most `maxConcurrent` models at once (more wait their turn), one fetch per
 *   digest (a second ask joins the first), files over `maxBytes` refused.
 * `progress()` lists the fetches of this process, running and recent (the last 16 finished).
 */
import type { PeerId } from '@libp2p/interface'
import type { Logger } from '../../base/index.js'
import { checkAborted } from '../errors.js'
import type { AddModelResult, ModelStore } from '../store/index.js'
import { fetchFromHolder, type ModelFetchMesh } from './client.js'
import { PartialModel } from './partial.js'
import { ModelFetchOptionsError, ModelUnavailableError } from './errors.js'

export interface ModelFetchComponents {
  mesh: ModelFetchMesh
  store: Pick<ModelStore, 'add' | 'downloadDir'>
  /** Peers that may hold the digest, best first (this node excluded). */
  holders: (digest: string, hints: readonly string[], signal: AbortSignal) => AsyncIterable<PeerId>
  logger: Logger
}

export interface ModelFetchInit {
  /** Largest model fetched (default 64 GiB). */
  maxBytes?: number
  /** Models fetched at once (default 2). */
  maxConcurrent?: number
  /** Longest wait for one frame from a holder before it counts as stalled (default 30 s). */
  idleMs?: number
}

export interface ModelFetchRequest {
  name: string
  digest: string
  /** The size the mesh advertised, when known. */
  bytes?: number
  /** Peer ids known to hold it (from adverts). */
  hints?: readonly string[]
}

export type FetchState = 'waiting' | 'fetching' | 'adding' | 'done' | 'failed'

export interface FetchProgress {
  name: string
  digest: string
  state: FetchState
  doneBytes: number
  totalBytes: number | null
  /** The holder being read now. */
  peer: string | null
  /** Bytes received per second in this process (resumed bytes not counted). */
  bytesPerSecond: number
  holdersRejected: number
  startedAt: string
  error?: { name: string, message: string }
}

const KEEP_FINISHED = 16

export class ModelFetcher {
  readonly #c: ModelFetchComponents
  readonly #init: Required<ModelFetchInit>
  readonly #running = new Map<string, Promise<AddModelResult>>()
  readonly #progress = new Map<string, FetchProgress>()
  readonly #waiting: Array<() => void> = []
  #active = 0

  constructor (components: ModelFetchComponents, init: ModelFetchInit = {}) {
    this.#c = components
    const options = { maxBytes: 64 * 1024 ** 3, maxConcurrent: 2, idleMs: 30_000, ...init }
    const problems = Object.entries(options).filter(([, v]) => !Number.isSafeInteger(v) || v < 1).map(([k, v]) => `${k} must be an integer >= 1, not ${String(v)}`)
    if (problems.length > 0) throw new ModelFetchOptionsError(`invalid model fetch options: ${problems.join('; ')}`, { details: problems })
    this.#init = Object.freeze(options)
  }

  progress (): FetchProgress[] { return [...this.#progress.values()].map(p => ({ ...p })) }

  /** Fetches and adds the model; a fetch of the same digest already running is joined. */
  async fetch (request: ModelFetchRequest, options: { signal: AbortSignal }): Promise<AddModelResult> {
    let running = this.#running.get(request.digest)
    if (running === undefined) {
      running = this.#run(request, options.signal).finally(() => this.#running.delete(request.digest))
      this.#running.set(request.digest, running)
    }
    return running
  }

  async #run (request: ModelFetchRequest, signal: AbortSignal): Promise<AddModelResult> {
    this.#progress.delete(request.digest)
    const progress: FetchProgress = {
      name: request.name, digest: request.digest, state: 'waiting', doneBytes: 0, totalBytes: request.bytes ?? null,
      peer: null, bytesPerSecond: 0, holdersRejected: 0, startedAt: new Date().toISOString(),
    }
    this.#progress.set(request.digest, progress)
    try {
      await this.#turn(signal)
      try {
        return await this.#fetch(request, progress, signal)
      } finally {
        this.#active--
        this.#waiting[0]?.()
      }
    } catch (err) {
      progress.state = 'failed'
      progress.error = { name: (err as Error).name, message: (err as Error).message }
      throw err
    } finally {
      progress.peer = null
      this.#forgetOld()
    }
  }

  async #fetch (request: ModelFetchRequest, progress: FetchProgress, signal: AbortSignal): Promise<AddModelResult> {
    progress.state = 'fetching'
    const partial = await PartialModel.open(this.#c.store.downloadDir, request.digest, signal)
    const resumedBytes = partial.doneBytes
    const started = Date.now()
    progress.doneBytes = partial.doneBytes
    let asked = 0
    try {
      for await (const peer of this.#c.holders(request.digest, request.hints ?? [], signal)) {
        if (partial.complete) break
        checkAborted(signal, 'model fetch')
        asked++
        progress.peer = peer.toString()
        try {
          const outcome = await fetchFromHolder(this.#c.mesh, peer, partial, {
            maxBytes: this.#init.maxBytes, expectedBytes: request.bytes, idleMs: this.#init.idleMs, signal,
            onChunk: (done, total) => {
              progress.doneBytes = done
              progress.totalBytes = total
              progress.bytesPerSecond = Math.round((done - resumedBytes) / Math.max(0.001, (Date.now() - started) / 1000))
            },
          })
          if (outcome !== 'done') this.#c.logger.debug({ digest: request.digest, peer: peer.toString(), outcome }, 'holder had nothing to give')
        } catch (err) {
          checkAborted(signal, 'model fetch')
          const name = (err as Error).name
          if (name === 'ModelFetchTooLargeError') throw err
          if (name === 'ModelHolderError') progress.holdersRejected++
          this.#c.logger.warn({ digest: request.digest, peer: peer.toString(), err: (err as Error).message, doneBytes: partial.doneBytes }, 'model fetch from holder failed; trying another')
        }
      }
      if (!partial.complete) {
        throw new ModelUnavailableError(`no holder asked (${asked}) served model ${request.name} (${request.digest}) whole; ${partial.doneBytes} bytes kept for the next try`, { details: { digest: request.digest, asked, doneBytes: partial.doneBytes } })
      }
      progress.state = 'adding'
      progress.peer = null
      const path = await partial.finish()
      const result = await this.#c.store.add(path, { name: request.name, move: true, verifiedDigest: request.digest, signal })
      await partial.discard()
      progress.state = 'done'
      this.#c.logger.info({ name: request.name, digest: request.digest, bytes: partial.doneBytes, seconds: (Date.now() - started) / 1000 }, 'model fetched from the mesh')
      return result
    } finally {
      await partial.close()
    }
  }

  async #turn (signal: AbortSignal): Promise<void> {
    while (this.#active >= this.#init.maxConcurrent) {
      checkAborted(signal, 'model fetch')
      await new Promise<void>(resolve => {
        const wake = (): void => {
          signal.removeEventListener('abort', wake)
          const at = this.#waiting.indexOf(wake)
          if (at >= 0) this.#waiting.splice(at, 1)
          resolve()
        }
        signal.addEventListener('abort', wake, { once: true })
        this.#waiting.push(wake)
      })
    }
    checkAborted(signal, 'model fetch')
    this.#active++
  }

  #forgetOld (): void {
    const finished = [...this.#progress.values()].filter(p => p.state === 'done' || p.state === 'failed')
    for (const p of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.#progress.delete(p.digest)
  }
}
