/**
 * The worker token: a random secret in `<data-dir>/worker-token` (0600) that a worker presents
 * in HELLO. The node creates it at start; `gryphgen worker` only reads it. Spawned workers get
 * it on an inherited pipe, never in argv or the environment. Compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { join } from 'node:path'
import { DataDirError, isTooOpen, readIfExists, writeFileDurable } from '../base/index.js'

export const WORKER_TOKEN_FILE = 'worker-token'
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{32,256}$/

export const workerTokenPath = (dataDir: string): string => join(dataDir, WORKER_TOKEN_FILE)

/** The token in `path`, or undefined when the file does not exist. Throws DataDirError when it is invalid or readable by others. */
export async function readWorkerToken (path: string): Promise<string | undefined> {
  const bytes = await readIfExists(path)
  if (bytes === undefined) return undefined
  const token = bytes.toString('utf8').trim()
  if (!TOKEN_PATTERN.test(token)) throw new DataDirError(`${path} does not hold a valid worker token; delete it and restart the node to create a new one`)
  if (await isTooOpen(path)) throw new DataDirError(`${path} is readable by other users; run \`chmod 600 ${path}\``)
  return token
}

export async function loadOrCreateWorkerToken (dataDir: string): Promise<string> {
  const path = workerTokenPath(dataDir)
  const existing = await readWorkerToken(path)
  if (existing !== undefined) return existing
  const token = randomBytes(32).toString('base64url')
  await writeFileDurable(path, token + '\n', 0o600)
  return token
}

/** Constant time in the tokens' contents and lengths: both are hashed to 32 bytes first. */
export function tokensMatch (presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

export function isValidWorkerToken (token: string): boolean {
  return TOKEN_PATTERN.test(token)
}
