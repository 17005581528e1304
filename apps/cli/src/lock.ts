// One daemon per data directory: an exclusive lock file holding the owner's
// pid. A lock whose pid is dead is stale and taken over.
import { open, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { processAlive } from '@idlegrid/control-api'
import { DaemonRunningError } from '@idlegrid/interface'

export const LOCK_FILE = 'daemon.lock'

/** An empty lock file younger than this belongs to a daemon still writing its pid. */
const FRESH_EMPTY_LOCK_MS = 5_000

export interface DataDirLock {
  path: string
  /** Removes the lock if it still names this process. */
  release(): Promise<void>
}

/**
 * Takes the data directory's lock for `pid` (default this process).
 *
 * @throws DaemonRunningError when a live process holds it
 */
export async function acquireLock (dataDir: string, pid = process.pid): Promise<DataDirLock> {
  const path = join(dataDir, LOCK_FILE)
  // Two rounds: the second follows removing a stale lock. Losing a race for
  // it to another starting daemon ends in DaemonRunningError, as it should.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600)
      try {
        await handle.writeFile(`${pid}\n`)
      } finally {
        await handle.close()
      }
      return { path, release: async () => { await releaseLock(path, pid) } }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw err
      }
    }

    const holder = await readHolder(path)
    if (holder.state === 'live') {
      throw new DaemonRunningError(`a daemon (pid ${holder.pid}) is already running for data dir ${dataDir}; stop it first (\`kill ${holder.pid}\`) or use another --data-dir`)
    }
    if (holder.state === 'starting') {
      throw new DaemonRunningError(`another daemon is starting for data dir ${dataDir} (${path} was just created); wait for it, or use another --data-dir`)
    }
    if (holder.state === 'stale' && attempt === 0) {
      await rm(path, { force: true })
    }
  }
  throw new DaemonRunningError(`another daemon took the lock ${path} for data dir ${dataDir} while this one was starting`)
}

type Holder =
  | { state: 'live', pid: number }
  | { state: 'starting' }
  | { state: 'stale' }

async function readHolder (path: string): Promise<Holder> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    // Removed between our open and read: the holder just stopped.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'stale' }
    throw err
  }
  const pid = Number(text.trim())
  if (text.trim() === '') {
    const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: 0 }))).mtimeMs
    return age < FRESH_EMPTY_LOCK_MS ? { state: 'starting' } : { state: 'stale' }
  }
  if (Number.isInteger(pid) && pid !== process.pid && processAlive(pid)) {
    return { state: 'live', pid }
  }
  if (pid === process.pid) {
    // Held by this very process (a second start in one process) is still live.
    return { state: 'live', pid }
  }
  return { state: 'stale' }
}

async function releaseLock (path: string, pid: number): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => undefined)
  if (text != null && Number(text.trim()) === pid) {
    await rm(path, { force: true })
  }
}
