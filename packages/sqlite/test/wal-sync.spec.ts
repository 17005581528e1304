// walSync on real SQLite files: waits for a sync that starts after the
// call, shares syncs among callers waiting together, refuses files that
// are not in WAL mode, and what it synced is really in the file.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { walSync } from '../src/index.js'
import type { FileHandle } from 'node:fs/promises'

async function until (check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in 5 s')
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

/** A walSync whose every fdatasync waits for its gate to open; `started` counts the syncs begun. */
function gatedSync (db: Database.Database): { sync: ReturnType<typeof walSync>, gates: Array<() => void>, started: () => number } {
  const gates: Array<() => void> = []
  let started = 0
  const sync = walSync(db, {
    async datasync (file: FileHandle) {
      started++
      await new Promise<void>(resolve => gates.push(resolve))
      await file.datasync()
    }
  })
  return { sync, gates, started: () => started }
}

describe('walSync', () => {
  let dir: string
  let db: Database.Database

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'idlegrid-sqlite-'))
    db = new Database(join(dir, 'a.db'))
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.exec('CREATE TABLE t (n INTEGER)')
  })

  afterEach(() => {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('shares one sync among callers that wait together, and never reuses a sync that began before the call', async () => {
    const { sync, gates, started } = gatedSync(db)
    db.prepare('INSERT INTO t VALUES (1)').run()
    const first = sync()
    await until(() => started() === 1)
    // committed while the first sync runs: these must wait for a second one
    db.prepare('INSERT INTO t VALUES (2)').run()
    let laterDone = 0
    const later = Array.from({ length: 10 }, async () => { await sync(); laterDone++ })
    gates.shift()?.()
    await first
    await until(() => started() === 2)
    expect(laterDone).toBe(0)
    gates.shift()?.()
    await Promise.all(later)
    expect(started()).toBe(2)
    await sync.close()
  })

  it('syncs the real log file, and fails clearly after close', async () => {
    const sync = walSync(db)
    db.prepare('INSERT INTO t VALUES (7)').run()
    await sync()
    const other = new Database(join(dir, 'a.db'), { readonly: true })
    expect(other.prepare('SELECT n FROM t').all()).toEqual([{ n: 7 }])
    other.close()
    await sync.close()
    await expect(sync()).rejects.toThrow(/closed/)
  })

  it('within(ms): served by the next sync anybody starts, or by its own after ms', async () => {
    let syncs = 0
    const sync = walSync(db, { async datasync (file: FileHandle) { syncs++; await file.datasync() } })
    db.prepare('INSERT INTO t VALUES (1)').run()
    let lazyDone = false
    const lazy = sync.within(10_000).then(() => { lazyDone = true })
    await new Promise(resolve => setTimeout(resolve, 20))
    expect([syncs, lazyDone]).toEqual([0, false])
    // a sync started for another commit covers the earlier one too: one sync for both
    db.prepare('INSERT INTO t VALUES (2)').run()
    await sync()
    await lazy
    expect(syncs).toBe(1)

    // nobody else syncs: it starts its own after ms
    db.prepare('INSERT INTO t VALUES (3)').run()
    const t0 = performance.now()
    await Promise.all([sync.within(30), sync.within(30)])
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25)
    expect(syncs).toBe(2)
    await sync.close()
  })

  it('within(ms) while a sync runs waits for the next one, and close() syncs for those still waiting', async () => {
    const { sync, gates, started } = gatedSync(db)
    db.prepare('INSERT INTO t VALUES (1)').run()
    const first = sync()
    await until(() => gates.length === 1)
    // committed while the first sync runs: the one that began before cannot serve it
    db.prepare('INSERT INTO t VALUES (2)').run()
    let lazyDone = false
    const lazy = sync.within(10_000).then(() => { lazyDone = true })
    gates.shift()?.()
    await first
    await until(() => gates.length === 1)
    expect(lazyDone).toBe(false)
    gates.shift()?.()
    await lazy
    expect(started()).toBe(2)

    db.prepare('INSERT INTO t VALUES (3)').run()
    const pending = sync.within(10_000)
    const closing = sync.close()
    await until(() => gates.length === 1)
    gates.shift()?.()
    await Promise.all([pending, closing])
    expect(started()).toBe(3)
  })

  it('refuses a database that is not in WAL mode', () => {
    const plain = new Database(join(dir, 'b.db'))
    try {
      expect(() => walSync(plain)).toThrow(/WAL mode/)
    } finally {
      plain.close()
    }
  })
})
