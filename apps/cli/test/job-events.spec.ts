// The job events stream (`GET /v1/jobs/:id/events`, what `idlegrid submit`
// draws its bar from): a snapshot reads the job's counts on the daemon's
// only thread, so a job whose snapshot is slow to read gets them less often.
import { describe, expect, it } from 'vitest'
import { trackJobActivity } from '../src/daemon/job-activity.js'
import { SNAPSHOT_SHARE, jobEvents } from '../src/daemon/job-routes.js'
import type { DaemonJobs } from '../src/daemon/job-routes.js'
import type { JobEvent } from '@idlegrid/control-api'
import type { Submitter } from '@idlegrid/jobs'
import type { Worker } from '@idlegrid/worker'

describe('job events', () => {
  it('waits SNAPSHOT_SHARE times as long as the last snapshot took to read before the next', async () => {
    const reads: Array<{ at: number, ms: number }> = []
    const submitter = Object.assign(new EventTarget(), {
      // a job whose counts take 30 ms to read, as a big one's do
      job (id: string) {
        const at = performance.now()
        while (performance.now() - at < 30) {} // eslint-disable-line no-empty
        reads.push({ at, ms: performance.now() - at })
        return { id, state: 'running', records: { total: 1000, ok: 0, failed: 0 }, tasks: { total: 1000, pending: 1000, leased: 0, done: 0, failed: 0 }, volunteers: [] }
      }
    })
    const jobs = { submitter: submitter as unknown as Submitter, worker: {} as unknown as Worker, activity: trackJobActivity(submitter as unknown as Submitter) } satisfies DaemonJobs
    const stop = new AbortController()
    // a task ends every 10 ms: every moment has a change to report
    const ticker = setInterval(() => { submitter.dispatchEvent(new CustomEvent('task:final', { detail: { jobId: 'j', taskId: 'j:0', attempt: 1, worker: 'w' } })) }, 10)
    const snapshots: JobEvent[] = []
    const reading = (async () => {
      for await (const event of jobEvents(jobs, 'j', { intervalMs: 50, tasks: false, signal: stop.signal })) snapshots.push(event)
    })()
    await new Promise(resolve => setTimeout(resolve, 1500))
    stop.abort()
    clearInterval(ticker)
    await reading
    jobs.activity.stop()

    expect(snapshots.length).toBe(reads.length)
    expect(reads.length).toBeGreaterThanOrEqual(2)
    for (let i = 1; i < reads.length; i++) {
      // never sooner than the share allows after the read before (and than the 50 ms asked)
      expect(reads[i].at - reads[i - 1].at).toBeGreaterThanOrEqual(Math.max(50, SNAPSHOT_SHARE * reads[i - 1].ms) - 2)
    }
  })
})
