/**
 * Hands the run's input files, the synthetic /etc files and the seccomp filter to bubblewrap
 * as open file descriptors, so that the command never sees a host path. Input files are
 * written to a root-only task folder that is removed as soon as they are open; names in it
 * are indices, so a submitted path never becomes a host path.
 * Opening is synchronous (local files, ~10 us each against ~60 us through the thread pool, six
 * or more on every run); writing the inputs, which may be large, is not.
 */
import { closeSync, openSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TASK_GROUP_PREFIX } from './cgroup.js'
import type { SandboxHost } from './host.js'
import type { ValidatedSpec } from './spec.js'
import { STDIO } from './supervise.js'

export interface PreparedInputs {
  /** fds to pass from `firstFd` onwards. */
  extraFds: number[]
  seccompFd: number
  /** The host's fd (not the child's) of /dev/null, to mask inherited fds with. */
  devNullFd: number
  etcFds: Map<string, number>
  fileFds: Array<{ path: string, fd: number }>
  /** Closes the host's copies of the fds (the child keeps its own). */
  close: () => void
}

/** `firstFd`: the child's fd of the first input (later when pipes come before the inputs). */
export async function prepareInputs (host: Pick<SandboxHost, 'seccompFile' | 'etcFiles'>, files: ValidatedSpec['files'], firstFd: number = STDIO.firstExtra): Promise<PreparedInputs> {
  const opened: number[] = []
  const extraFds: number[] = []
  const close = (): void => {
    for (const fd of opened.splice(0)) {
      try { closeSync(fd) } catch { /* already closed */ }
    }
  }
  const openFile = (path: string): number => {
    const fd = openSync(path, 'r')
    opened.push(fd)
    return fd
  }
  /** Opens a file and returns the fd number it will have in the child. */
  const pass = (path: string): number => firstFd + extraFds.push(openFile(path)) - 1
  let taskDir: string | null = null
  try {
    const devNullFd = openFile('/dev/null')
    const seccompFd = pass(host.seccompFile)
    const etcFds = new Map<string, number>()
    for (const [name, path] of host.etcFiles) etcFds.set(name, pass(path))
    const fileFds: Array<{ path: string, fd: number }> = []
    if (files.length > 0) taskDir = await mkdtemp(join(tmpdir(), TASK_GROUP_PREFIX))
    for (const [index, file] of files.entries()) {
      const path = join(taskDir ?? '', String(index))
      await writeFile(path, file.content, { mode: 0o600 })
      fileFds.push({ path: file.path, fd: pass(path) })
    }
    return { extraFds, seccompFd, devNullFd, etcFds, fileFds, close }
  } catch (err) {
    close()
    throw err
  } finally {
    if (taskDir !== null) await rm(taskDir, { recursive: true, force: true })
  }
}
