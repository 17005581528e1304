// Process helpers for end-to-end tests: run the real `idlegrid` command and
// real daemons, and wait for them through the data directory.
import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { mkdtemp, readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ChildProcess } from 'node:child_process'

/** The `idlegrid` entry point, as a user runs it. */
export const CLI_BIN = fileURLToPath(new URL('../../../apps/cli/bin/idlegrid.js', import.meta.url))

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface RunOptions {
  env?: Record<string, string>
  /** Kill the command after this long. Default 60 s. */
  timeoutMs?: number
  /** Flags for node itself, before the CLI (say `--cpu-prof`, which NODE_OPTIONS may not carry). */
  nodeArgs?: string[]
  /** Written to the command's standard input, which is then closed. Default: an empty one. */
  stdin?: string
}

/** The environment children get: this one without IDLEGRID_* and DEBUG, plus `extra`. */
export function childEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('IDLEGRID_') && k !== 'DEBUG' && !k.startsWith('VITEST') && k !== 'NODE_OPTIONS') {
      env[k] = v
    }
  }
  return { ...env, ...extra }
}

/** Runs `idlegrid <args>` to completion. */
export async function runCli (args: string[], options: RunOptions = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { env: childEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] })
  // ended at once when there is nothing to give: the command reads end of file, as from /dev/null
  child.stdin.end(options.stdin)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (c, s) => { resolve([c, s]) })
    })
    return { code, signal, stdout, stderr }
  } finally {
    clearTimeout(timer)
  }
}

/** Runs `idlegrid <args> --json` and parses stdout; throws with stderr on failure. */
export async function runCliJson<T = any> (args: string[], options: RunOptions = {}): Promise<T> {
  const res = await runCli([...args, '--json'], options)
  if (res.code !== 0) {
    throw new Error(`idlegrid ${args.join(' ')} exited ${String(res.code)}: ${res.stderr.trim()}`)
  }
  return JSON.parse(res.stdout) as T
}

export interface DaemonProcess {
  dataDir: string
  child: ChildProcess
  /** Everything the daemon printed so far, stdout and stderr. */
  output(): string
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** Sends a signal and waits for exit (SIGKILL after timeoutMs). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

export interface DaemonOptions extends RunOptions {
  /**
   * Send the daemon's stdout and stderr to this file (appended), as a
   * service manager would, instead of a pipe to this process. A benchmark
   * wants that: read from a pipe, every line the daemon logs wakes the
   * process that also times it.
   */
  logFile?: string
}

/** Starts `idlegrid daemon --data-dir <dataDir> <args>` in the background. */
export function spawnDaemon (dataDir: string, args: string[] = [], options: DaemonOptions = {}): DaemonProcess {
  const argv = [...(options.nodeArgs ?? []), CLI_BIN, 'daemon', '--data-dir', dataDir, ...args]
  const logFile = options.logFile
  const fd = logFile == null ? null : openSync(logFile, 'a')
  let child: ChildProcess
  try {
    child = spawn(process.execPath, argv, { env: childEnv(options.env), stdio: fd == null ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd] })
  } finally {
    // the child holds its own copy
    if (fd != null) closeSync(fd)
  }
  let piped = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { piped += d })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { piped += d })
  const output = logFile == null ? () => piped : () => readFileSync(logFile, 'utf8')
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => {
    child.once('exit', (code, signal) => { resolve({ code, signal }) })
  })
  return {
    dataDir,
    child,
    output,
    exited,
    async stop (signal = 'SIGTERM', timeoutMs = 10_000) {
      if (child.exitCode == null && child.signalCode == null) {
        child.kill(signal)
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
        try {
          return await exited
        } finally {
          clearTimeout(timer)
        }
      }
      return await exited
    }
  }
}

/**
 * Waits until the daemon wrote control.json (it is ready), or fails early
 * with its output when it exited first. The generous default is for a
 * machine shared with other suites, where loading alone can take 20 s.
 */
export async function waitForControl (daemon: DaemonProcess, timeoutMs = 60_000): Promise<{ port: number, pid: number }> {
  let exited = false
  void daemon.exited.then(() => { exited = true })
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      const info = JSON.parse(await readFile(join(daemon.dataDir, 'control.json'), 'utf8')) as { port: number, pid: number }
      if (info.pid === daemon.child.pid) {
        return info
      }
    } catch {}
    if (exited) {
      throw new Error(`daemon for ${daemon.dataDir} exited before it was ready:\n${daemon.output()}`)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  throw new Error(`daemon for ${daemon.dataDir} was not ready within ${timeoutMs} ms:\n${daemon.output()}`)
}

/** Polls `check` until it returns a value other than undefined. */
export async function waitFor<T> (check: () => Promise<T | undefined>, what: string, timeoutMs = 20_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await check()
      if (value !== undefined) {
        return value
      }
    } catch (err) {
      last = err
    }
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last != null ? `: ${String((last as Error).message)}` : ''}`)
}

export async function tempDataDir (name: string): Promise<string> {
  return await mkdtemp(join(tmpdir(), `idlegrid-e2e-${name}-`))
}

/**
 * A port nothing listens on right now on 127.0.0.1, for a daemon that must
 * come back on the same address or be named (in an invite) before it starts.
 */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => { resolve(port) })
    })
  })
}
