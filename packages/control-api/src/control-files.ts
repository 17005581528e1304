// The files through which a client finds the running daemon of a data
// directory: control.json (where it listens) and control-token (0600).
import { randomBytes } from 'node:crypto'
import { open, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { DaemonNotRunningError } from '@idlegrid/interface'

export const CONTROL_FILE = 'control.json'
export const TOKEN_FILE = 'control-token'

/** What control.json holds. */
export interface ControlInfo {
  version: 1
  host: string
  port: number
  /** The daemon's process id. */
  pid: number
  peerId?: string
  startedAt: string
}

/** A fresh random token: 32 bytes, base64url. */
export function generateToken (): string {
  return randomBytes(32).toString('base64url')
}

/**
 * Writes the token (mode 0600) and then control.json, each atomically, so a
 * reader that sees control.json also sees the matching token.
 */
export async function writeControlFiles (dataDir: string, info: ControlInfo, token: string): Promise<void> {
  await writeAtomic(join(dataDir, TOKEN_FILE), token + '\n', 0o600)
  await writeAtomic(join(dataDir, CONTROL_FILE), JSON.stringify(info, null, 2) + '\n', 0o600)
}

/**
 * Removes control.json and the token, but only when control.json still names
 * `pid`, so a stopping daemon never removes a newer daemon's files.
 */
export async function removeControlFiles (dataDir: string, pid: number): Promise<void> {
  const current = await readControlInfo(dataDir).catch(() => undefined)
  if (current != null && current.pid !== pid) {
    return
  }
  await rm(join(dataDir, CONTROL_FILE), { force: true })
  await rm(join(dataDir, TOKEN_FILE), { force: true })
}

/**
 * Reads control.json and the token of a data directory.
 *
 * @throws DaemonNotRunningError when the files are missing, unreadable, or
 * name a process that no longer exists
 */
export async function readControlFiles (dataDir: string): Promise<{ info: ControlInfo, token: string }> {
  const info = await readControlInfo(dataDir).catch(err => {
    throw notRunning(dataDir, (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : (err as Error).message)
  })
  if (!processAlive(info.pid)) {
    throw notRunning(dataDir, `control.json names pid ${info.pid}, which is not running`)
  }
  let token: string
  try {
    token = (await readFile(join(dataDir, TOKEN_FILE), 'utf8')).trim()
  } catch (err) {
    throw notRunning(dataDir, `cannot read ${TOKEN_FILE}: ${(err as Error).message}`)
  }
  return { info, token }
}

/** The error for "nothing answers for this data directory". */
export function notRunning (dataDir: string, detail?: string): DaemonNotRunningError {
  const why = detail == null ? '' : ` (${detail})`
  return new DaemonNotRunningError(`no daemon running for data dir ${dataDir}${why}; start one with \`idlegrid daemon --data-dir ${dataDir}\``)
}

/** Whether a process with this id exists (EPERM means it does, owned by someone else). */
export function processAlive (pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) {
    return false
  }
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function readControlInfo (dataDir: string): Promise<ControlInfo> {
  const text = await readFile(join(dataDir, CONTROL_FILE), 'utf8')
  const info = JSON.parse(text) as Partial<ControlInfo>
  if (typeof info.port !== 'number' || typeof info.pid !== 'number' || typeof info.host !== 'string') {
    throw new Error(`${CONTROL_FILE} lacks host, port or pid`)
  }
  return info as ControlInfo
}

async function writeAtomic (path: string, content: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  const handle = await open(tmp, 'wx', mode)
  try {
    // No fsync: these files only matter while the daemon runs.
    await handle.writeFile(content)
  } finally {
    await handle.close()
  }
  try {
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}
