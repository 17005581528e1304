// What the daemon knows about its jobs beyond the store: which volunteers
// hold leases right now and how often tasks were requeued, learned from the
// submitter's events; and the daemon log lines for notable job events.
import { listen } from './listen.js'
import type { JobSummary, Submitter } from '@idlegrid/jobs'
import type { Worker } from '@idlegrid/worker'

export interface JobActivity {
  /** Volunteers holding a lease of the job now, by task id. */
  leases(jobId: string): ReadonlyMap<string, string>
  /** Distinct volunteers holding a lease of the job now. */
  activeVolunteers(jobId: string): string[]
  /** Tasks of the job requeued since this daemon started (a lease lost or failed; not tasks given back unrun). */
  requeued(jobId: string): number
  /** Jobs it holds anything for: running ones, and ended ones that had requeues. */
  tracked(): number
  stop(): void
}

interface JobState {
  leases: Map<string, string>
  requeued: number
}

/** Follows the submitter's events. Everything here is in memory: a restart requeues every lease anyway. */
export function trackJobActivity (submitter: Submitter): JobActivity {
  const jobs = new Map<string, JobState>()
  const state = (jobId: string): JobState => {
    let s = jobs.get(jobId)
    if (s == null) {
      s = { leases: new Map(), requeued: 0 }
      jobs.set(jobId, s)
    }
    return s
  }
  const onLeased = (evt: CustomEvent<{ jobId: string, taskId: string, worker: string }>): void => {
    state(evt.detail.jobId).leases.set(evt.detail.taskId, evt.detail.worker)
  }
  const onFinal = (evt: CustomEvent<{ jobId: string, taskId: string }>): void => {
    state(evt.detail.jobId).leases.delete(evt.detail.taskId)
  }
  const onRequeued = (evt: CustomEvent<{ jobId: string, taskId: string, givenBack?: boolean }>): void => {
    const s = state(evt.detail.jobId)
    s.leases.delete(evt.detail.taskId)
    if (evt.detail.givenBack !== true) {
      s.requeued++
    }
  }
  const onDone = (evt: CustomEvent<{ id: string }>): void => {
    // an ended job keeps only a count of requeues to show, and only when it had any:
    // an entry for every job would grow for as long as the daemon runs
    const s = jobs.get(evt.detail.id)
    if (s == null || s.requeued === 0) {
      jobs.delete(evt.detail.id)
    } else {
      s.leases.clear()
    }
  }
  const unlisten = listen(submitter, { 'task:leased': onLeased, 'task:final': onFinal, 'task:requeued': onRequeued, 'job:ended': onDone })
  return {
    leases: jobId => jobs.get(jobId)?.leases ?? new Map(),
    activeVolunteers: jobId => [...new Set(jobs.get(jobId)?.leases.values() ?? [])],
    requeued: jobId => jobs.get(jobId)?.requeued ?? 0,
    tracked: () => jobs.size,
    stop: unlisten
  }
}

/** Jobs this node volunteered for that the log remembers, so it names each once. */
const VOLUNTEERING_REMEMBERED = 1024

/**
 * One log line per notable job event: a job submitted or ended, a volunteer
 * taking its first task of a job, a task retried or resumed from its
 * checkpoint on a volunteer, tasks requeued because a volunteer was lost
 * (not those a volunteer gave back unrun, routine at the end of a job).
 * Routine leases after a volunteer's first are not logged, and events of
 * one moment are coalesced, so a 10 000-task job does not log 10 000 lines.
 */
