/**
 * Cooperative yielding for long indexing work on the event loop: `pause()` returns at once
 * until `sliceMs` of work has passed since the last yield, then lets the loop run (timers,
 * sockets, lease heartbeats) before going on. No I/O; only the loop's own setImmediate.
 */
export type Pause = () => Promise<void>

/** A pause that never yields: the work runs in one piece (the benchmark's baseline). */
export const NEVER_PAUSE: Pause = async () => {}

export function pauseEvery (sliceMs: number): Pause {
  if (!Number.isFinite(sliceMs)) return NEVER_PAUSE
  let last = performance.now()
  return async () => {
    if (performance.now() - last < sliceMs) return
    await new Promise<void>(resolve => { setImmediate(resolve) })
    last = performance.now()
  }
}
