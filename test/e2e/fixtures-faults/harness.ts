// What the fault suites share: a small swarm of real daemons (one submitter,
// volunteers bootstrapped to it), the job's detail through the CLI, and the
// process tree, so a test can see a daemon's sandbox runners and make sure
// none outlives the suite.
import { readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runCli, runCliJson, spawnDaemon, tempDataDir, waitFor, waitForControl } from '../src/index.js'
import type { DaemonProcess } from '../src/index.js'
import type { Output } from './slow-sum.js'

export type { Output } from './slow-sum.js'

/** The checkpointing job every fault test submits. */
export const SLOW_SUM = fileURLToPath(new URL('./slow-sum.ts', import.meta.url))

/** Quick re-advertising and one slot per daemon, so who runs what is easy to follow. */
export const DAEMON_FLAGS = ['--advertise-interval', '300', '--max-cores', '1']

/** One input record of slow-sum.ts. */
export interface SumInput { n: number, steps: number, stepMs: number }

/** What slow-sum.ts must return for an input, whatever attempt finished it. */
export function expectedSum (input: SumInput): number {
  return (input.n + 1) * input.steps * (input.steps + 1) / 2
}

export interface RunningTask { taskId: string, attempt: number, worker: string, fraction: number }
export interface JobDetail {
  id: string
  state: string
  records: { total: number, ok: number, failed: number }
  tasks: { total: number, pending: number, leased: number, done: number, failed: number }
  volunteers: Array<{ peerId: string, tasks: number, records: number }>
  failures: Array<{ name: string, message: string }>
  running: RunningTask[]
  activeVolunteers: string[]
  requeued: number
}

export interface Member {
  name: string
  daemon: DaemonProcess
  peerId: string
  /** The first listening address, with /p2p/<PeerId>. */
  address: string
}

/** /proc/<pid>/stat: [state, ppid], or undefined when the process is gone. */
async function stat (pid: number): Promise<[string, number] | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8')
    // The command name may hold spaces and parentheses; the fields follow the last ')'.
    const [state, ppid] = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return [state, Number(ppid)]
  } catch {
    return undefined
  }
}

async function cmdline (pid: number): Promise<string> {
  return await readFile(`/proc/${pid}/cmdline`, 'utf8').then(c => c.split('\0').join(' ').trim(), () => '')
}

/** Whether a process runs (a zombie waiting for its parent does not). */
export async function alive (pid: number): Promise<boolean> {
  const s = await stat(pid)
  return s != null && s[0] !== 'Z' && s[0] !== 'X'
}

/** Every live descendant of a process, with its command line. */
export async function descendants (root: number): Promise<Array<{ pid: number, cmd: string }>> {
  const parents = new Map<number, number>()
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid)) continue
    const s = await stat(pid)
    if (s != null && s[0] !== 'Z') parents.set(pid, s[1])
  }
  const found: Array<{ pid: number, cmd: string }> = []
  const walk = async (parent: number): Promise<void> => {
    for (const [pid, ppid] of parents) {
      if (ppid !== parent) continue
      found.push({ pid, cmd: await cmdline(pid) })
      await walk(pid)
    }
  }
  await walk(root)
  return found
}

/** The sandbox runner processes a daemon forked. */
export async function runnersOf (daemon: DaemonProcess): Promise<number[]> {
  if (daemon.child.pid == null) return []
  return (await descendants(daemon.child.pid)).filter(p => p.cmd.includes('runner.js')).map(p => p.pid)
}

/**
 * The daemons of one test and every process they forked. stop() SIGKILLs
 * what is left, the children of daemons killed earlier included, and
 * removes the data directories.
 */
export class Swarm {
  readonly members: Member[] = []
  /** Processes seen, with their command line: a pid reused by another program is left alone. */
  readonly #pids = new Map<number, string>()
  readonly #dirs = new Set<string>()
  readonly #daemons: DaemonProcess[] = []

  /** Starts a daemon on a new (or the given) data directory and waits until it is ready. */
  async start (name: string, args: string[] = [], dataDir?: string): Promise<Member> {
    const dir = dataDir ?? await tempDataDir(`faults-${name}`)
    this.#dirs.add(dir)
    const daemon = spawnDaemon(dir, [...DAEMON_FLAGS, ...args])
    this.#daemons.push(daemon)
    await waitForControl(daemon)
    const out = daemon.output()
    const peerId = /node (\S+) started/.exec(out)?.[1]
    const address = /listening on (\S+)/.exec(out)?.[1]
    if (peerId == null || address == null) {
      throw new Error(`daemon ${name} is ready but did not log its PeerId and address:\n${out}`)
    }
    const member = { name, daemon, peerId, address }
    this.members.push(member)
    return member
  }

