/**
 * Which file a compiled process entry runs: its esbuild bundle (dist/bundle/, made by
 * scripts/bundle-dist.mjs) when there is one at least as new as the last tsc build
 * (`buildInfo`, absent in an installed package), else the plain entry. A bundle older than
 * the build would run stale code, so it is skipped. Two stats per call.
 */
import { statSync } from 'node:fs'

const mtime = (url: URL): number | undefined => statSync(url, { throwIfNoEntry: false })?.mtimeMs

export function preferBundle (entry: URL, bundle: URL, buildInfo: URL): URL {
  const bundled = mtime(bundle)
  if (bundled === undefined) return entry
  const built = mtime(buildInfo)
  return built === undefined || bundled >= built ? bundle : entry
}
