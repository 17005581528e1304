// A submitter and two volunteers on 127.0.0.1 run jobs end to end through the
// work protocols, the real sandbox and real SQLite files.
import { tempDir, waitFor } from '@idlegrid/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { allResults, fixtureBundle, startSubmitter, startVolunteer } from './jobs-harness.js'
import type { SubmitterSide, Volunteer } from './jobs-harness.js'
import type { TempDir } from '@idlegrid/test-utils'

describe('jobs: submitter and volunteers', () => {
  let dirs: TempDir[] = []
  let side: SubmitterSide | undefined
  let volunteers: Volunteer[] = []

  async function dir (): Promise<string> {
    const d = await tempDir('idlegrid-jobs-')
    dirs.push(d)
    return d.path
  }

  afterEach(async () => {
    await Promise.allSettled(volunteers.map(async v => { await v.stop() }))
    await side?.stop()
    await Promise.allSettled(dirs.map(async d => { await d.remove() }))
    dirs = []
    volunteers = []
    side = undefined
  })

  it('runs a job on two volunteers; every result is correct and in input order', async () => {
    side = await startSubmitter(await dir())
    const address = side.node.addresses()[0]
    volunteers = await Promise.all([startVolunteer(await dir(), address), startVolunteer(await dir(), address)])
    const inputs = Array.from({ length: 12 }, (_, n) => ({ n }))
    const jobId = await side.submitter.submit({ signedBundle: await fixtureBundle(side), inputs })

    const results = await allResults(side.submitter, jobId)
    // a task leased ahead and given back unrun at the end of the job (the
    // end game) runs on its next lease, attempt 2; nothing failed
    expect(results).toEqual(inputs.map(({ n }) => ({ n, square: n * n, resumedAt: null, attempt: expect.any(Number) })))
    expect((results as Array<{ attempt: number }>).every(r => r.attempt === 1 || r.attempt === 2), JSON.stringify(results)).toBe(true)
    const info = await side.submitter.done(jobId, { signal: AbortSignal.timeout(5000) })
    expect(info).toMatchObject({ state: 'done', records: { total: 12, ok: 12, failed: 0 }, tasks: { total: 12, done: 12 } })
    expect(info.failures).toEqual([])
    const volunteerIds = volunteers.map(v => v.node.peerId)
    expect(info.volunteers.reduce((n, v) => n + v.records, 0)).toBe(12)
    for (const share of info.volunteers) {
      expect(volunteerIds).toContain(share.peerId)
    }
    // slots go back once the work is done, so capacity advertisements follow
    await waitFor(() => volunteers.every(v => v.node.slots.used === 0), { message: 'slots released' })
  })

  it('streams the last result before job:ended and job:done go out (its info is a dozen queries)', async () => {
    side = await startSubmitter(await dir())
    volunteers = [await startVolunteer(await dir(), side.node.addresses()[0])]
    const submitter = side.submitter
    const jobId = await submitter.submit({ signedBundle: await fixtureBundle(side), inputs: [{ n: 3 }] })
    let streamed = 0
    const ended = new Promise<{ streamed: number, summary: unknown }>(resolve => {
      submitter.addEventListener('job:ended', evt => { if (evt.detail.id === jobId) resolve({ streamed, summary: evt.detail }) })
    })
    const done = new Promise<{ streamed: number, state: string, volunteers: number }>(resolve => {
      submitter.addEventListener('job:done', evt => { if (evt.detail.id === jobId) resolve({ streamed, state: evt.detail.state, volunteers: evt.detail.volunteers.length }) })
    })
    for await (const result of submitter.completed(jobId)) {
      expect(result).toMatchObject({ index: 0, value: { n: 3, square: 9 } })
      streamed++
    }
    expect(await done).toEqual({ streamed: 1, state: 'done', volunteers: 1 })
    expect(await ended).toEqual({ streamed: 1, summary: { id: jobId, name: expect.any(String), state: 'done', records: { total: 1, ok: 1, failed: 0 }, volunteers: 1, credit: expect.objectContaining({ flagged: 0 }) } })
  })

  it('gives back the tasks leased ahead of one that runs far longer than the job\'s recent ones, while it runs', { timeout: 30_000 }, async () => {
    side = await startSubmitter(await dir())
    const address = side.node.addresses()[0]
    const v1 = await startVolunteer(await dir(), address)
    volunteers = [v1]
    // Quick tasks teach v1 to lease ahead; then a long one, and two quick
    // ones that v1 has leased ahead of it by the time it starts.
    const quick = (n: number): { n: number, steps: number, stepMs: number } => ({ n, steps: 1, stepMs: 30 })
    const inputs = [...[0, 1, 2, 3, 4, 5].map(quick), { n: 6, steps: 15, stepMs: 200 }, quick(7), quick(8)]
    const events: string[] = []
    const v2Started = Promise.withResolvers<Volunteer>()
    v1.worker.addEventListener('task:start', (e) => {
      if (e.detail.taskId.endsWith(':6')) {
        // a second volunteer, free while v1 runs the long task
        void startVolunteer(tempPath, address).then(v => { volunteers.push(v); listen(v, 'v2'); v2Started.resolve(v) }, v2Started.reject)
      }
    })
    const listen = (v: Volunteer, name: string): void => {
      v.worker.addEventListener('task:end', (e) => { events.push(`${name} ${e.detail.taskId.split(':').pop() ?? ''}`) })
    }
    listen(v1, 'v1')
    const tempPath = await dir()
    const jobId = await side.submitter.submit({ signedBundle: await fixtureBundle(side), inputs })

    const results = await allResults(side.submitter, jobId)
    expect(results).toMatchObject(inputs.map(({ n }) => ({ n, square: n * n })))
    await v2Started.promise
    // The long task ends last: what v1 had leased ahead of it ran on v2 meanwhile.
    expect(events.at(-1), events.join(', ')).toBe('v1 6')
    expect(events, events.join(', ')).toEqual(expect.arrayContaining(['v2 7', 'v2 8']))
  })

  it('runs batches record by record: one failing record fails only itself', async () => {
    side = await startSubmitter(await dir())
    volunteers = [await startVolunteer(await dir(), side.node.addresses()[0])]
    const inputs = [{ n: 1 }, { n: 2, fail: true }, { n: 3 }, { n: 4 }, { n: 5 }]
    const jobId = await side.submitter.submit({ signedBundle: await fixtureBundle(side, {}, 2), inputs })

    const results = await allResults(side.submitter, jobId)
    expect(results[0]).toMatchObject({ square: 1 })
    expect(results[1]).toEqual({ error: { name: 'TypeError', message: 'record 2 was told to fail', kind: 'task', retryable: false } })
    expect(results.slice(2)).toMatchObject([{ square: 9 }, { square: 16 }, { square: 25 }])
    const info = side.submitter.job(jobId)
    expect(info).toMatchObject({ batch: 2, records: { ok: 4, failed: 1 }, tasks: { total: 3, done: 2, failed: 1 } })
    expect(info.failures).toEqual([expect.objectContaining({ name: 'TypeError', record: 1, worker: volunteers[0].node.peerId })])
  })

  it('streams results as they finish and refuses a record over the size limit at submit', async () => {
    side = await startSubmitter(await dir())
    const bundle = await fixtureBundle(side)
    await expect(side.submitter.submit({ signedBundle: bundle, inputs: [{ n: 1 }, { n: 2, pad: 'x'.repeat(1_100_000) }] }))
      .rejects.toThrow(/record 1 is \d+ bytes of JSON, over the limit/)
    await expect(side.submitter.submit({ signedBundle: bundle, inputs: [{ n: 1 }, undefined] }))
      .rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringContaining('record 1') })
    expect(side.submitter.jobs()).toEqual([])

    const jobId = await side.submitter.submit({ signedBundle: bundle, inputs: [{ n: 7 }, { n: 8 }] })
    volunteers = [await startVolunteer(await dir(), side.node.addresses()[0])]
    const seen: number[] = []
    for await (const r of side.submitter.completed(jobId, { signal: AbortSignal.timeout(15_000) })) {
      seen.push(r.index)
    }
    expect(seen.sort()).toEqual([0, 1])
  })
})
