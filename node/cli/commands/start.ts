/** `gryphgen start`: run a node until SIGINT/SIGTERM, then stop it cleanly. */
import { loadConfig, type ConfigFlags } from '../../config/index.js'
import { createLogger, DataDirError } from '../../../base/index.js'
import { GryphgenNode } from '../../node.js'
import { onParentExit } from '../interrupt.js'
import { decodeInvite, type Invite } from '../../../protocols/index.js'
import { ensureDir, readBootstrapFile, readSwarmKey, writeBootstrapFile, writeSwarmKey } from '../../datadir/index.js'

export interface StartOptions {
  flags: ConfigFlags
  config?: string
  join?: string
}

/** Store an invite's swarm key and addresses in the data dir; refuses to switch meshes. */
export async function applyInvite (dataDir: string, invite: Invite): Promise<void> {
  await ensureDir(dataDir)
  const existing = await readSwarmKey(dataDir)
  if (existing !== undefined && existing !== invite.psk) {
    throw new DataDirError(`${dataDir} already belongs to another mesh (its swarm.key differs from the invite's); use a fresh --data-dir to join this mesh`)
  }
  if (existing === undefined) await writeSwarmKey(dataDir, invite.psk)
  const known = await readBootstrapFile(dataDir)
  await writeBootstrapFile(dataDir, [...new Set([...known, ...invite.addrs])])
}

export async function startCommand (options: StartOptions): Promise<void> {
  const invite = options.join === undefined ? undefined : decodeInvite(options.join)
  const config = await loadConfig({ flags: options.flags, configPath: options.config })
  if (invite !== undefined) await applyInvite(config.dataDir, invite)
  const logger = createLogger({ level: config.logLevel })
  const node = new GryphgenNode({ config, logger })
  let stopping = false
  const shutdown = (signal: string): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without a clean stop')
      process.exit(130)
    }
    stopping = true
    logger.info({ signal }, 'stopping')
    // Exit explicitly once stopped: libraries may keep idle timers that would delay it.
    node.stop().then(() => { logger.info('stopped'); logger.flush(() => process.exit(0)) }, (err: Error) => {
      logger.error({ err }, 'error while stopping')
      logger.flush(() => process.exit(1))
    })
  }
  process.on('SIGINT', shutdown)
  process.on('SIGTERM', shutdown)
  // Started by `npm start`: stop with the launcher even when it dies without passing a signal on.
  if (process.env.npm_lifecycle_event === 'start') onParentExit(() => { shutdown('launcher exited') })
  try {
    await node.start()
  } catch (err) {
    if (!stopping) throw err
    // Stopped while starting (a signal during start-up): not a failure. The stop above ends
    // the process once the parts already started are stopped.
    logger.info({ reason: (err as Error).name }, 'stopped before the start completed')
    await new Promise<never>(() => {})
  }
}
