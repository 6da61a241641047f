/** Temp dirs for model files (removed after each file's tests), and the thread count llama.cpp may use. */
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import si from 'systeminformation'

const dirs: string[] = []

export async function modelTempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gryphgen-models-'))
  dirs.push(dir)
  return dir
}

export async function removeModelTempDirs (): Promise<void> {
  await Promise.all(dirs.splice(0).map(async d => rm(d, { recursive: true, force: true })))
}

/** Physical cores: more llama.cpp threads than that makes its spinning thread pool collapse. */
export async function physicalCores (): Promise<number> {
  const cpu = await si.cpu()
  return Math.max(1, Math.min(cpu.physicalCores || availableParallelism(), availableParallelism()))
}
