// Foundation: real nodes on 127.0.0.1 TCP find volunteers through IdleGrid's
// own DHT and read their capacity over the direct query protocol.
import { toCapacityReportLike } from '@idlegrid/node'
import { FAST_DHT, startNode, startNodes, stopNodes, testMachine, waitFor } from '@idlegrid/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { IdleGridNode } from '@idlegrid/node'

describe('discovery through the DHT', () => {
  let line: IdleGridNode[] = []
  let late: IdleGridNode | undefined
  let volunteer: IdleGridNode

  beforeAll(async () => {
    // five nodes in a line, each joined only to the previous one; only the
    // first (the far end) gives more than one core
    line = await startNodes(5, {
      topology: 'line',
      perNode: i => ({ limits: { maxCores: i === 0 ? 3 : 1 } })
    })
    volunteer = line[0]
    late = await startNode({ bootstrap: [line[4].addresses()[0]] })
    await waitFor(() => late?.peers().some(p => p.peerId === line[4].peerId), { message: 'late joiner to connect to the last node' })
  })

  afterAll(async () => {
    await stopNodes([...line, late])
  })

  it('a late joiner connected to one node finds a distant volunteer and reads its exact capacity', async () => {
    const joiner = late as IdleGridNode
    // make sure the volunteer's record has been announced since the joiner arrived
    await volunteer.publishCapacity()

    const target = volunteer.libp2p.peerId
    // right after start the routing tables are still filling, so the first
    // announcements may miss some nodes; the 250 ms refresh fixes that, hence
    // several tries. Each try starts unconnected to the volunteer: one that
    // finds it connected again right after the hang-up (the DHT's refresh
    // may dial it at once) is not made, and the next one tries again.
    let elapsed = 0
    let finds = 0
    const found = await waitFor(async () => {
      await joiner.libp2p.hangUp(target)
      if (joiner.libp2p.getConnections(target).length > 0 || joiner.peers().some(p => p.peerId === volunteer.peerId)) {
        return undefined
      }
      finds++
      const started = performance.now()
      const peers = await joiner.find({ cpu: 2 }, { signal: AbortSignal.timeout(10_000) })
      elapsed = performance.now() - started
      return peers.length > 0 ? peers : undefined
    }, { timeoutMs: 25_000, message: 'the late joiner to find the volunteer, unconnected to it when each find starts' })
    // a figure for the report, never asserted
    console.info(`DHT find + capacity query among 6 nodes: ${elapsed.toFixed(1)} ms (find ${finds})`)

    expect(found.map(p => p.peerId)).toEqual([volunteer.peerId])
    const expected = toCapacityReportLike(volunteer.capacity())
    expect(found[0].capacity).toEqual(expected)
    expect(found[0].capacity.freeCores).toBe(3)
    expect(found[0].capacity.totalSlots).toBe(3)
    expect(found[0].addresses.length).toBeGreaterThan(0)

    // and the direct query on its own says the same
    expect(await joiner.queryCapacity(volunteer.peerId)).toEqual(expected)
  })

  it('lists every volunteer that fits a smaller request, never itself', async () => {
    const joiner = late as IdleGridNode
    const everyone = line.map(n => n.peerId).sort()
    const found = await waitFor(async () => {
      const peers = await joiner.find({ cpu: 1 }, { signal: AbortSignal.timeout(10_000) })
      return peers.length === everyone.length ? peers : undefined
    }, { timeoutMs: 20_000, message: 'all five volunteers to be found' })
    expect(found.map(p => p.peerId).sort()).toEqual(everyone)
    expect(found.map(p => p.peerId)).not.toContain(joiner.peerId)

    const limited = await joiner.find({ cpu: 1 }, { limit: 2, signal: AbortSignal.timeout(10_000) })
    expect(limited).toHaveLength(2)

    // peers the caller reached another way are left out, and do not count towards the limit
    const skip = new Set(everyone.slice(0, 2))
    for (const limit of [undefined, 3]) {
      // a walk may miss a provider (as above): ask until all three are listed
      const rest = await waitFor(async () => {
        const peers = await joiner.find({ cpu: 1 }, { skip, limit, signal: AbortSignal.timeout(10_000) })
        return peers.length >= everyone.length - skip.size ? peers : undefined
      }, { timeoutMs: 20_000, message: `the three other volunteers (limit ${String(limit)})` })
      expect(rest.map(p => p.peerId).sort()).toEqual(everyone.slice(2))
    }

    expect(await joiner.find({ cpu: 1, memoryMb: 1_000_000 }, { signal: AbortSignal.timeout(10_000) })).toEqual([])
  })

  it('a volunteer whose slots are full is withdrawn, then found again when a slot frees', async () => {
    const joiner = late as IdleGridNode
    const withdrawn = new Promise<boolean>(resolve => {
      volunteer.addEventListener('capacity:published', evt => { if (evt.detail.withdrawn) resolve(true) })
    })
    expect(volunteer.slots.acquire(3)).toBe(true)
    expect(await withdrawn).toBe(true)
    expect(volunteer.capacity().freeCores).toBe(0)

    // the records stored on other nodes lapse after their TTL and are not renewed
    await waitFor(async () => !(await joiner.providers('cpu', { signal: AbortSignal.timeout(5000) })).includes(volunteer.peerId), {
      timeoutMs: 15_000,
      message: 'the full volunteer to disappear from the DHT'
    })
    const found = await joiner.find({ cpu: 1 }, { signal: AbortSignal.timeout(10_000) })
    expect(found.map(p => p.peerId)).not.toContain(volunteer.peerId)

    // a direct query still answers, with status full
    const full = await joiner.queryCapacity(volunteer.peerId)
    expect(full.status).toBe('full')
    expect(full.usedSlots).toBe(3)

    volunteer.slots.release(1)
    const again = await waitFor(async () => {
      const peers = await joiner.find({ cpu: 1 }, { signal: AbortSignal.timeout(5000) })
      return peers.find(p => p.peerId === volunteer.peerId)
    }, { timeoutMs: 15_000, message: 'the volunteer to be found again' })
    expect(again.capacity.freeCores).toBe(1)
    expect(again.capacity.usedSlots).toBe(2)
    volunteer.slots.release(2)
  })
})

