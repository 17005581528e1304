// The data directory lock: one holder, live holders refuse, stale ones are
// taken over.
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LOCK_FILE, acquireLock } from '../src/lock.js'

describe('data directory lock', () => {
  let dataDir: string

  beforeEach(async () => { dataDir = await mkdtemp(join(tmpdir(), 'idlegrid-lock-')) })
  afterEach(async () => { await rm(dataDir, { recursive: true, force: true }) })

  it('writes the pid, refuses a second holder, and releases', async () => {
    const lock = await acquireLock(dataDir)
    expect((await readFile(join(dataDir, LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid))
    await expect(acquireLock(dataDir)).rejects.toMatchObject({ name: 'DaemonRunningError', message: expect.stringContaining(`pid ${process.pid}`) })
    await lock.release()
    await expect(stat(join(dataDir, LOCK_FILE))).rejects.toMatchObject({ code: 'ENOENT' })
    const again = await acquireLock(dataDir)
    await again.release()
  })

  it('refuses a lock held by another live process', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' })
    try {
      await writeFile(join(dataDir, LOCK_FILE), `${child.pid}\n`)
      await expect(acquireLock(dataDir)).rejects.toMatchObject({
        name: 'DaemonRunningError',
        message: `a daemon (pid ${child.pid}) is already running for data dir ${dataDir}; stop it first (\`kill ${child.pid}\`) or use another --data-dir`
      })
    } finally {
      child.kill()
    }
  })

  it('takes over a lock whose process is gone', async () => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' })
    await new Promise(resolve => child.once('exit', resolve))
    await writeFile(join(dataDir, LOCK_FILE), `${child.pid}\n`)
    const lock = await acquireLock(dataDir)
    expect((await readFile(join(dataDir, LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid))
    await lock.release()
  })

  it('treats a fresh empty lock as a daemon starting, and garbage as stale', async () => {
    await writeFile(join(dataDir, LOCK_FILE), '')
    await expect(acquireLock(dataDir)).rejects.toThrow(/another daemon is starting/)
    await writeFile(join(dataDir, LOCK_FILE), 'garbage')
    const lock = await acquireLock(dataDir)
    await lock.release()
  })

  it('release leaves a lock that another process holds now', async () => {
    const lock = await acquireLock(dataDir)
    await writeFile(join(dataDir, LOCK_FILE), '1\n')
    await lock.release()
    expect(await readFile(join(dataDir, LOCK_FILE), 'utf8')).toBe('1\n')
  })
})