export function logJobEvents (submitter: Submitter, worker: Worker, log: (line: string) => void): () => void {
  const checkpointed = new Set<string>()
  /** Tasks given back unrun and not leased again yet. */
  const givenBack = new Set<string>()
  let leased = new Map<string, { jobId: string, worker: string, tasks: string[], retries: number, resumed: number }>()
  let requeued = new Map<string, { jobId: string, worker: string, reason: string, tasks: number }>()
  /** Volunteers already named in the log, per job. */
  const announced = new Map<string, Set<string>>()
  let flushing = false
  const flush = (): void => {
    flushing = false
    for (const l of leased.values()) {
      let seen = announced.get(l.jobId)
      if (seen == null) {
        seen = new Set()
        announced.set(l.jobId, seen)
      }
      const first = !seen.has(l.worker)
      seen.add(l.worker)
      const what = l.tasks.length === 1 ? `task ${l.tasks[0]}` : `${l.tasks.length} tasks`
      if (l.resumed > 0) {
        log(`job ${l.jobId}: ${l.resumed === 1 && l.tasks.length === 1 ? `task ${l.tasks[0]}` : `${l.resumed} task(s)`} resumed on ${l.worker} from a checkpoint`)
      } else if (l.retries > 0) {
        log(`job ${l.jobId}: ${l.retries === 1 && l.tasks.length === 1 ? `task ${l.tasks[0]}` : `${l.retries} task(s)`} retried on ${l.worker}`)
      } else if (first) {
        log(`job ${l.jobId}: ${what} leased to ${l.worker} (its first of this job)`)
      }
    }
    for (const r of requeued.values()) {
      log(`job ${r.jobId}: ${r.tasks === 1 ? '1 task' : `${r.tasks} tasks`} of ${r.worker} requeued: ${r.reason}`)
    }
    leased = new Map()
    requeued = new Map()
  }
  const soon = (): void => {
    if (!flushing) {
      flushing = true
      setImmediate(flush)
    }
  }
  const onSubmitted = (evt: CustomEvent<{ jobId: string, name: string, records: number, tasks: number }>): void => {
    const { jobId, name, records, tasks } = evt.detail
    log(`job ${jobId} submitted: ${name}, ${records} records in ${tasks} tasks`)
  }
  const onLeased = (evt: CustomEvent<{ jobId: string, taskId: string, attempt: number, worker: string }>): void => {
    const { jobId, taskId, attempt, worker: peer } = evt.detail
    const key = `${jobId} ${peer}`
    const entry = leased.get(key) ?? { jobId, worker: peer, tasks: [], retries: 0, resumed: 0 }
    entry.tasks.push(taskId)
    // a task its volunteer gave back unrun runs on its next lease: no retry
    if (attempt > 1 && !givenBack.delete(taskId)) entry.retries++
    if (checkpointed.has(taskId)) entry.resumed++
    leased.set(key, entry)
    soon()
  }
  const onCheckpoint = (evt: CustomEvent<{ taskId: string }>): void => { checkpointed.add(evt.detail.taskId) }
  const onFinal = (evt: CustomEvent<{ taskId: string }>): void => {
    checkpointed.delete(evt.detail.taskId)
    givenBack.delete(evt.detail.taskId)
  }
  const onRequeued = (evt: CustomEvent<{ jobId: string, taskId: string, worker: string, reason: string, givenBack?: boolean }>): void => {
    const { jobId, taskId, worker: peer, reason } = evt.detail
    if (evt.detail.givenBack === true) {
      // routine at the end of a job (a volunteer's queue goes back for whoever is free)
      givenBack.add(taskId)
      return
    }
    const key = `${jobId} ${peer} ${reason}`
    const entry = requeued.get(key) ?? { jobId, worker: peer, reason, tasks: 0 }
    entry.tasks++
    requeued.set(key, entry)
    soon()
  }
  const onDone = (evt: CustomEvent<JobSummary>): void => {
    flush()
    announced.delete(evt.detail.id)
    const j = evt.detail
    log(`job ${j.id} ${j.state === 'cancelled' ? 'cancelled' : 'done'}: ${j.records.ok}/${j.records.total} records ok, ${j.records.failed} failed, ${j.volunteers} volunteer(s)`)
  }
  // This node as a volunteer for other submitters: one line per job it starts
  // working on. The volunteer never hears that a job ended, so only the
  // latest jobs are remembered (a long-lived volunteer runs many small jobs).
  const volunteering = new Set<string>()
  const onTaskStart = (evt: CustomEvent<{ jobId: string, submitter: string }>): void => {
    if (!volunteering.has(evt.detail.jobId)) {
      if (volunteering.size >= VOLUNTEERING_REMEMBERED) {
        volunteering.delete(volunteering.values().next().value as string)
      }
      volunteering.add(evt.detail.jobId)
      log(`volunteering for job ${evt.detail.jobId} of ${evt.detail.submitter}`)
    }
  }
  const fromSubmitter = listen(submitter, {
    'job:submitted': onSubmitted,
    'task:leased': onLeased,
    'task:checkpoint': onCheckpoint,
    'task:final': onFinal,
    'task:requeued': onRequeued,
    'job:ended': onDone
  })
  const fromWorker = listen(worker, { 'task:start': onTaskStart })
  return () => {
    fromSubmitter()
    fromWorker()
  }
}
