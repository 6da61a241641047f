/**
 * Hardware probe. Static facts (CPU, OS, GPUs) are measured once with systeminformation and
 * cached; dynamic ones (available memory, load, disk free) use only cheap calls: si.mem(),
 * os.loadavg(), CPU time deltas from os.cpus(), and statfs on the data dir.
 */
import os from 'node:os'
import { statfs } from 'node:fs/promises'
import si from 'systeminformation'
import type { Gpu } from '../config/schema.js'

export interface StaticFacts {
  cpu: { model: string, cores: number, physicalCores: number, speedGHz: number, arch: string }
  os: { platform: string, distro: string, release: string }
  memoryTotalMb: number
  gpus: Gpu[]
}

export interface DynamicFacts {
  memoryAvailableMb: number
  diskFreeMb: number
  load: { avg1: number, cpuPercent: number }
}

const MB = 1024 * 1024
const clip = (s: string | undefined, max: number): string => (s ?? '').slice(0, max)

export async function probeStatic (): Promise<StaticFacts> {
  const [cpu, osInfo, graphics] = await Promise.all([
    si.cpu(),
    si.osInfo(),
    si.graphics().catch(() => ({ controllers: [] as si.Systeminformation.GraphicsControllerData[] })),
  ])
  const cores = Math.max(1, cpu.cores || os.availableParallelism())
  return {
    cpu: {
      model: clip(`${cpu.manufacturer} ${cpu.brand}`.trim() || os.cpus()[0]?.model, 128),
      cores,
      physicalCores: Math.max(1, Math.min(cores, cpu.physicalCores || cores)),
      speedGHz: Number.isFinite(cpu.speed) ? Math.min(100, Math.max(0, cpu.speed)) : 0,
      arch: clip(os.arch(), 32),
    },
    os: { platform: clip(osInfo.platform, 32), distro: clip(osInfo.distro, 64), release: clip(osInfo.release, 64) },
    memoryTotalMb: Math.round(os.totalmem() / MB),
    gpus: graphics.controllers
      .filter(c => (c.vram ?? 0) > 0 || /nvidia|amd|advanced micro|intel arc/i.test(c.vendor))
      .slice(0, 64)
      .map(c => ({ vendor: clip(c.vendor || 'unknown', 64), model: clip(c.model || 'unknown', 128), vramMb: Math.max(0, Math.round(c.vram ?? 0)) })),
  }
}

/** CPU busy share since the previous call, from kernel CPU time counters (no process spawn). */
export class CpuMeter {
  #last = CpuMeter.#sample()
  static #sample (): { busy: number, total: number } {
    let busy = 0
    let total = 0
    for (const c of os.cpus()) {
      const t = c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle
      total += t
      busy += t - c.times.idle
    }
    return { busy, total }
  }

  percent (): number {
    const now = CpuMeter.#sample()
    const dTotal = now.total - this.#last.total
    const dBusy = now.busy - this.#last.busy
    this.#last = now
    return dTotal <= 0 ? 0 : Math.min(100, Math.max(0, Math.round((dBusy / dTotal) * 1000) / 10))
  }
}

export async function probeDynamic (dataDir: string, cpuMeter: CpuMeter): Promise<DynamicFacts> {
  const [mem, disk] = await Promise.all([si.mem(), statfs(dataDir).catch(() => undefined)])
  return {
    memoryAvailableMb: Math.round((mem.available ?? os.freemem()) / MB),
    diskFreeMb: disk === undefined ? 0 : Math.round((disk.bavail * disk.bsize) / MB),
    load: { avg1: Math.round(os.loadavg()[0] * 100) / 100, cpuPercent: cpuMeter.percent() },
  }
}
