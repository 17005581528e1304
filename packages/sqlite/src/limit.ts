// Statements whose LIMIT is written into the SQL, one prepared statement per
// limit: SQLite re-prepares a statement whose LIMIT is a bound parameter at
// every run (docs/durability.md, "LIMIT in the SQL").
import type Database from 'better-sqlite3'

/** Distinct limits kept prepared per statement; a caller passing more starts over. */
const KEPT = 32

/**
 * The value of a LIMIT clause as SQL text: a whole number of rows, or -1
 * for no limit.
 *
 * @throws TypeError for anything else (it is written into the SQL)
 */
export function sqlLimit (limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < -1) {
    throw new TypeError(`a LIMIT must be a whole number of rows, or -1 for none; got ${String(limit)}`)
  }
  return String(limit)
}

/**
 * Prepares `source(limit)` once per limit it is asked for and hands out the
 * same statement after. With better-sqlite3's build of SQLite (3.53), a
 * statement with `LIMIT ?` is prepared again at every run, because the
 * planner may use the bound value: 3x the time of the run itself for a
 * small indexed read.
 *
 * ```ts
 * const newest = byLimit(db, limit => `SELECT * FROM results ORDER BY seq DESC LIMIT ${limit}`)
 * newest(10).all()
 * ```
 */
export function byLimit (db: Database.Database, source: (limit: string) => string): (limit: number) => Database.Statement {
  const prepared = new Map<number, Database.Statement>()
  return limit => {
    let statement = prepared.get(limit)
    if (statement == null) {
      statement = db.prepare(source(sqlLimit(limit)))
      if (prepared.size >= KEPT) {
        prepared.clear()
      }
      prepared.set(limit, statement)
    }
    return statement
  }
}