  /** Remembers the processes a daemon forked so far, so stop() can kill them even after the daemon died. */
  async track (member: Member): Promise<Array<{ pid: number, cmd: string }>> {
    const pid = member.daemon.child.pid
    const found = pid == null ? [] : await descendants(pid)
    for (const p of found) this.#pids.set(p.pid, p.cmd)
    return found
  }

  /** SIGKILLs a daemon at once, as a power cut would, after noting its children. */
  async kill (member: Member): Promise<void> {
    await this.track(member)
    await member.daemon.stop('SIGKILL')
  }

  async stop (): Promise<void> {
    await Promise.all(this.members.map(async m => { await this.track(m).catch(() => {}) }))
    await Promise.all(this.#daemons.map(async d => { await d.stop('SIGKILL') }))
    for (const [pid, cmd] of this.#pids) {
      if (await cmdline(pid) === cmd && await alive(pid)) {
        try { process.kill(pid, 'SIGKILL') } catch {}
      }
    }
    await Promise.all([...this.#dirs].map(async d => { await rm(d, { recursive: true, force: true }) }))
  }
}

/** Waits until the submitter logged every volunteer joining (no CLI round trips: they are slow on a loaded machine). */
export async function waitForPeers (submitter: Member, volunteers: Member[], timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => volunteers.every(v => submitter.daemon.output().includes(`peer joined ${v.peerId}`)) ? true : undefined,
    `${volunteers.map(v => v.name).join(', ')} to connect to ${submitter.name}`, timeoutMs, 50)
}

/** Writes the records as JSONL and submits slow-sum.ts over them, detached; returns the job id. */
export async function submit (submitter: Member, work: string, records: SumInput[], extra: string[] = []): Promise<string> {
  const input = join(work, 'input.jsonl')
  await writeFile(input, records.map(r => JSON.stringify(r)).join('\n') + '\n')
  const res = await runCli(['submit', SLOW_SUM, '--input', input, '--detach', '--timeout', '60', '--memory', '64', ...extra, '--data-dir', submitter.daemon.dataDir])
  if (res.code !== 0) {
    throw new Error(`submit exited ${String(res.code)}: ${res.stderr}`)
  }
  return res.stdout.trim()
}

export async function jobDetail (submitter: Member, id: string): Promise<JobDetail> {
  return await runCliJson<JobDetail>(['job', id, '--data-dir', submitter.daemon.dataDir], { timeoutMs: 15_000 })
}

/**
 * `idlegrid job results <id> --out FILE`: follows the job to its end, then
 * returns the file's lines parsed, and the command's exit code.
 */
export async function results (submitter: Member, id: string, out: string, timeoutMs = 90_000): Promise<{ code: number | null, stderr: string, lines: Output[] }> {
  const res = await runCli(['job', 'results', id, '--out', out, '--data-dir', submitter.daemon.dataDir], { timeoutMs })
  const text = await readFile(out, 'utf8').catch(() => '')
  return { code: res.code, stderr: res.stderr, lines: text.trimEnd().split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Output) }
}

/**
 * Polls `idlegrid job <id> --json` until `pick` returns something; on
 * timeout the error carries the last detail and the submitter's log.
 */
export async function waitForJob<T> (submitter: Member, id: string, pick: (detail: JobDetail) => T | undefined, what: string, timeoutMs = 30_000, others: Member[] = []): Promise<T> {
  let last: JobDetail | undefined
  try {
    return await waitFor(async () => {
      last = await jobDetail(submitter, id)
      return pick(last)
    }, what, timeoutMs, 100)
  } catch (err) {
    throw new Error(`${(err as Error).message}\nlast job detail: ${JSON.stringify(last && { state: last.state, tasks: last.tasks, running: last.running, volunteers: last.volunteers })}\nsubmitter log:\n${submitter.daemon.output()}${others.map(m => `\n${m.name} log:\n${m.daemon.output()}`).join('')}`)
  }
}
