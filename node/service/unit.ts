/**
 * The systemd unit that runs a node as a service (pure: text in, text out). A system unit
 * (`gryphgen service install` as root) runs as a dedicated user; a user unit (`--user`) runs as
 * whoever installed it. KillMode=mixed sends SIGTERM to the node alone, so it drains and stops
 * its own workers and sandboxes; whatever is left after TimeoutStopSec gets SIGKILL.
 * No NoNewPrivileges= or namespace hardening: the sandbox needs bubblewrap's user namespaces.
 */

export interface UnitInit {
  /** Absolute path of the node binary (process.execPath). */
  node: string
  /** Absolute path of bin/gryphgen.js. */
  bin: string
  dataDir: string
  /** System units: the account the node runs as. Absent for a user unit. */
  serviceUser?: string
  /** Open files the node may hold: peer connections, LevelDB tables, blobs. */
  limitNoFile?: number
}

export const UNIT_NAME = 'gryphgen.service'
export const DEFAULT_SERVICE_USER = 'gryphgen'
export const DEFAULT_SYSTEM_DATA_DIR = '/var/lib/gryphgen'

/** systemd's quoting for one word of ExecStart= (spaces, quotes, backslashes, `%` and `$`). */
export function execWord (word: string): string {
  const escaped = word.replaceAll('%', '%%').replaceAll('$', '$$')
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped) ? escaped : `"${escaped.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
}

export function serviceUnit (init: UnitInit): string {
  const system = init.serviceUser !== undefined
  const exec = [init.node, '--max-semi-space-size=4', init.bin, 'start', '--data-dir', init.dataDir].map(execWord).join(' ')
  return [
    '[Unit]',
    'Description=gryphgen node (peer-to-peer compute grid)',
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    ...(system ? [`User=${init.serviceUser}`, `Group=${init.serviceUser}`] : []),
    'Environment=NODE_ENV=production',
    `ExecStart=${exec}`,
    'Restart=on-failure',
    'RestartSec=5',
    'KillMode=mixed',
    'KillSignal=SIGTERM',
    'TimeoutStopSec=60',
    `LimitNOFILE=${init.limitNoFile ?? 65536}`,
    '',
    '[Install]',
    `WantedBy=${system ? 'multi-user.target' : 'default.target'}`,
    '',
  ].join('\n')
}

/** What to run after the unit is written, to start it now and at every boot (or login). */
export function enableHint (user: boolean): string {
  const ctl = user ? 'systemctl --user' : 'systemctl'
  return [
    `${ctl} daemon-reload`,
    `${ctl} enable --now gryphgen`,
    `${ctl} status gryphgen        # logs: journalctl ${user ? '--user ' : ''}-u gryphgen -f`,
    ...(user ? ['loginctl enable-linger "$USER"   # keep it running while you are logged out'] : []),
  ].join('\n')
}
