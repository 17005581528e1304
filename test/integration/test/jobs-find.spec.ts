// The submitter's DHT walk for volunteers of a new job: at once when no
// volunteer holds a session, and put off to the next announce round when
// volunteers holding sessions already took the job's first tasks.
import { startNode, waitFor } from '@idlegrid/test-utils'
import { createSubmitter } from '@idlegrid/jobs'
import { SessionClient } from '@idlegrid/worker'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { fixtureBundle, testScope } from './jobs-harness.js'
import type { SubmitterSide } from './jobs-harness.js'
import type { Offer } from '@idlegrid/protocol-work'

const { dir, defer } = testScope('idlegrid-find-')

/** A submitter on a real node whose DHT finds are counted (and still run). */
async function countingSubmitter (announceIntervalMs: number): Promise<{ side: SubmitterSide, finds: number[] }> {
  const key = await generateKeyPair('Ed25519')
  const node = await startNode({ privateKey: key, bootstrap: [], limits: { maxCores: 1 } })
  defer(async () => { await node.stop() })
  const finds: number[] = []
  const counted = {
    peerId: node.peerId,
    libp2p: node.libp2p,
    find: async (...args: Parameters<typeof node.find>) => {
      finds.push(Date.now())
      return await node.find(...args)
    }
  }
  const submitter = await createSubmitter({ node: counted, dbPath: join(await dir(), 'jobs.db'), announceIntervalMs, leaseMarginMs: 2000 })
  defer(async () => { await submitter.stop() })
  return { side: { node, key, submitter, stop: async () => { await submitter.stop() } }, finds }
}

describe('the DHT walk for a new job', { timeout: 30_000 }, () => {
  it('starts at once when no volunteer holds a session', async () => {
    const { side, finds } = await countingSubmitter(60_000)
    const bundle = await fixtureBundle(side)
    await side.submitter.submit({ signedBundle: bundle, inputs: [{ n: 1 }] })
    await waitFor(() => finds.length > 0, { timeoutMs: 10_000, message: 'a DHT walk for the job' })
  })

  it('waits for the next announce round when volunteers holding sessions took its first tasks, and walks then if tasks still wait', async () => {
    const { side, finds } = await countingSubmitter(2_000)
    const peer = await startNode({ bootstrap: [side.node.addresses()[0]] })
    defer(async () => { await peer.stop() })
    const offers: Offer[] = []
    const session = new SessionClient(peer.libp2p, peerIdFromString(side.node.peerId), { onOffer: offer => { offers.push(offer) } })
    defer(async () => { session.close() })
    const bundle = await fixtureBundle(side)
    // a standing Ready: the job's first two tasks go out in the message that tells of it
    await session.notify({ ready: { maxTasks: 2, cores: 2 } })
    // the session's messages are handled in order: once this is answered, the Ready stands
    await session.deliver({ requestId: 0, taskId: 'no-such-job:0', attempt: 1, records: [{ value: new TextEncoder().encode('1') }], cpuMs: 1, wallMs: 1 })
    const jobId = await side.submitter.submit({ signedBundle: bundle, inputs: [{ n: 1 }, { n: 2 }, { n: 3 }] })
    await waitFor(() => offers.some(o => o.work?.jobId === jobId), { timeoutMs: 10_000, message: 'an offer of the job' })
    // well past the walk's 200 ms delay: the session took tasks, so no walk yet
    await sleep(900)
    expect(finds).toEqual([])
    // a task still waits: the next announce round walks
    await waitFor(() => finds.length > 0, { timeoutMs: 10_000, message: 'the DHT walk of the next announce round' })
    expect(side.submitter.job(jobId).tasks).toMatchObject({ total: 3, leased: 2, pending: 1 })
  })
})
