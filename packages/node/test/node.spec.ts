import { createServer } from 'node:net'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { generateKey } from '@libp2p/pnet'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { MAX_MESSAGE_SIZE, PROTOCOL } from '@idlegrid/protocol-capacity'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createNode, dhtProtocol, swarmIdFromKey, toCapacityReportLike } from '../src/index.js'
import type { IdleGridNode, NodeInit } from '../src/index.js'

const machine = { cpuModel: 'Test CPU', cpuCores: 4, totalMemoryMb: 8192, freeMemoryMb: 4096, gpus: [] }
const started: IdleGridNode[] = []

async function node (init: Partial<NodeInit> = {}): Promise<IdleGridNode> {
  const n = await createNode({ privateKey: await generateKeyPair('Ed25519'), machine, dialTimeoutMs: 2000, ...init })
  started.push(n)
  return n
}

async function connected (a: IdleGridNode, b: IdleGridNode): Promise<void> {
  const deadline = Date.now() + 5000
  while (!a.peers().some(p => p.peerId === b.peerId)) {
    if (Date.now() > deadline) throw new Error('nodes did not connect')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

function psk (): Uint8Array {
  const key = new Uint8Array(95)
  generateKey(key)
  return key
}

afterEach(async () => {
  await Promise.allSettled(started.splice(0).map(async n => n.stop()))
})

describe('createNode', () => {
  it('takes its peer id from the key and listens on 127.0.0.1', async () => {
    const key = await generateKeyPair('Ed25519')
    const n = await node({ privateKey: key })
    expect(n.peerId).toBe(peerIdFromPrivateKey(key).toString())
    expect(n.addresses()).toHaveLength(1)
    expect(n.addresses()[0]).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${n.peerId}$`))
  })

  it('speaks IdleGrid\'s own DHT protocol, never the public IPFS one', async () => {
    const n = await node()
    const protocols = n.libp2p.getProtocols()
    expect(n.dhtProtocol).toBe('/idlegrid/kad/1.0.0')
    expect(protocols).toContain('/idlegrid/kad/1.0.0')
    expect(protocols).not.toContain('/ipfs/kad/1.0.0')
    expect(protocols).toContain(PROTOCOL)
  })

  it('refuses bad bootstrap addresses with InvalidMultiaddrError', async () => {
    const privateKey = await generateKeyPair('Ed25519')
    await expect(createNode({ privateKey, machine, bootstrap: ['not-a-multiaddr'] }))
      .rejects.toMatchObject({ name: 'InvalidMultiaddrError', message: expect.stringContaining('not-a-multiaddr') })
    await expect(createNode({ privateKey, machine, bootstrap: ['/ip4/127.0.0.1/tcp/4001'] }))
      .rejects.toMatchObject({ name: 'InvalidMultiaddrError', message: expect.stringContaining('/p2p/') })
  })

  it('reports a taken port as AddressInUseError naming the address', async () => {
    const server = createServer()
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    try {
      const addr = `/ip4/127.0.0.1/tcp/${port}`
      await expect(node({ listen: [addr] }))
        .rejects.toMatchObject({ name: 'AddressInUseError', message: expect.stringContaining(addr) })
    } finally {
      server.close()
    }
  })

  it('refuses limits the machine cannot meet and bad settings', async () => {
    await expect(node({ limits: { maxCores: 5 } })).rejects.toMatchObject({ name: 'ConfigError', message: expect.stringContaining('maxCores') })
    await expect(node({ advertiseIntervalMs: 0 })).rejects.toMatchObject({ name: 'ConfigError' })
    await expect(node({ swarmKey: new TextEncoder().encode('not a key') })).rejects.toMatchObject({ name: 'ConfigError' })
    await expect(node({ livenessIntervalMs: -1 })).rejects.toMatchObject({ name: 'ConfigError', message: expect.stringContaining('livenessIntervalMs') })
  })

  it('tells connected peers about a protocol it starts speaking after they connected (identify-push)', async () => {
    const a = await node()
    const b = await node({ bootstrap: [a.addresses()[0]] })
    await connected(a, b)
    const late = '/idlegrid/test-late/1.0.0'
    const knows = async (): Promise<boolean> => (await a.libp2p.peerStore.get(b.libp2p.peerId)).protocols.includes(late)
    expect(await knows()).toBe(false)

    await b.libp2p.handle(late, stream => { stream.abort(new Error('test handler')) })
    const deadline = Date.now() + 10_000
    while (!await knows()) {
      if (Date.now() > deadline) throw new Error(`${late} never reached the connected peer's peer store`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    expect(a.libp2p.getConnections(b.libp2p.peerId).length).toBeGreaterThan(0)

    await b.libp2p.unhandle(late)
    while (await knows()) {
      if (Date.now() > deadline) throw new Error(`${late} was never withdrawn from the connected peer's peer store`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  })

  it('answers capacity queries with exact figures that follow the slots', async () => {
    const volunteer = await node({ limits: { maxCores: 2, maxMemoryMb: 2000 } })
    const asker = await node({ bootstrap: [volunteer.addresses()[0]] })
    await connected(asker, volunteer)

    const idle = await asker.queryCapacity(volunteer.peerId)
    expect(idle).toEqual(toCapacityReportLike(volunteer.capacity()))
    expect(idle).toMatchObject({ status: 'ok', freeCores: 2, freeMemoryMb: 2000, totalSlots: 2, usedSlots: 0, cpuModel: 'Test CPU', cpuCores: 4 })

    volunteer.slots.acquire(2)
    const full = await asker.queryCapacity(volunteer.peerId)
    expect(full).toMatchObject({ status: 'full', freeCores: 0, freeMemoryMb: 0, usedSlots: 2, reason: 'all slots in use' })
    volunteer.slots.release(2)

    await expect(asker.queryCapacity('not-a-peer-id')).rejects.toMatchObject({ name: 'InvalidInputError' })
  })

  it('withdraws its records when the slots are full and announces them when one frees', async () => {
    const a = await node({ limits: { maxCores: 1 }, advertiseIntervalMs: 60_000 })
    const b = await node({ bootstrap: [a.addresses()[0]] })
    await connected(b, a)
    await a.publishCapacity()

    const events: Array<{ keys: string[], withdrawn: boolean }> = []
    a.addEventListener('capacity:published', evt => events.push(evt.detail))
    a.slots.acquire(1)
    await a.publishCapacity()
    a.slots.release(1)
    await a.publishCapacity()
    expect(events.at(0)).toEqual({ keys: ['idlegrid:cap:cpu', 'idlegrid:cap:gpu'], withdrawn: true })
    expect(events.at(-1)).toEqual({ keys: ['idlegrid:cap:cpu'], withdrawn: false })
  })

  it('coalesces slot changes: a slot taken and freed within the debounce window publishes nothing', async () => {
    const a = await node({ limits: { maxCores: 1 }, advertiseIntervalMs: 60_000, republishDebounceMs: 100 })
    const b = await node({ bootstrap: [a.addresses()[0]] })
    await connected(b, a)
    await a.publishCapacity()

    const events: Array<{ keys: string[], withdrawn: boolean }> = []
    a.addEventListener('capacity:published', evt => events.push(evt.detail))
    a.slots.acquire(1)
    a.slots.release(1)
    // well past the window: an immediate or per-change publish would have fired by now
    await new Promise(resolve => setTimeout(resolve, 500))
    expect(events).toEqual([])

    const published = new Promise<{ keys: string[], withdrawn: boolean }>(resolve => {
      a.addEventListener('capacity:published', evt => { resolve(evt.detail) }, { once: true })
    })
    a.slots.acquire(1)
    // the direct query reads the live slots, not the debounced record
    expect(await b.queryCapacity(a.peerId)).toMatchObject({ status: 'full', usedSlots: 1 })
    expect(await published).toEqual({ keys: ['idlegrid:cap:cpu', 'idlegrid:cap:gpu'], withdrawn: true })
    a.slots.release(1)
    await expect(node({ republishDebounceMs: -1 })).rejects.toMatchObject({ name: 'ConfigError' })
  })

  /**
   * A one-slot volunteer announced to a peer, its slot then taken and (once
   * the withdrawal is out) freed: what it published on the free slot, and
   * its DHT announcements counted from the withdrawal on.
   */
  async function takeAndFree (init: Partial<NodeInit>): Promise<{ a: IdleGridNode, b: IdleGridNode, published: { keys: string[], withdrawn: boolean }, provides: number }> {
    const a = await node({ limits: { maxCores: 1 }, advertiseIntervalMs: 60_000, republishDebounceMs: 50, ...init })
    const b = await node({ bootstrap: [a.addresses()[0]] })
    await connected(b, a)
    await a.publishCapacity()
    const provide = vi.spyOn(a.libp2p.contentRouting, 'provide')
    const next = async (): Promise<{ keys: string[], withdrawn: boolean }> => await new Promise(resolve => {
      a.addEventListener('capacity:published', evt => { resolve(evt.detail) }, { once: true })
    })
    const withdrawn = next()
    a.slots.acquire(1)
    expect(await withdrawn).toEqual({ keys: ['idlegrid:cap:cpu', 'idlegrid:cap:gpu'], withdrawn: true })
    const freed = next()
    a.slots.release(1)
    return { a, b, published: await freed, provides: provide.mock.calls.length }
  }

  it('says a slot freed soon after an announcement is free without DHT messages: the records stored elsewhere still stand', async () => {
    const { a, b, published, provides } = await takeAndFree({})
    expect(published).toEqual({ keys: ['idlegrid:cap:cpu'], withdrawn: false })
    expect(provides).toBe(0)
    // b finds it through the record it stored at the announcement
    const found = await b.find({ cpu: 1 }, { signal: AbortSignal.timeout(5000) })
    expect(found.map(f => f.peerId)).toEqual([a.peerId])
  })

  it('announces a freed slot again when the records stored elsewhere could lapse before the next timed round', async () => {
    // records kept only as long as a round lasts: a free slot must be said again at once
    const { published, provides } = await takeAndFree({ providerTtlMs: 60_000 })
    expect(published).toEqual({ keys: ['idlegrid:cap:cpu'], withdrawn: false })
    expect(provides).toBe(1)
  })

  it('resets a stream that sends an oversized request', async () => {
    const volunteer = await node()
    const asker = await node({ bootstrap: [volunteer.addresses()[0]] })
    await connected(asker, volunteer)

    const stream = await asker.libp2p.dialProtocol(volunteer.libp2p.peerId, PROTOCOL, { signal: AbortSignal.timeout(5000) })
    const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE_SIZE * 4 })
    await lp.write(new Uint8Array(MAX_MESSAGE_SIZE + 1), { signal: AbortSignal.timeout(5000) })
    await expect(lp.read({ signal: AbortSignal.timeout(5000) })).rejects.toThrow()
    // and the volunteer keeps answering well-formed queries
    expect((await asker.queryCapacity(volunteer.peerId)).status).toBe('ok')
  })

  it('runs over the memory transport', async () => {
    const a = await node({ transport: 'memory' })
    const b = await node({ transport: 'memory', bootstrap: [a.addresses()[0]] })
    await connected(b, a)
    expect(a.addresses()[0]).toMatch(/^\/memory\//)
    expect((await b.queryCapacity(a.peerId)).freeCores).toBe(3)
  })
})

describe('private swarm', () => {
  it('derives its own DHT protocol id from the swarm key', () => {
    const key = psk()
    const id = swarmIdFromKey(key)
    expect(id).toMatch(/^[0-9a-f]{16}$/)
    expect(dhtProtocol(key)).toBe(`/idlegrid/${id}/kad/1.0.0`)
    expect(swarmIdFromKey(psk())).not.toBe(id)
  })

  it('connects members and keeps outsiders out', async () => {
    const key = psk()
    const a = await node({ swarmKey: key })
    const b = await node({ swarmKey: key, bootstrap: [a.addresses()[0]] })
    await connected(b, a)
    expect(a.libp2p.getProtocols()).toContain(dhtProtocol(key))
    expect(a.libp2p.getProtocols()).not.toContain('/idlegrid/kad/1.0.0')
    expect((await b.queryCapacity(a.peerId)).status).toBe('ok')

    const outsider = await node({ dialTimeoutMs: 1000 })
    await expect(outsider.libp2p.dial(a.libp2p.getMultiaddrs()[0], { signal: AbortSignal.timeout(1500) })).rejects.toThrow()
    const stranger = await node({ swarmKey: psk(), dialTimeoutMs: 1000 })
    await expect(stranger.libp2p.dial(a.libp2p.getMultiaddrs()[0], { signal: AbortSignal.timeout(1500) })).rejects.toThrow()
    expect(a.peers().map(p => p.peerId)).toEqual([b.peerId])
  })
})
