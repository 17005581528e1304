// Group commit for a SQLite file in WAL mode with synchronous = NORMAL: the
// commits themselves never wait for the disk, and whoever must promise that
// a commit survives a power cut awaits one fdatasync of the write-ahead log,
// run on libuv's thread pool and shared by every caller waiting at the time.
import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import type Database from 'better-sqlite3'

export interface WalSyncInit {
  /**
   * Syncs the write-ahead log's file to disk. For tests that count the
   * syncs; the default is the file handle's own datasync().
   */
  datasync?(file: FileHandle): Promise<void>
}

export interface WalSync {
  /**
   * Resolves once every transaction committed before the call is on disk.
   * Calls made while a sync runs share the next one, so N waiting callers
   * cost at most two syncs, whatever N.
   */
  (): Promise<void>
  /**
   * As the call itself, for a caller that can wait up to `ms` longer: when
   * no sync runs, the next one anybody starts within `ms` serves it, and
   * one starts at `ms` otherwise. Two commits that each promise something
   * a moment apart then cost one sync.
   */
  within(ms: number): Promise<void>
  /** Closes the log's file handle; call before closing the database. */
  close(): Promise<void>
}

/**
 * Makes NORMAL commits of `db` durable on demand. `db` must be a file in
 * WAL mode: a commit there is appended to the `-wal` file and survives a
 * crash or kill -9 of the process at once; syncing that file makes it
 * survive a power cut too. A checkpoint that moves frames into the main file
 * syncs the main file itself before the log restarts, so syncing the log
 * after it covers everything as well.
 */
export function walSync (db: Database.Database, init: WalSyncInit = {}): WalSync {
  const mode = String(db.pragma('journal_mode', { simple: true }))
  if (mode !== 'wal') {
    throw new TypeError(`walSync needs a database in WAL mode, ${db.name} is in ${mode} mode`)
  }
  const datasync = init.datasync ?? (async (file: FileHandle) => { await file.datasync() })
  let file: Promise<FileHandle> | undefined
  let running: Promise<void> | undefined
  let next: Promise<void> | undefined
  /** Callers of within() waiting for the next sync to start. */
  let waiting: { done: { promise: Promise<void>, resolve: () => void, reject: (err: unknown) => void }, timer: ReturnType<typeof setTimeout> } | undefined
  let closed = false

  const syncNow = async (): Promise<void> => {
    if (closed) {
      throw new Error(`${db.name} is closed`)
    }
    if (file == null) {
      file = open(`${db.name}-wal`, 'r')
      // a failed open is tried again at the next sync
      file.catch(() => { file = undefined })
    }
    await datasync(await file)
  }
  const start = (): Promise<void> => {
    const run = syncNow()
    // it starts after their commits: it serves within()'s callers too
    if (waiting != null) {
      clearTimeout(waiting.timer)
      run.then(waiting.done.resolve, waiting.done.reject)
      waiting = undefined
    }
    running = run
    const clear = (): void => { if (running === run) running = undefined }
    run.then(clear, clear)
    return run
  }
  const sync = (async (): Promise<void> => {
    if (running == null) {
      await start()
      return
    }
    // the sync in flight may have started before our commit: wait for the one after it
    next ??= running.then(() => undefined, () => undefined).then(() => {
      next = undefined
      return start()
    })
    await next
  }) as WalSync
  sync.within = async (ms: number): Promise<void> => {
    if (running != null || closed) {
      await sync()
      return
    }
    if (waiting == null) {
      let resolve = (): void => {}
      let reject = (_: unknown): void => {}
      const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
      const done = { promise, resolve, reject }
      // a sync started before it fires clears it (start())
      const timer = setTimeout(() => { void sync().catch(() => {}) }, ms)
      waiting = { done, timer }
    }
    await waiting.done.promise
  }
  sync.close = async () => {
    if (waiting != null) {
      // those waiting get their sync before the file closes
      void sync().catch(() => {})
    }
    closed = true
    await running?.catch(() => {})
    await (await file?.catch(() => undefined))?.close()
    file = undefined
  }
  return sync
}
