/**
 * `gryphgen service install|uninstall`: writes or removes the systemd unit. It never enables or
 * starts anything: it prints the systemctl commands instead. As root (a system unit) it creates
 * the dedicated service account and its data dir when they are missing; `--print` writes nothing.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { UsageError, ensureDir, writeFileDurable } from '../../base/index.js'
import { DEFAULT_SERVICE_USER, DEFAULT_SYSTEM_DATA_DIR, UNIT_NAME, enableHint, serviceUnit } from './unit.js'

export interface ServiceOptions {
  user?: boolean
  dataDir?: string
  /** Where the unit goes (default /etc/systemd/system, or ~/.config/systemd/user with --user). */
  unitDir?: string
  serviceUser?: string
  print?: boolean
  signal?: AbortSignal
}

export interface ServicePlan { unitPath: string, unit: string, dataDir: string, serviceUser?: string, hint: string }

/** bin/gryphgen.js of this installation (from node/service/ in the source tree or dist/node/service/). */
export function binPath (): string {
  for (const rel of ['../../bin/gryphgen.js', '../../../bin/gryphgen.js']) {
    const path = fileURLToPath(new URL(rel, import.meta.url))
    if (existsSync(path)) return path
  }
  throw new UsageError('cannot find bin/gryphgen.js next to this installation')
}

export function planService (options: ServiceOptions, env: Record<string, string | undefined> = process.env): ServicePlan {
  const user = options.user === true
  if (!user && process.getuid?.() !== 0 && options.unitDir === undefined && options.print !== true) {
    throw new UsageError('a system unit needs root: run it with sudo, or install a unit for yourself with --user')
  }
  if (user && options.serviceUser !== undefined) throw new UsageError('--service-user is for system units; a --user unit runs as you')
  const serviceUser = user ? undefined : (options.serviceUser ?? DEFAULT_SERVICE_USER)
  const dataDir = options.dataDir ?? (user ? (env.GRYPHGEN_DATA_DIR ?? join(homedir(), '.gryphgen')) : DEFAULT_SYSTEM_DATA_DIR)
  if (!dataDir.startsWith('/')) throw new UsageError(`--data-dir: a service needs an absolute path, got ${JSON.stringify(dataDir)}`)
  const unitDir = options.unitDir ?? (user ? join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'systemd', 'user') : '/etc/systemd/system')
  const unit = serviceUnit({ node: process.execPath, bin: binPath(), dataDir, serviceUser })
  return { unitPath: join(unitDir, UNIT_NAME), unit, dataDir, serviceUser, hint: enableHint(user) }
}

async function accountExists (name: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await promisify(execFile)('id', ['-u', name], { signal })
    return true
  } catch {
    return false
  }
}

/** Writes the unit (and, for a system unit run as root, the account and data dir it needs). */
export async function installService (options: ServiceOptions): Promise<ServicePlan> {
  const plan = planService(options)
  if (options.print === true) return plan
  if (plan.serviceUser !== undefined && process.getuid?.() === 0) {
    if (!await accountExists(plan.serviceUser, options.signal)) {
      await promisify(execFile)('useradd', ['--system', '--user-group', '--home-dir', plan.dataDir, '--shell', '/usr/sbin/nologin', plan.serviceUser], { signal: options.signal })
    }
    await ensureDir(plan.dataDir)
    await promisify(execFile)('chown', [`${plan.serviceUser}:${plan.serviceUser}`, plan.dataDir], { signal: options.signal })
  }
  await mkdir(join(plan.unitPath, '..'), { recursive: true })
  await writeFileDurable(plan.unitPath, plan.unit, 0o644)
  return plan
}

/** Removes the unit; the data dir and the account stay (they hold the node's identity and ledger). */
export async function uninstallService (options: ServiceOptions): Promise<{ unitPath: string, removed: boolean, hint: string }> {
  const plan = planService({ ...options, print: true })
  const removed = existsSync(plan.unitPath)
  await rm(plan.unitPath, { force: true })
  const ctl = options.user === true ? 'systemctl --user' : 'systemctl'
  return { unitPath: plan.unitPath, removed, hint: `if it was enabled: ${ctl} disable --now gryphgen && ${ctl} daemon-reload` }
}
