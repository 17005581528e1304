// startDaemon() in-process with a real node on 127.0.0.1: control files, the
// built-in routes, refusal of a second daemon, and rollback on failure.
import { createServer } from 'node:net'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createControlClient } from '@idlegrid/control-api'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_CONFIG } from '../src/config.js'
import { startDaemon } from '../src/daemon/start-daemon.js'
import type { Daemon } from '../src/daemon/start-daemon.js'
import type { AddressInfo } from 'node:net'

describe('startDaemon', () => {
  let dataDir: string
  let daemon: Daemon | undefined
  const lines: string[] = []
  const config = { ...DEFAULT_CONFIG, maxCores: 1 }

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'idlegrid-daemon-'))
    lines.length = 0
  })

  afterEach(async () => {
    await daemon?.stop()
    daemon = undefined
    await rm(dataDir, { recursive: true, force: true })
  })

  it('serves status, peers, capacity and id, and cleans up on stop', async () => {
    daemon = await startDaemon({ dataDir, config, version: '0.0.0-test', log: l => lines.push(l) })
    // SQLite's -wal/-shm companions come and go with the connections.
    const files = (await readdir(dataDir)).filter(f => !/-(wal|shm)$/.test(f)).sort()
    expect(files).toEqual(['bundles', 'control-token', 'control.json', 'daemon.lock', 'identity.key', 'jobs.db', 'ledger.sqlite', 'worker.db'])
    expect((await stat(join(dataDir, 'control-token'))).mode & 0o777).toBe(0o600)
    expect(lines.some(l => l.startsWith('listening on /ip4/127.0.0.1/tcp/'))).toBe(true)

    const client = createControlClient({ dataDir })
    const status = await client.status()
    expect(status).toMatchObject({ peerId: daemon.peerId, peerCount: 0, pid: process.pid, version: '0.0.0-test', dataDir })
    expect(status.addresses[0]).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${daemon.peerId}$`))
    expect(await client.peers()).toEqual([])
    expect((await client.capacity()).limits.maxCores).toBe(1)
    expect((await client.id()).peerId).toBe(daemon.peerId)
    await expect(client.find({ cpu: 0 })).rejects.toMatchObject({ name: 'InvalidInputError' })
    await expect(client.request('POST', '/v1/find', { body: { cores: 1 } })).rejects.toThrow(/unknown field 'cores'/)

    await daemon.stop()
    daemon = undefined
    // The job stores and the bundle cache outlive the daemon; control files and lock do not.
    expect((await readdir(dataDir)).sort()).toEqual(['bundles', 'identity.key', 'jobs.db', 'ledger.sqlite', 'worker.db'])
    await expect(client.status()).rejects.toMatchObject({ name: 'DaemonNotRunningError' })
  })

  it('refuses a second daemon on the same data directory', async () => {
    daemon = await startDaemon({ dataDir, config, version: 't', log: () => {} })
    await expect(startDaemon({ dataDir, config, version: 't', log: () => {} })).rejects.toMatchObject({ name: 'DaemonRunningError' })
    // The first one is unharmed.
    expect((await createControlClient({ dataDir }).status()).peerId).toBe(daemon.peerId)
  })

  it('rolls back lock and files when the listen port is taken', async () => {
    const blocker = createServer()
    await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as AddressInfo).port
    try {
      await expect(startDaemon({ dataDir, config: { ...config, listen: [`/ip4/127.0.0.1/tcp/${port}`] }, version: 't', log: () => {} }))
        .rejects.toMatchObject({ name: 'AddressInUseError' })
      expect(await readdir(dataDir)).toEqual(['identity.key'])
    } finally {
      await new Promise(resolve => blocker.close(resolve))
    }
  })
})
