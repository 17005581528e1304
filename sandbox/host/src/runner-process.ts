// One forked runner process as the host sees it: fork with V8 flags, lowest
// OS priority, ready handshake, the IPC messages, and a kill that remembers
// why, so the pool can tell a watchdog kill from a crash.
import { fork, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { setPriority } from 'node:os'
import type { SandboxEvent } from '@idlegrid/interface'
import type { BatchEvent } from './task-run.js'

/** An event as the runner sends it; a failed record's error is still bare. */
export type RunnerEvent =
  | Extract<SandboxEvent, { type: 'progress' | 'checkpoint' | 'log' }>
  | Extract<BatchEvent, { type: 'progress' | 'checkpoint' | 'log' }>
  | { type: 'record', index: number, ok: true, value: unknown }
  | { type: 'record', index: number, ok: false, error: { name: string, message: string, stack?: string } }

/** What the runner sends; see sandbox/runner/README.md. */
export type RunnerMessage =
  | { t: 'ready', pid: number }
  | { t: 'evs', id: number, evs: RunnerEvent[] }
  | { t: 'end', id: number, cpuMs: number, wallMs: number, retire?: boolean, ok: true, value?: unknown, records?: number }
  | { t: 'end', id: number, cpuMs: number, wallMs: number, retire?: boolean, ok: false, kind: 'task' | 'limit' | 'cancelled', error: { name: string, message: string, stack?: string } }

export interface RunnerStart {
  path: string
  heapMb: number
  /** OS priority of the process (nice). */
  nice: number
  /** Caps handed to the runner as its one argument (JSON). */
  caps: Record<string, number>
  onMessage: (runner: RunnerProcess, msg: RunnerMessage) => void
  onExit: (runner: RunnerProcess, code: number | null, signal: NodeJS.Signals | null) => void
}

/** Why the host killed a runner, kept for the task it was running. */
export interface KillReason {
  kind: 'limit' | 'runner-lost' | 'cancelled'
  name: string
  message: string
}

const STDERR_TAIL = 2048

export class RunnerProcess {
  readonly child: ChildProcess
  readonly ready: Promise<void>
  state: 'starting' | 'idle' | 'busy' | 'retiring' | 'dead' = 'starting'
  /** The bundle whose compiled script this runner holds, for affinity. */
  bundleId: string | null = null
  /** contextKey of the last task sent (the runner may hold its context warm). */
  contextKey: string | undefined = undefined
  /** The bundle source last sent to this runner, which it keeps. */
  source: string | null = null
  killReason: KillReason | null = null
  idleTimer: ReturnType<typeof setTimeout> | null = null
  private stderrTail = ''

  constructor (start: RunnerStart) {
    let ready!: { resolve: () => void, reject: (err: Error) => void }
    this.ready = new Promise<void>((resolve, reject) => { ready = { resolve, reject } })
    // Catch here so a runner that dies before ready is no unhandled rejection.
    this.ready.catch(() => {})
    this.child = fork(start.path, [JSON.stringify(start.caps)], {
      execArgv: ['--no-node-snapshot', `--max-old-space-size=${start.heapMb}`],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      // The runner needs nothing from the daemon's environment; UTC keeps
      // Date output of replicas comparable across volunteers.
      env: { TZ: 'UTC', LANG: 'C' }
    })
    this.child.stderr?.setEncoding('utf8')
    this.child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL)
    })
    if (this.child.pid !== undefined) {
      try {
        // Volunteers' own programs come first (nice 19 unless the pool says
        // otherwise). Linux sets it on the main thread; the threads the
        // runner starts afterwards (isolated-vm's among them) inherit it.
        setPriority(this.child.pid, start.nice)
      } catch {}
    }
    this.child.on('message', (msg: RunnerMessage) => {
      if (msg.t === 'ready') {
        if (this.state === 'starting') this.state = 'idle'
        ready.resolve()
        return
      }
      start.onMessage(this, msg)
    })
    this.child.on('error', () => {})
    this.child.on('exit', (code, signal) => {
      this.state = 'dead'
      ready.reject(new Error(`runner exited before it was ready (code ${code}, signal ${signal})`))
      start.onExit(this, code, signal)
    })
  }

  get pid (): number | undefined {
    return this.child.pid
  }

  /** The last lines the runner wrote to stderr, for error messages. */
  get stderr (): string {
    return this.stderrTail.trim()
  }

  send (msg: unknown): boolean {
    if (this.state === 'dead' || !this.child.connected) return false
    try {
      this.child.send(msg as object)
      return true
    } catch {
      return false
    }
  }

  kill (reason: KillReason): void {
    if (this.state === 'dead') return
    this.killReason ??= reason
    this.child.kill('SIGKILL')
  }

  /** Resident memory of the runner in MiB (Linux /proc), or undefined. */
  rssMb (): number | undefined {
    if (process.platform !== 'linux' || this.child.pid === undefined) return undefined
    try {
      const statm = readFileSync(`/proc/${this.child.pid}/statm`, 'utf8')
      return Number(statm.split(' ')[1]) * 4096 / 1048576
    } catch {
      return undefined
    }
  }
}
