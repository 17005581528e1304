// A private swarm of real daemons on 127.0.0.1, driven through `idlegrid`:
// two members connect and find each other through the swarm's own DHT; an
// outsider without the key and a member of another swarm are refused at the
// handshake; an open-network node never sees the swarm's DHT records.
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, runCliJson, spawnDaemon, tempDataDir, waitFor, waitForControl } from '../src/index.js'
import type { DaemonProcess } from '../src/index.js'

const FAST = ['--advertise-interval', '300', '--max-cores', '1']

interface Started { daemon: DaemonProcess, peerId: string, address: string, dataDir: string }

type Name = 'a' | 'b' | 'x' | 'o1' | 'o2'

describe('a private swarm', { timeout: 120_000 }, () => {
  const nodes: Partial<Record<Name, Started>> = {}
  const dirs: string[] = []
  let swarmId = ''

  async function dir (name: string): Promise<string> {
    const d = await tempDataDir(`swarm-${name}`)
    dirs.push(d)
    return d
  }

  async function start (name: Name, dataDir: string, args: string[]): Promise<Started> {
    const daemon = spawnDaemon(dataDir, [...FAST, ...args])
    nodes[name] = { daemon, peerId: '', address: '', dataDir }
    await waitForControl(daemon)
    const peerId = /node (\S+) started/.exec(daemon.output())?.[1] ?? ''
    const address = /listening on (\S+)/.exec(daemon.output())?.[1] ?? ''
    nodes[name] = { daemon, peerId, address, dataDir }
    return nodes[name]
  }

  const peersOf = async (n: Started): Promise<string[]> =>
    (await runCliJson<Array<{ peerId: string }>>(['peers', '--data-dir', n.dataDir])).map(p => p.peerId)

  beforeAll(async () => {
    const [aDir, bDir, xDir, o1Dir, o2Dir] = await Promise.all(['a', 'b', 'x', 'o1', 'o2'].map(dir))
    const port = await freePort()
    // a creates the swarm with its own future address (no /p2p: it is a's own)
    const created = await runCliJson<{ id: string, invite: string, bootstrap: string[], creator: string }>(['swarm', 'create', 'lab', '--bootstrap', `/ip4/127.0.0.1/tcp/${port}`, '--data-dir', aDir])
    swarmId = created.id
    expect(created.bootstrap).toEqual([`/ip4/127.0.0.1/tcp/${port}/p2p/${created.creator}`])
    await runCliJson(['swarm', 'join', created.invite, '--data-dir', bDir])
    // x is in another swarm, also called lab, whose bootstrap list points at a
    await runCliJson(['swarm', 'create', 'lab', '--bootstrap', created.bootstrap[0], '--data-dir', xDir])

    const a = await start('a', aDir, ['--swarm', 'lab', '--listen', `/ip4/127.0.0.1/tcp/${port}`])
    expect(a.peerId).toBe(created.creator)
    // b gets a only from the swarm's bootstrap list; the outsiders dial a directly
    const [, , o1] = await Promise.all([
      start('b', bDir, ['--swarm', 'lab']),
      start('x', xDir, ['--swarm', 'lab', '--verbose']),
      start('o1', o1Dir, ['--bootstrap', a.address, '--verbose'])
    ])
    await start('o2', o2Dir, ['--bootstrap', o1.address, '--bootstrap', a.address, '--verbose'])
  }, 240_000)

  afterAll(async () => {
    await Promise.all(Object.values(nodes).map(async n => { await n.daemon.stop('SIGKILL') }))
    await Promise.all(dirs.map(async d => { await rm(d, { recursive: true, force: true }) }))
  })

  it('members speak the swarm\'s own DHT protocol, named by the swarm id', async () => {
    const shown = await runCliJson<Array<{ name: string, id: string, dhtProtocol: string }>>(['swarm', 'show', '--data-dir', nodes.b!.dataDir])
    expect(shown).toEqual([expect.objectContaining({ name: 'lab', id: swarmId, dhtProtocol: `/idlegrid/${swarmId}/kad/1.0.0` })])
    for (const n of [nodes.a!, nodes.b!]) {
      expect(n.daemon.output()).toContain(`in private swarm "lab" (id ${swarmId}, DHT /idlegrid/${swarmId}/kad/1.0.0)`)
    }
    // the other swarm of the same name has another id, so another DHT
    expect(nodes.x!.daemon.output()).toMatch(/in private swarm "lab" \(id [0-9a-f]{16}, DHT/)
    expect(nodes.x!.daemon.output()).not.toContain(swarmId)
    expect(nodes.o1!.daemon.output()).not.toContain('in private swarm')
  })

  it('two members connect and find each other through the swarm\'s DHT', async () => {
    const { a, b } = nodes as Record<Name, Started>
    await waitFor(async () => (await peersOf(b)).includes(a.peerId) ? true : undefined, 'b to connect to a', 60_000)
    expect(await peersOf(a)).toContain(b.peerId)
    for (const [from, to] of [[b, a], [a, b]]) {
      const found = await waitFor(async () => {
        const list = await runCliJson<Array<{ peerId: string }>>(['find', '--cpu', '1', '--timeout', '5', '--data-dir', from.dataDir])
        return list.some(v => v.peerId === to.peerId) ? list : undefined
      }, `${from.peerId} to find ${to.peerId}`, 60_000, 300)
      expect(found.map(v => v.peerId)).not.toContain(from.peerId)
    }
  })

  /** The outsider's log line saying its dial to `to` ended, once it has. */
  async function dialFailure (from: Started, to: Started): Promise<string> {
    // The dial is bounded (libp2p's per-address dial timeout, 6 s, under the
    // node's 10 s dial timeout), so the line comes; a hang would never write it.
    return await waitFor(async () => from.daemon.output().split('\n').find(l => l.includes(`could not dial bootstrap peer ${to.address}`)),
      `${from.peerId}'s dial to ${to.peerId} to end`, 30_000)
  }

  it('refuses an outsider without the key during the encryption handshake; its dial ends', async () => {
    const { a, b, o1 } = nodes as Record<Name, Started>
    // it got as far as the encryption stage (the port was open) and no further
    expect(await dialFailure(o1, a)).toMatch(/EncryptionFailedError/)
    expect(await peersOf(o1)).not.toContain(a.peerId)
    for (const member of [a, b]) {
      expect(await peersOf(member)).not.toContain(o1.peerId)
    }
  })

  it('refuses a member of another swarm during the encryption handshake; its dial ends', async () => {
    const { a, b, x } = nodes as Record<Name, Started>
    expect(await dialFailure(x, a)).toMatch(/EncryptionFailedError/)
    expect(await peersOf(x)).toEqual([])
    for (const member of [a, b]) {
      expect(await peersOf(member)).not.toContain(x.peerId)
    }
  })

  it('an open-network node finds open volunteers but nothing from the swarm', async () => {
    const { a, b, o1, o2 } = nodes as Record<Name, Started>
    // find works for o2: it finds o1 through the open DHT...
    const found = await waitFor(async () => {
      const list = await runCliJson<Array<{ peerId: string }>>(['find', '--cpu', '1', '--timeout', '5', '--data-dir', o2.dataDir])
      return list.some(v => v.peerId === o1.peerId) ? list : undefined
    }, 'o2 to find o1 in the open network', 60_000, 300)
    // ...but neither member, although o2 was told a's address
    const ids = found.map(v => v.peerId)
    expect(ids).not.toContain(a.peerId)
    expect(ids).not.toContain(b.peerId)
    expect(await peersOf(o2)).not.toContain(a.peerId)
    expect(await peersOf(a)).not.toContain(o2.peerId)
  })
})
