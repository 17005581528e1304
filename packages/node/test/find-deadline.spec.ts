// find() with a deadline: it returns the volunteers that answered in time
// while a provider that never answers is still being asked, where a plain
// abort signal fails the whole find.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { PROTOCOL, TIMEOUT } from '@idlegrid/protocol-capacity'
import { afterEach, describe, expect, it } from 'vitest'
import { createNode } from '../src/index.js'
import type { IdleGridNode, NodeInit } from '../src/index.js'
import type { Stream } from '@libp2p/interface'

const machine = { cpuModel: 'Test CPU', cpuCores: 4, totalMemoryMb: 8192, freeMemoryMb: 4096, gpus: [] }
const started: IdleGridNode[] = []

async function node (init: Partial<NodeInit> = {}): Promise<IdleGridNode> {
  const n = await createNode({ privateKey: await generateKeyPair('Ed25519'), machine, dialTimeoutMs: 2000, ...init })
  started.push(n)
  return n
}

async function until<T> (check: () => Promise<T | undefined>, message: string): Promise<T> {
  const deadline = Date.now() + 15_000
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${message}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** A volunteer listed in the DHT whose capacity handler reads the request and never answers. */
async function silentVolunteer (bootstrap: string): Promise<{ node: IdleGridNode, streams: Stream[] }> {
  const n = await node({ bootstrap: [bootstrap] })
  const streams: Stream[] = []
  await n.libp2p.unhandle(PROTOCOL)
  await n.libp2p.handle(PROTOCOL, (stream) => { streams.push(stream) })
  await n.publishCapacity()
  return { node: n, streams }
}

/** Waits until the asker's DHT lists every one of `peers` as a cpu provider. */
async function listed (asker: IdleGridNode, peers: IdleGridNode[]): Promise<void> {
  await until(async () => {
    const providers: string[] = await asker.providers('cpu', { signal: AbortSignal.timeout(5000) }).catch(() => [])
    return peers.every(p => providers.includes(p.peerId)) ? true : undefined
  }, 'the DHT to list every volunteer')
}

afterEach(async () => {
  await Promise.allSettled(started.splice(0).map(async n => n.stop()))
})

describe('find with a deadline', () => {
  it('returns the volunteers that answered while another is still being asked', async () => {
    const asker = await node()
    const fast = await node({ bootstrap: [asker.addresses()[0]] })
    const silent = await silentVolunteer(asker.addresses()[0])
    await fast.publishCapacity()
    await listed(asker, [fast, silent.node])

    // The silent query only gives up after TIMEOUT, later than this signal
    // fires, so without the deadline this find would reject.
    const found = await asker.find({ cpu: 1 }, { deadlineMs: TIMEOUT / 2, signal: AbortSignal.timeout(TIMEOUT) })
    expect(found.map(p => p.peerId)).toEqual([fast.peerId])
    expect(found[0].capacity.status).toBe('ok')
    // the silent volunteer was asked: the deadline, not the walk, ended the find
    expect(silent.streams.length).toBeGreaterThan(0)
  })

  it('returns an empty list at the deadline where an abort signal throws', async () => {
    const asker = await node()
    const silent = await silentVolunteer(asker.addresses()[0])
    await listed(asker, [silent.node])

    await expect(asker.find({ cpu: 1 }, { signal: AbortSignal.timeout(TIMEOUT / 4) }))
      .rejects.toMatchObject({ name: 'TimeoutError' })
    expect(await asker.find({ cpu: 1 }, { deadlineMs: TIMEOUT / 4, signal: AbortSignal.timeout(TIMEOUT) })).toEqual([])
    expect(silent.streams.length).toBeGreaterThan(0)
  })

  it('still throws when the caller aborts before the deadline', async () => {
    const asker = await node()
    const controller = new AbortController()
    controller.abort(new Error('caller gave up'))
    await expect(asker.find({ cpu: 1 }, { deadlineMs: 1000, signal: controller.signal }))
      .rejects.toThrow('caller gave up')
  })

  it('refuses a deadline or limit that is not a positive number', async () => {
    const asker = await node()
    for (const deadlineMs of [0, -5, Number.NaN, Infinity]) {
      await expect(asker.find({ cpu: 1 }, { deadlineMs })).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringContaining('deadlineMs') })
    }
    await expect(asker.find({ cpu: 1 }, { limit: 0 })).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringContaining('limit') })
  })
})
