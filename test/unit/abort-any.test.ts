import { getEventListeners } from 'node:events'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, test } from 'vitest'
import { abortAnyLeaks, abortSignalAny } from '../../base/abort-any.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
/** Full collections with turns in between, so finalizers run. */
async function collect (): Promise<void> {
  for (let i = 0; i < 6; i++) { gc(); await new Promise(resolve => setTimeout(resolve, 20)) }
}

describe('AbortSignal.any without Node 20\'s leak (base/abort-any.ts)', () => {
  test('aborts with the first source\'s reason, at once if a source already has', async () => {
    const a = new AbortController()
    const b = new AbortController()
    const any = abortSignalAny([a.signal, b.signal])
    expect(any.aborted).toBe(false)
    b.abort(new Error('b went'))
    expect(any.aborted).toBe(true)
    expect((any.reason as Error).message).toBe('b went')
    a.abort(new Error('a went later'))
    expect((any.reason as Error).message).toBe('b went')
    expect(abortSignalAny([new AbortController().signal, AbortSignal.abort('already')]).reason).toBe('already')
    const timed = abortSignalAny([new AbortController().signal, AbortSignal.timeout(1)])
    await new Promise(resolve => timed.addEventListener('abort', resolve, { once: true }))
    expect((timed.reason as Error).name).toBe('TimeoutError')
  })

  test('a source keeps one listener, whatever the results derived from it', async () => {
    const long = new AbortController()
    const done = abortSignalAny([long.signal, AbortSignal.abort()])
    expect(done.aborted).toBe(true)
    const short = new AbortController()
    abortSignalAny([long.signal, short.signal])
    short.abort()
    for (let i = 0; i < 1000; i++) abortSignalAny([long.signal, AbortSignal.timeout(60_000)])
    await collect()
    expect(getEventListeners(long.signal, 'abort').length).toBe(1)
  })

  test('a long-lived source does not grow the heap, however many results are derived from it', async () => {
    const long = new AbortController()
    await collect()
    const before = process.memoryUsage().heapUsed
    // Node 20's own AbortSignal.any keeps ~56 bytes per call here: ~5.6 MB for these.
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 20_000; i++) abortSignalAny([long.signal, new AbortController().signal])
      await collect()
    }
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(2 * 2 ** 20)
  })

  test('a result used as a source of other results is not kept alive by that (nested any)', async () => {
    const long = new AbortController()
    const rounds = async (n: number): Promise<void> => {
      for (let round = 0; round < n; round++) {
        for (let i = 0; i < 20_000; i++) abortSignalAny([abortSignalAny([long.signal, new AbortController().signal]), new AbortController().signal])
        await collect()
      }
    }
    // Warm-up first (the heap settles ~3 MB up, whatever the count), then it must stay put:
    // when the inner results were kept, each round of 20,000 kept ~11 MB.
    await rounds(3)
    const before = process.memoryUsage().heapUsed
    await rounds(4)
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(2 ** 20)
  })

  test('a result someone listens to stays alive until its source aborts', async () => {
    const long = new AbortController()
    let heard = 0
    abortSignalAny([long.signal]).addEventListener('abort', () => { heard++ })
    await collect()
    long.abort()
    expect(heard).toBe(1)
  })

  test('installed in place of AbortSignal.any on Node before 22 (the test setup loads base/polyfill.ts)', () => {
    expect(abortAnyLeaks('20.20.2')).toBe(true)
    expect(abortAnyLeaks('22.12.0')).toBe(false)
    if (abortAnyLeaks()) expect(AbortSignal.any).toBe(abortSignalAny)
  })
})
