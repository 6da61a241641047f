import type { Capabilities } from '../../protocols/advert.js'

/** A plausible capability set for tests of pure logic. */
export const caps: Capabilities = {
  name: 'n1', version: '0.1.0', nodeVersion: '20.20.2',
  os: { platform: 'linux', distro: 'Debian', release: '12' },
  cpu: { model: 'x', cores: 8, physicalCores: 4, speedGHz: 3, arch: 'x64' },
  memory: { totalMb: 16000, availableMb: 8000 },
  gpus: [{ vendor: 'nvidia', model: 'RTX 4090', vramMb: 24576 }],
  diskFreeMb: 100000,
  load: { avg1: 0.5, cpuPercent: 10 },
  labels: ['fast'],
  sandbox: null,
  models: [],
}
