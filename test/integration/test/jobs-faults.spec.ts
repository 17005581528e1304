// Faults around the work protocols with real nodes, sandbox and SQLite: a
// volunteer stopping mid-task, a peer reporting work it was never leased,
// garbage on the wire, and a submitter that is offline when a result is ready.
import { startNode, tempDir, waitFor } from '@idlegrid/test-utils'
import { peerIdFromString } from '@libp2p/peer-id'
import { afterEach, describe, expect, it } from 'vitest'
import { ANNOUNCE_PROTOCOL, SESSION_PROTOCOL } from '@idlegrid/protocol-work'
import { SessionClient } from '@idlegrid/worker'
import { allResults, fixtureBundle, startSubmitter, startVolunteer } from './jobs-harness.js'
import type { SubmitterSide, Volunteer } from './jobs-harness.js'
import type { IdleGridNode } from '@idlegrid/node'
import type { TempDir } from '@idlegrid/test-utils'

const json = (v: unknown): Uint8Array<ArrayBuffer> => new TextEncoder().encode(JSON.stringify(v))

describe('jobs: faults', () => {
  let dirs: TempDir[] = []
  let sides: SubmitterSide[] = []
  let volunteers: Volunteer[] = []
  let others: IdleGridNode[] = []

  async function dir (): Promise<string> {
    const d = await tempDir('idlegrid-jobs-')
    dirs.push(d)
    return d.path
  }

  afterEach(async () => {
    await Promise.allSettled(volunteers.map(async v => { await v.stop() }))
    await Promise.allSettled(sides.map(async s => { await s.stop() }))
    await Promise.allSettled(others.map(async n => { await n.stop() }))
    await Promise.allSettled(dirs.map(async d => { await d.remove() }))
    dirs = []
    sides = []
    volunteers = []
    others = []
  })

  it('a task whose volunteer stops mid-run resumes elsewhere from its last checkpoint', async () => {
    const side = await startSubmitter(await dir())
    sides.push(side)
    const first = await startVolunteer(await dir(), side.node.addresses()[0])
    volunteers.push(first)
    let checkpoints = 0
    side.submitter.addEventListener('task:checkpoint', () => { checkpoints++ })
    const requeued = new Promise(resolve => { side.submitter.addEventListener('task:requeued', resolve, { once: true }) })
    const jobId = await side.submitter.submit({ signedBundle: await fixtureBundle(side), inputs: [{ n: 6, steps: 24, stepMs: 100 }] })

    await waitFor(() => checkpoints >= 3, { timeoutMs: 20_000, message: 'three checkpoints stored' })
    await first.stop()
    await requeued
    const second = await startVolunteer(await dir(), side.node.addresses()[0])
    volunteers.push(second)

    const [result] = await allResults(side.submitter, jobId) as Array<{ square: number, resumedAt: number, attempt: number }>
    expect(result.square).toBe(36)
    expect(result.attempt).toBe(2)
    expect(result.resumedAt).toBeGreaterThanOrEqual(3)
    expect(result.resumedAt).toBeLessThan(24)
    expect(side.submitter.job(jobId).volunteers).toEqual([expect.objectContaining({ peerId: second.node.peerId, tasks: 1 })])
  })

  it('refuses a result for a task the sender was never leased, and changes nothing', async () => {
    const side = await startSubmitter(await dir())
    sides.push(side)
    const jobId = await side.submitter.submit({ signedBundle: await fixtureBundle(side), inputs: [{ n: 1 }] })
    const intruder = await startNode({ bootstrap: [side.node.addresses()[0]] })
    others.push(intruder)
    const before = side.submitter.job(jobId)

    const session = new SessionClient(intruder.libp2p, peerIdFromString(side.node.peerId))
    const ack = await session.deliver({ requestId: 0, taskId: `${jobId}:0`, attempt: 1, records: [{ value: json(1) }], cpuMs: 1, wallMs: 1 })
    expect(ack).toMatchObject({ status: 'REFUSED', reason: expect.stringContaining('was not leased') })
    const lease = await session.lease({ jobId: 'no-such-job', maxTasks: 1 })
    expect(lease).toMatchObject({ status: 'REFUSED', reason: expect.stringContaining('no job no-such-job') })
    session.close()
    expect(side.submitter.job(jobId)).toEqual(before)
  })

  it('resets a stream that carries garbage; the submitter and the volunteer keep working', async () => {
    const side = await startSubmitter(await dir())
    sides.push(side)
    const jobId = await side.submitter.submit({ signedBundle: await fixtureBundle(side), inputs: [{ n: 2 }] })
    const intruder = await startNode({ bootstrap: [side.node.addresses()[0]] })
    others.push(intruder)
    const before = side.submitter.job(jobId)
    const submitterPeer = peerIdFromString(side.node.peerId)

    const garbage = [
      Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]), // a length prefix far over the limit
      Uint8Array.from([0x04, 0xff, 0xff, 0xff, 0xff]) // a small frame that is not a WorkerMessage
    ]
    for (const bytes of garbage) {
      const stream = await intruder.libp2p.dialProtocol(submitterPeer, SESSION_PROTOCOL, { signal: AbortSignal.timeout(5000) })
      stream.send(bytes)
      await waitFor(() => stream.status !== 'open', { timeoutMs: 5000, message: 'the submitter to reset the stream' })
      expect(stream.status).toBe('reset')
    }
    expect(side.submitter.job(jobId)).toEqual(before)

    // a volunteer's announce handler resets garbage too, then still takes work
    const volunteer = await startVolunteer(await dir(), side.node.addresses()[0])
    volunteers.push(volunteer)
    const toVolunteer = await intruder.libp2p.dialProtocol(volunteer.node.libp2p.getMultiaddrs()[0], ANNOUNCE_PROTOCOL, { signal: AbortSignal.timeout(5000) })
    toVolunteer.send(garbage[0])
    await waitFor(() => toVolunteer.status !== 'open', { timeoutMs: 5000, message: 'the volunteer to reset the stream' })
    expect(toVolunteer.status).toBe('reset')
    expect(await allResults(side.submitter, jobId)).toEqual([{ n: 2, square: 4, resumedAt: null, attempt: 1 }])
  })

  it('keeps a result in the outbox while the submitter is offline and delivers it when it returns', async () => {
    const submitterDir = await dir()
    const side = await startSubmitter(submitterDir)
    sides.push(side)
    const volunteer = await startVolunteer(await dir(), side.node.addresses()[0])
    volunteers.push(volunteer)
    const started = new Promise(resolve => { volunteer.worker.addEventListener('task:start', resolve, { once: true }) })
    const jobId = await side.submitter.submit({ signedBundle: await fixtureBundle(side), inputs: [{ n: 9, steps: 20, stepMs: 100 }] })

    await started
    await side.stop()
    await waitFor(() => volunteer.worker.outboxSize() === 1, { timeoutMs: 20_000, message: 'the result to wait in the outbox' })

    const acked = new Promise<any>(resolve => {
      volunteer.worker.addEventListener('result:acked', evt => { if (evt.detail.attempt === 1) resolve(evt.detail) })
    })
    const back = await startSubmitter(submitterDir, { key: side.key, bootstrap: [volunteer.node.addresses()[0]] })
    sides.push(back)
    expect(await acked).toMatchObject({ taskId: `${jobId}:0`, status: 'ACCEPTED' })
    expect(await allResults(back.submitter, jobId)).toEqual([{ n: 9, square: 81, resumedAt: null, attempt: 1 }])
    expect(volunteer.worker.outboxSize()).toBe(0)
  })
})
