// The result outbox on a real SQLite file: results of a group stored in one
// commit, each once per attempt, and read back oldest first.
import { join } from 'node:path'
import { tempDir } from '@idlegrid/test-utils'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { Outbox } from '../src/outbox.js'
import type { TempDir } from '@idlegrid/test-utils'

describe('outbox', () => {
  const dirs: TempDir[] = []
  afterEach(async () => { await Promise.all(dirs.splice(0).map(async d => { await d.remove() })) })

  it('stores a group of results at once, keeps one per task attempt, and survives a reopen', async () => {
    const dir = await tempDir('idlegrid-outbox-')
    dirs.push(dir)
    const path = join(dir.path, 'outbox.db')
    const outbox = new Outbox(path)
    const bytes = (n: number): Uint8Array => new Uint8Array([n])
    outbox.putMany('S', [{ taskId: 'j:0', attempt: 1, result: bytes(0) }, { taskId: 'j:1', attempt: 1, result: bytes(1) }])
    // a second result for an attempt already held replaces nothing; another attempt is its own entry
    outbox.putMany('S', [{ taskId: 'j:1', attempt: 1, result: bytes(9) }, { taskId: 'j:1', attempt: 2, result: bytes(2) }])
    outbox.putMany('S', [])
    outbox.close()

    const reopened = new Outbox(path)
    const pending = reopened.pending('S')
    expect(pending.map(e => [e.taskId, e.attempt, [...e.result]])).toEqual([['j:0', 1, [0]], ['j:1', 1, [1]], ['j:1', 2, [2]]])
    expect(reopened.pending('other')).toEqual([])
    expect([reopened.size(), reopened.empty()]).toEqual([3, false])
    reopened.deleteMany(pending.map(e => e.id))
    expect([reopened.size(), reopened.empty()]).toEqual([0, true])
    reopened.close()
  })

  it('tells which submitters results wait for, and whether one has any, without reading the results; one submitter\'s by an index', async () => {
    const dir = await tempDir('idlegrid-outbox-')
    dirs.push(dir)
    const path = join(dir.path, 'outbox.db')
    const outbox = new Outbox(path)
    expect(outbox.submitters()).toEqual([])
    expect(outbox.has('S')).toBe(false)
    // a submitter offline for long: many results wait for it, one for another
    const big = new Uint8Array(64 * 1024)
    outbox.putMany('offline', Array.from({ length: 50 }, (_, i) => ({ taskId: `j:${i}`, attempt: 1, result: big })))
    outbox.put('S', 'k:0', 1, new Uint8Array([7]))
    expect(outbox.submitters().sort()).toEqual(['S', 'offline'])
    expect(outbox.has('S')).toBe(true)
    expect(outbox.has('nobody')).toBe(false)
    expect(outbox.pending('S').map(e => [e.taskId, [...e.result]])).toEqual([['k:0', [7]]])
    outbox.deleteMany(outbox.pending('S').map(e => e.id))
    expect(outbox.has('S')).toBe(false)
    expect(outbox.submitters()).toEqual(['offline'])
    outbox.close()
    const db = new Database(path, { readonly: true })
    try {
      const plan = (db.prepare('EXPLAIN QUERY PLAN SELECT * FROM outbox WHERE submitter = ? ORDER BY id LIMIT 64').all('S') as Array<{ detail: string }>).map(r => r.detail).join(' | ')
      expect(plan).toContain('USING INDEX outbox_submitter (submitter=?)')
      expect(plan).not.toContain('TEMP B-TREE')
    } finally {
      db.close()
    }
  })
})
