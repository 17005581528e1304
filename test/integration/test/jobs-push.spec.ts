// Work pushed on an open session: a volunteer that already holds a session
// with a submitter hears of its next job on that session, with no announce
// stream and no announce round (the round trip of a small job on a warm swarm).
import { startNode, waitFor } from '@idlegrid/test-utils'
import { SessionClient } from '@idlegrid/worker'
import { peerIdFromString } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { fixtureBundle, startSubmitter, testScope } from './jobs-harness.js'
import type { Announce } from '@idlegrid/protocol-work'

const { dir, defer } = testScope('idlegrid-push-')

describe('work pushed on a session', { timeout: 30_000 }, () => {
  it('tells a peer with an open session of each new job, where announce streams cannot reach it', async () => {
    const side = await startSubmitter(await dir(), { announceIntervalMs: 60_000 })
    defer(side.stop)
    // a bare node: it speaks the session protocol only, so an announce stream to it fails
    const peer = await startNode({ bootstrap: [side.node.addresses()[0]] })
    defer(async () => { await peer.stop() })
    const bundle = await fixtureBundle(side)
    const first = await side.submitter.submit({ signedBundle: bundle, inputs: [{ n: 1 }] })

    const pushed: Announce[] = []
    const session = new SessionClient(peer.libp2p, peerIdFromString(side.node.peerId), { onWork: work => { pushed.push(work) } })
    defer(async () => { session.close() })
    // the lease opens the session
    expect((await session.lease({ jobId: first, maxTasks: 1 })).status).toBe('GRANTED')

    const second = await side.submitter.submit({ signedBundle: bundle, inputs: [{ n: 2 }, { n: 3 }] })
    await waitFor(() => pushed.some(w => w.jobId === second), { timeoutMs: 10_000, message: 'the second job pushed on the session' })
    expect(pushed.find(w => w.jobId === second)).toMatchObject({ bundleId: bundle.id, pendingTasks: 2, requirements: { timeoutMs: 20_000 } })
    expect(side.submitter.refusals(second)).toEqual([])
    expect((await session.lease({ jobId: second, maxTasks: 5 })).tasks).toHaveLength(2)
  })
})
