// byLimit and sqlLimit on a real SQLite file: the limit is written into
// the statement's SQL, each limit is prepared once, and a limit that is not
// a whole number of rows never reaches the SQL.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { byLimit, sqlLimit } from '../src/index.js'

describe('byLimit', () => {
  let dir: string
  let db: Database.Database

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'idlegrid-sqlite-'))
    db = new Database(join(dir, 'a.db'))
    db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY, k TEXT NOT NULL)')
    const insert = db.prepare('INSERT INTO t (n, k) VALUES (?, ?)')
    for (let n = 1; n <= 50; n++) insert.run(n, n % 2 === 0 ? 'even' : 'odd')
  })

  afterEach(() => {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('writes the limit into the SQL and keeps one statement per limit', () => {
    const oldest = byLimit(db, limit => `SELECT n FROM t WHERE k = ? ORDER BY n LIMIT ${limit}`)
    const three = oldest(3)
    expect(three.source).toBe('SELECT n FROM t WHERE k = ? ORDER BY n LIMIT 3')
    expect(three.all('even')).toEqual([{ n: 2 }, { n: 4 }, { n: 6 }])
    expect(oldest(3)).toBe(three)
    expect(oldest(1).all('odd')).toEqual([{ n: 1 }])
    expect(oldest(-1).all('odd')).toHaveLength(25)
    expect(oldest(0).all('odd')).toEqual([])
  })

  it('still answers right after more limits than it keeps', () => {
    const first = byLimit(db, limit => `SELECT n FROM t ORDER BY n LIMIT ${limit}`)
    for (let limit = 1; limit <= 40; limit++) {
      expect(first(limit).all()).toHaveLength(limit)
    }
    expect(first(7).all()).toHaveLength(7)
  })

  it('refuses a limit that is not a whole number of rows, before any SQL', () => {
    const sources: string[] = []
    const rows = byLimit(db, limit => { sources.push(limit); return `SELECT n FROM t LIMIT ${limit}` })
    for (const bad of [1.5, -2, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(() => rows(bad)).toThrow(TypeError)
    }
    expect(() => rows('1; DROP TABLE t' as unknown as number)).toThrow(/whole number of rows/)
    expect(sources).toEqual([])
    expect(sqlLimit(-1)).toBe('-1')
    expect(sqlLimit(1000)).toBe('1000')
  })
})
