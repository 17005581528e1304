// Temporary directories for tests that need real files (SQLite, key files).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TempDir {
  path: string
  /** Removes the directory and everything in it. */
  remove(): Promise<void>
}

export async function tempDir (prefix = 'idlegrid-test-'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return {
    path,
    remove: async () => { await rm(path, { recursive: true, force: true }) }
  }
}
