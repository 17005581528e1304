// Work pushed on an open session: a volunteer that already holds a session
// with a submitter hears of its next job on that session, with no announce
// stream and no announce round (the round trip of a small job on a warm swarm).
import { startNode, waitFor } from '@idlegrid/test-utils'
import { SessionClient } from '@idlegrid/worker'
import { peerIdFromString } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { fixtureBundle, startSubmitter, testScope } from './jobs-harness.js'
import type { SubmitterSide } from './jobs-harness.js'
import type { SignedBundle } from '@idlegrid/bundle'
import type { Announce, Offer } from '@idlegrid/protocol-work'

const { dir, defer } = testScope('idlegrid-push-')

/**
 * A submitter with a one-task job, and a bare node (it speaks the session
 * protocol only, so an announce stream to it fails) with a session client
 * to it that keeps what is pushed and offered on the session.
 */
async function sessionWithJob (): Promise<{ side: SubmitterSide, bundle: SignedBundle, first: string, session: SessionClient, pushed: Announce[], offers: Offer[] }> {
  const side = await startSubmitter(await dir(), { announceIntervalMs: 60_000 })
  defer(side.stop)
  const peer = await startNode({ bootstrap: [side.node.addresses()[0]] })
  defer(async () => { await peer.stop() })
  const bundle = await fixtureBundle(side)
  const first = await side.submitter.submit({ signedBundle: bundle, inputs: [{ n: 1 }] })
  const pushed: Announce[] = []
  const offers: Offer[] = []
  const session = new SessionClient(peer.libp2p, peerIdFromString(side.node.peerId), { onWork: work => { pushed.push(work) }, onOffer: offer => { offers.push(offer) } })
  defer(async () => { session.close() })
  return { side, bundle, first, session, pushed, offers }
}

describe('work pushed on a session', { timeout: 30_000 }, () => {
  it('tells a peer with an open session of each new job, where announce streams cannot reach it', async () => {
    const { side, bundle, first, session, pushed } = await sessionWithJob()
    // the lease opens the session
    expect((await session.lease({ jobId: first, maxTasks: 1 })).status).toBe('GRANTED')

    const second = await side.submitter.submit({ signedBundle: bundle, inputs: [{ n: 2 }, { n: 3 }] })
    await waitFor(() => pushed.some(w => w.jobId === second), { timeoutMs: 10_000, message: 'the second job pushed on the session' })
    expect(pushed.find(w => w.jobId === second)).toMatchObject({ bundleId: bundle.id, pendingTasks: 2, requirements: { timeoutMs: 20_000 } })
    expect(side.submitter.refusals(second)).toEqual([])
    expect((await session.lease({ jobId: second, maxTasks: 5 })).tasks).toHaveLength(2)
  })

  it('answers a standing Ready with an Offer: the new job and its tasks in one message, no push and no lease request', async () => {
    const { side, bundle, first, session, pushed, offers } = await sessionWithJob()
    // the only task of the job: the answer says nothing is left, so the volunteer need not ask again
    const lease = await session.lease({ jobId: first, maxTasks: 1 })
    expect(lease).toMatchObject({ status: 'GRANTED', remaining: 0 })

    await session.notify({ ready: { maxTasks: 2, cores: 2 } })
    // the session's messages are handled in order: once this is answered, the Ready stands
    const done = await session.deliver({ requestId: 0, taskId: lease.tasks[0].taskId, attempt: lease.tasks[0].attempt, records: [{ value: new TextEncoder().encode('{"n":1}') }], cpuMs: 1, wallMs: 1 })
    expect(done.status).toBe('ACCEPTED')
    const second = await side.submitter.submit({ signedBundle: bundle, inputs: [{ n: 2 }, { n: 3 }, { n: 4 }] })
    await waitFor(() => offers.length > 0, { timeoutMs: 10_000, message: 'an offer of the second job' })
    const [offer] = offers
    expect(offer.work).toMatchObject({ jobId: second, bundleId: bundle.id, pendingTasks: 3 })
    expect(offer.tasks.map(t => t.taskId)).toEqual([`${second}:0`, `${second}:1`])
    // a third task waits for a lease: the offer says so (a count, below 8)
    expect(offer.remaining).toBe(1)
    expect(pushed.map(w => w.jobId)).not.toContain(second)

    // offered tasks are leased like any other: their results are taken
    const ack = await session.deliver({ requestId: 0, taskId: offer.tasks[0].taskId, attempt: offer.tasks[0].attempt, records: [{ value: new TextEncoder().encode('{"n":2}') }], cpuMs: 1, wallMs: 1 })
    expect(ack.status).toBe('ACCEPTED')
    // the Ready was used up: a third job is pushed, not offered
    const third = await side.submitter.submit({ signedBundle: bundle, inputs: [{ n: 5 }] })
    await waitFor(() => pushed.some(w => w.jobId === third), { timeoutMs: 10_000, message: 'the third job pushed' })
    expect(offers).toHaveLength(1)

    // a Ready that arrives while a job has tasks waiting is answered at once, with what is left for it
    await session.notify({ ready: { maxTasks: 4, cores: 4 } })
    await waitFor(() => offers.length === 2, { timeoutMs: 10_000, message: 'an offer answering the second Ready' })
    expect(offers[1].tasks.map(t => t.taskId)).toEqual([`${second}:2`])
    expect(offers[1].remaining).toBe(0)
  })
})
