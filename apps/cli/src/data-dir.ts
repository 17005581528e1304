// Where a node's data directory is: --data-dir, then IDLEGRID_DATA_DIR,
// then ~/.idlegrid.
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

export const DATA_DIR_ENV = 'IDLEGRID_DATA_DIR'

/** The absolute data directory for a flag value and an environment. */
export function resolveDataDir (flag: string | undefined, env: Record<string, string | undefined>): string {
  const chosen = nonEmpty(flag) ?? nonEmpty(env[DATA_DIR_ENV]) ?? join(homedir(), '.idlegrid')
  return resolve(expandHome(chosen))
}

function nonEmpty (value: string | undefined): string | undefined {
  return value == null || value.trim() === '' ? undefined : value
}

function expandHome (path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path
}
