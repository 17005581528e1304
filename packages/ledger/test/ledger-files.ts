// The ledger tests' files: a fresh folder for each test, ledgers opened in
// it by name, and all of them closed and the folder removed after the test.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach } from 'vitest'
import { openLedger } from '../src/index.js'
import type { Ledger, LedgerInit } from '../src/index.js'
import type { PrivateKey } from '@libp2p/interface'

export interface LedgerFiles {
  /** This test's folder. */
  readonly dir: string
  /** The path of ledger `name` in it. */
  path(name: string): string
  /** Opens ledger `name` (closed after the test). */
  openAs(name: string, privateKey: PrivateKey, init?: Omit<LedgerInit, 'path' | 'privateKey'>): Ledger
}

/** Registers the hooks; call at the top of a spec file or describe block. */
export function ledgerFiles (prefix: string): LedgerFiles {
  let dir = ''
  const open: Ledger[] = []
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix))
  })
  afterEach(async () => {
    for (const ledger of open.splice(0)) {
      try { ledger.close() } catch {}
    }
    await rm(dir, { recursive: true, force: true })
  })
  const files: LedgerFiles = {
    get dir () { return dir },
    path: name => join(dir, `${name}.sqlite`),
    openAs (name, privateKey, init = {}) {
      const ledger = openLedger({ ...init, path: files.path(name), privateKey })
      open.push(ledger)
      return ledger
    }
  }
  return files
}
