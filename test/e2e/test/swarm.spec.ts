// Three real daemons on 127.0.0.1 (b bootstraps to a, c to b), driven only
// through the `idlegrid` command: status, peers, find through the DHT,
// capacity, and a clean SIGTERM.
import { readdir, rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, runCliJson, spawnDaemon, tempDataDir, waitFor, waitForControl } from '../src/index.js'
import type { DaemonProcess } from '../src/index.js'

// Short re-advertising keeps the suite to seconds.
const FAST = ['--advertise-interval', '300', '--max-cores', '1']

// Timeouts are generous for a machine shared with other suites; the suite
// itself takes seconds when the machine is quiet.
describe('a three-daemon swarm', { timeout: 90_000 }, () => {
  const daemons: DaemonProcess[] = []
  const ids: Record<'a' | 'b' | 'c', { peerId: string, addresses: string[], dataDir: string }> = {} as any

  async function start (name: 'a' | 'b' | 'c', args: string[]): Promise<void> {
    const dataDir = await tempDataDir(name)
    const daemon = spawnDaemon(dataDir, [...FAST, ...args])
    daemons.push(daemon)
    await waitForControl(daemon)
    // The daemon logs its PeerId and addresses before it writes control.json.
    const peerId = /node (\S+) started/.exec(daemon.output())?.[1]
    const addresses = [...daemon.output().matchAll(/listening on (\S+)/g)].map(m => m[1])
    expect(peerId).toMatch(/^12D3KooW/)
    ids[name] = { peerId: peerId!, addresses, dataDir }
  }

  beforeAll(async () => {
    await start('a', ['--listen', '/ip4/127.0.0.1/tcp/0'])
    await start('b', ['--bootstrap', ids.a.addresses[0]])
    await start('c', ['--bootstrap', ids.b.addresses[0]])
  }, 180_000)

  afterAll(async () => {
    await Promise.all(daemons.map(async d => {
      await d.stop('SIGKILL')
      await rm(d.dataDir, { recursive: true, force: true })
    }))
  })

  it('status --json carries the PeerId and listening addresses', async () => {
    const [status, id, human] = await Promise.all([
      runCliJson(['status', '--data-dir', ids.a.dataDir]),
      runCli(['id', '--data-dir', ids.a.dataDir]),
      runCli(['status', '--data-dir', ids.a.dataDir])
    ])
    expect(status.peerId).toBe(ids.a.peerId)
    expect(status.addresses).toEqual(ids.a.addresses)
    expect(status.addresses.length).toBeGreaterThan(0)
    for (const addr of status.addresses) {
      expect(addr).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${status.peerId as string}$`))
    }
    // `id` reads the same identity from the key file.
    expect(id).toMatchObject({ code: 0, stdout: `${status.peerId as string}\n` })
    expect(human.stdout).toContain(`peer id    ${status.peerId as string}`)
  })

  it('peers lists the daemon each one bootstrapped to', async () => {
    const peersOfC = await waitFor(async () => {
      const peers = await runCliJson<Array<{ peerId: string }>>(['peers', '--data-dir', ids.c.dataDir])
      return peers.some(p => p.peerId === ids.b.peerId) ? peers : undefined
    }, 'c to list b among its peers', 60_000)
    expect(peersOfC.every(p => typeof p.peerId === 'string')).toBe(true)
    const peersOfB = await runCliJson<Array<{ peerId: string }>>(['peers', '--data-dir', ids.b.dataDir])
    expect(peersOfB.map(p => p.peerId)).toEqual(expect.arrayContaining([ids.a.peerId, ids.c.peerId]))
  })

  it('find --cpu 1 on c finds a, which c never bootstrapped to, through the DHT', async () => {
    const found = await waitFor(async () => {
      const list = await runCliJson<Array<{ peerId: string, capacity: { freeCores: number } }>>(['find', '--cpu', '1', '--timeout', '5', '--data-dir', ids.c.dataDir])
      return list.some(v => v.peerId === ids.a.peerId) ? list : undefined
    }, 'c to find a through the DHT', 60_000, 300)
    const a = found.find(v => v.peerId === ids.a.peerId)!
    expect(a.capacity.freeCores).toBeGreaterThanOrEqual(1)
    expect(found.some(v => v.peerId === ids.c.peerId)).toBe(false)
    const [human, none] = await Promise.all([
      runCli(['find', '--cpu', '1', '--timeout', '5', '--data-dir', ids.c.dataDir]),
      // Nobody has 1000 free cores.
      runCliJson(['find', '--cpu', '1000', '--timeout', '2', '--data-dir', ids.c.dataDir])
    ])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/volunteers? with 1 free core:/)
    expect(none).toEqual([])
  })

  it('capacity --json shows what a advertises and the owner limits behind it', async () => {
    const [capacity, human] = await Promise.all([
      runCliJson(['capacity', '--data-dir', ids.a.dataDir]),
      runCli(['capacity', '--data-dir', ids.a.dataDir])
    ])
    expect(capacity.limits).toMatchObject({ maxCores: 1, shareGpu: false })
    expect(capacity.slots).toEqual({ total: 1, used: 0, free: 1 })
    expect(capacity.freeCores).toBe(1)
    expect(capacity.machine.cpuCores).toBeGreaterThanOrEqual(1)
    expect(human.stdout).toMatch(/limits\s+1 core, .* memory, GPU not shared/)
  })

  it('stops cleanly on SIGTERM: exit 0, control files and lock removed, identity kept', async () => {
    const c = daemons[2]
    const exit = await c.stop('SIGTERM')
    expect(exit).toEqual({ code: 0, signal: null })
    expect(c.output()).toMatch(/received SIGTERM, stopping\n.*stopped\n$/)
    // The job stores and bundle cache stay; control files and lock are gone.
    expect((await readdir(ids.c.dataDir)).sort()).toEqual(['bundles', 'identity.key', 'jobs.db', 'ledger.sqlite', 'worker.db'])
    const status = await runCli(['status', '--data-dir', ids.c.dataDir])
    expect(status.code).toBe(3)
    expect(status.stderr).toContain(`no daemon running for data dir ${ids.c.dataDir}`)
  })
})
