/**
 * `gryphgen setup --gpu cpu|cuda|vulkan`: adds one of node-llama-cpp's prebuilt llama.cpp
 * binaries to this installation. node-llama-cpp lists every platform's and GPU's binaries as
 * optional dependencies (CUDA alone is ~360 MB); a machine installed with
 * `npm install -g --omit=optional` has none, and gets exactly the one it can use here.
 * The package is the version node-llama-cpp itself pins, fetched with `npm pack` (npm's own
 * cache and registry settings) and unpacked where node-llama-cpp looks for it: the
 * @node-llama-cpp/ folder beside it. The binary packages have no dependencies of their own.
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { UsageError } from '../../base/index.js'

export const GPU_BACKENDS = ['cpu', 'cuda', 'vulkan'] as const
export type GpuBackend = typeof GPU_BACKENDS[number]

/** The binary package node-llama-cpp loads for a backend on a platform, or null when it ships none. */
export function backendPackage (gpu: GpuBackend, platform: NodeJS.Platform, arch: string): string | null {
  const os = platform === 'darwin' ? 'mac' : platform === 'win32' ? 'win' : platform === 'linux' ? 'linux' : null
  if (os === null) return null
  if (gpu === 'cpu') return `@node-llama-cpp/${os}-${arch}${os === 'mac' && arch === 'arm64' ? '-metal' : ''}`
  if (os === 'mac' || arch !== 'x64') return null
  return `@node-llama-cpp/${os}-${arch}-${gpu}`
}

/** node-llama-cpp's package folder in this installation. */
export function llamaPackageDir (): string {
  const entry = fileURLToPath(import.meta.resolve('node-llama-cpp'))
  const marker = `${sep}node_modules${sep}node-llama-cpp${sep}`
  const at = entry.lastIndexOf(marker)
  if (at < 0) throw new UsageError(`cannot find node-llama-cpp's folder from ${entry}`)
  return entry.slice(0, at + marker.length - 1)
}

export interface BackendInstall { gpu: GpuBackend, name: string, version: string, dir: string }

export async function installBackend (gpu: GpuBackend, options: { signal?: AbortSignal } = {}): Promise<BackendInstall> {
  const name = backendPackage(gpu, process.platform, process.arch)
  if (name === null) throw new UsageError(`node-llama-cpp ships no ${gpu} binaries for ${process.platform}-${process.arch}`)
  const llama = llamaPackageDir()
  const manifest = JSON.parse(await readFile(join(llama, 'package.json'), 'utf8')) as { optionalDependencies?: Record<string, string> }
  const version = manifest.optionalDependencies?.[name]
  if (version === undefined) throw new UsageError(`node-llama-cpp does not list ${name}`)
  const dir = join(dirname(llama), ...name.split('/'))
  const scratch = await mkdtemp(join(tmpdir(), 'gryphgen-setup-'))
  try {
    const run = promisify(execFile)
    const { stdout } = await run('npm', ['pack', `${name}@${version}`, '--pack-destination', scratch, '--json', '--silent'], { signal: options.signal, maxBuffer: 16 << 20 })
    const [packed] = JSON.parse(stdout) as Array<{ filename: string }>
    await rm(dir, { recursive: true, force: true })
    await mkdir(dir, { recursive: true }) // readable by a service account, like the rest of the install
    await run('tar', ['-xzf', join(scratch, packed.filename), '-C', dir, '--strip-components=1'], { signal: options.signal })
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
  return { gpu, name, version, dir }
}

/**
 * Removes every other @node-llama-cpp binary package of this installation (other platforms,
 * other GPUs; the CPU one stays as llama.cpp's fallback): what a plain `npm install -g` brought, as npm applies no --omit to a global
 * install of a tarball (npm/cli#8284). Returns the names removed.
 */
export async function pruneBackends (keep: readonly string[]): Promise<string[]> {
  const scope = join(dirname(llamaPackageDir()), '@node-llama-cpp')
  const names = await readdir(scope).catch(() => [])
  const drop = names.map(n => `@node-llama-cpp/${n}`).filter(n => !keep.includes(n))
  for (const name of drop) await rm(join(dirname(scope), ...name.split('/')), { recursive: true, force: true })
  return drop
}
