// What the daemon's log and `idlegrid job` say about requeued tasks: a task
// a volunteer gave back unrun (routine at the end of a job) is neither a
// requeue nor a retry; one whose volunteer went away is both.
import { describe, expect, it } from 'vitest'
import { logJobEvents, trackJobActivity } from '../src/daemon/job-activity.js'
import type { Submitter } from '@idlegrid/jobs'
import type { Worker } from '@idlegrid/worker'

describe('job activity: tasks given back unrun', () => {
  it('logs and counts tasks requeued after a lost lease, not those a volunteer gave back', async () => {
    // the daemon only listens to these events; plain event targets send them here
    const submitter = new EventTarget()
    const worker = new EventTarget()
    const lines: string[] = []
    const stopLog = logJobEvents(submitter as unknown as Submitter, worker as unknown as Worker, line => { lines.push(line) })
    const activity = trackJobActivity(submitter as unknown as Submitter)
    const send = (type: string, detail: object): void => { submitter.dispatchEvent(new CustomEvent(type, { detail })) }
    const turn = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

    send('task:leased', { jobId: 'j', taskId: 'j:0', attempt: 1, worker: 'w1' })
    send('task:leased', { jobId: 'j', taskId: 'j:1', attempt: 1, worker: 'w1' })
    await turn()
    send('task:requeued', { jobId: 'j', taskId: 'j:0', attempt: 1, worker: 'w1', reason: 'given back unrun by its volunteer', givenBack: true })
    send('task:requeued', { jobId: 'j', taskId: 'j:1', attempt: 1, worker: 'w1', reason: 'volunteer disconnected' })
    await turn()
    send('task:leased', { jobId: 'j', taskId: 'j:0', attempt: 2, worker: 'w2' })
    send('task:leased', { jobId: 'j', taskId: 'j:1', attempt: 2, worker: 'w2' })
    await turn()

    expect(lines).toEqual([
      'job j: 2 tasks leased to w1 (its first of this job)',
      'job j: 1 task of w1 requeued: volunteer disconnected',
      'job j: 1 task(s) retried on w2'
    ])
    expect(activity.requeued('j')).toBe(1)
    expect(activity.activeVolunteers('j')).toEqual(['w2'])
    stopLog()
    activity.stop()
  })

  it('forgets an ended job unless it had requeues to show', () => {
    const submitter = new EventTarget()
    const activity = trackJobActivity(submitter as unknown as Submitter)
    const send = (type: string, detail: object): void => { submitter.dispatchEvent(new CustomEvent(type, { detail })) }
    for (let i = 0; i < 1000; i++) {
      send('task:leased', { jobId: `j${i}`, taskId: `j${i}:0`, attempt: 1, worker: 'w1' })
      send('task:final', { jobId: `j${i}`, taskId: `j${i}:0`, attempt: 1, worker: 'w1' })
      send('job:ended', { id: `j${i}`, state: 'done' })
    }
    send('task:leased', { jobId: 'r', taskId: 'r:0', attempt: 1, worker: 'w1' })
    send('task:requeued', { jobId: 'r', taskId: 'r:0', attempt: 1, worker: 'w1', reason: 'volunteer disconnected' })
    send('task:leased', { jobId: 'r', taskId: 'r:0', attempt: 2, worker: 'w2' })
    send('task:leased', { jobId: 'running', taskId: 'running:0', attempt: 1, worker: 'w1' })
    send('job:ended', { id: 'r', state: 'done' })
    expect(activity.tracked()).toBe(2)
    expect(activity.requeued('r')).toBe(1)
    expect(activity.activeVolunteers('r')).toEqual([])
    expect(activity.activeVolunteers('running')).toEqual(['w1'])
    expect(activity.requeued('j5')).toBe(0)
    activity.stop()
  })
})