describe('stale provider records', () => {
  let nodes: IdleGridNode[] = []

  afterAll(async () => {
    await stopNodes(nodes)
  })

  it('a record that outlives its node does not break find: the silent peer is dropped', async () => {
    // long TTL so the silent node's record is certainly still in the DHT
    nodes = await startNodes(4, {
      topology: 'tree',
      init: { ...FAST_DHT, providerTtlMs: 120_000, machine: testMachine() }
    })
    const [asker, , , gone] = nodes
    const goneId = gone.peerId
    const listsGone = async (): Promise<boolean> => (await asker.providers('cpu', { signal: AbortSignal.timeout(5000) })).includes(goneId)
    await waitFor(listsGone, { timeoutMs: 15_000, message: 'the record of the node that will go silent' })
    const live = [nodes[1].peerId, nodes[2].peerId].sort()

    // Silent first: the node keeps its connections and its DHT record (so
    // the record is certainly listed) but no longer answers capacity queries,
    // as a daemon whose node hangs would not.
    await gone.libp2p.unhandle('/idlegrid/capacity/1.0.0')
    expect(await listsGone()).toBe(true)
    // a walk may miss a live provider now and then (as in the tests above):
    // ask until both are listed; the silent one must never be
    const listed = new Set<string>()
    const findLive = async (message: string): Promise<string[]> => await waitFor(async () => {
      const peers = (await asker.find({ cpu: 1 }, { signal: AbortSignal.timeout(15_000) })).map(p => p.peerId)
      peers.forEach(id => listed.add(id))
      return peers.length >= live.length ? peers.sort() : undefined
    }, { timeoutMs: 15_000, message })
    expect(await findLive('both live volunteers while one is silent')).toEqual(live)
    expect(listed.has(goneId)).toBe(false)

    // Then gone: its record may linger in the DHT for its TTL (or be dropped
    // by peers that forgot its addresses); either way find lists the live ones.
    await gone.stop()
    expect(await findLive('both live volunteers after one is gone')).toEqual(live)
    expect(listed.has(goneId)).toBe(false)
  }, 60_000)
})

describe('GPU capability', () => {
  let nodes: IdleGridNode[] = []

  afterAll(async () => {
    await stopNodes(nodes)
  })

  it('finds only volunteers that share a GPU, with its model', async () => {
    const gpus = [{ model: 'NVIDIA L4', memoryMb: 23034, vendor: 'NVIDIA' }]
    nodes = await startNodes(4, {
      topology: 'star',
      perNode: i => i === 1
        ? { machine: testMachine({ gpus }), limits: { shareGpu: true } }
        : i === 2 ? { machine: testMachine({ gpus }), limits: { shareGpu: false } } : {}
    })
    const asker = nodes[3]

    const found = await waitFor(async () => {
      const peers = await asker.find({ gpu: true }, { signal: AbortSignal.timeout(10_000) })
      return peers.length > 0 ? peers : undefined
    }, { timeoutMs: 20_000, message: 'the GPU volunteer to be found' })
    expect(found.map(p => p.peerId)).toEqual([nodes[1].peerId])
    expect(found[0].capacity).toMatchObject({ freeGpus: 1, gpuModels: ['NVIDIA L4'] })
    expect(await asker.providers('gpu', { signal: AbortSignal.timeout(5000) })).toEqual([nodes[1].peerId])
  })
})
