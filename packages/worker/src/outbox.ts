// The volunteer's persisted outbox: results wait here until their submitter
// acknowledges them, so a result survives a submitter that is offline and a
// restart of the volunteer.
import Database from 'better-sqlite3'
import { byLimit } from '@idlegrid/sqlite'

export interface OutboxEntry {
  id: number
  submitter: string
  taskId: string
  attempt: number
  /** Encoded Result message (request id 0; set at each delivery). */
  result: Uint8Array<ArrayBuffer>
  createdAt: number
}

export class Outbox {
  readonly #db: Database.Database
  readonly #insert: Database.Statement
  readonly #delete: Database.Statement
  readonly #has: Database.Statement
  readonly #submitters: Database.Statement
  readonly #count: Database.Statement
  readonly #any: Database.Statement
  readonly #of: (limit: number) => Database.Statement

  constructor (path: string) {
    this.#db = new Database(path)
    this.#db.pragma('journal_mode = WAL')
    // NORMAL: a commit survives a crash or kill -9 of this process, not a
    // power cut. A result lost that way was never acknowledged, so the
    // submitter runs its task again (lease expiry or disconnect); a lost
    // delete only re-sends a result, which gets DUPLICATE. FULL would cost an
    // fsync per put and per delete on the hot path of every task.
    this.#db.pragma('synchronous = NORMAL')
    this.#db.exec(`CREATE TABLE IF NOT EXISTS outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT, submitter TEXT NOT NULL, task_id TEXT NOT NULL,
      attempt INTEGER NOT NULL, result BLOB NOT NULL, created_at INTEGER NOT NULL,
      UNIQUE (task_id, attempt, submitter)
    )`)
    // one submitter's entries in order without reading the others' (a
    // submitter offline for a day may leave thousands waiting)
    this.#db.exec('CREATE INDEX IF NOT EXISTS outbox_submitter ON outbox (submitter, id)')
    this.#insert = this.#db.prepare('INSERT OR IGNORE INTO outbox (submitter, task_id, attempt, result, created_at) VALUES (?, ?, ?, ?, ?)')
    this.#has = this.#db.prepare('SELECT 1 FROM outbox WHERE submitter = ? LIMIT 1').pluck()
    this.#submitters = this.#db.prepare('SELECT DISTINCT submitter FROM outbox').pluck()
    this.#delete = this.#db.prepare('DELETE FROM outbox WHERE id = ?')
    this.#count = this.#db.prepare('SELECT COUNT(*) FROM outbox').pluck()
    this.#any = this.#db.prepare('SELECT 1 FROM outbox LIMIT 1').pluck()
    // the limit is in the SQL (byLimit): a bound LIMIT is prepared again at every run
    this.#of = byLimit(this.#db, limit => `SELECT * FROM outbox WHERE submitter = ? ORDER BY id LIMIT ${limit}`)
  }

  /** Stores a result; a second result for the same attempt replaces nothing. */
  put (submitter: string, taskId: string, attempt: number, result: Uint8Array, now = Date.now()): void {
    this.#insert.run(submitter, taskId, attempt, result, now)
  }

  /** put() for several results of one submitter, in one transaction. */
  putMany (submitter: string, results: Array<{ taskId: string, attempt: number, result: Uint8Array }>, now = Date.now()): void {
    if (results.length === 0) {
      return
    }
    this.#db.transaction(() => {
      for (const r of results) {
        this.#insert.run(submitter, r.taskId, r.attempt, r.result, now)
      }
    })()
  }

  /** Entries waiting for a submitter, oldest first, at most `limit`. */
  pending (submitter: string, limit = -1): OutboxEntry[] {
    const rows = this.#of(limit).all(submitter) as Array<{ id: number, submitter: string, task_id: string, attempt: number, result: Buffer, created_at: number }>
    return rows.map(r => ({
      id: r.id,
      submitter: r.submitter,
      taskId: r.task_id,
      attempt: r.attempt,
      result: new Uint8Array(r.result.buffer as ArrayBuffer, r.result.byteOffset, r.result.byteLength),
      createdAt: r.created_at
    }))
  }

  /** Whether any result waits for `submitter`; reads no result. */
  has (submitter: string): boolean {
    return this.#has.get(submitter) !== undefined
  }

  /** The submitters that results wait for; reads no result. */
  submitters (): string[] {
    return this.#submitters.all() as string[]
  }

  size (): number {
    return this.#count.get() as number
  }

  /** Whether no result waits, without counting them (asked after every group of results). */
  empty (): boolean {
    return this.#any.get() == null
  }

  /** Deletes entries (delivered results) in one transaction. */
  deleteMany (ids: number[]): void {
    this.#db.transaction(() => {
      for (const id of ids) {
        this.#delete.run(id)
      }
    })()
  }

  close (): void {
    this.#db.close()
  }
}
