// Shared types and named errors of IdleGrid. Every package may import this
// one; it imports nothing of IdleGrid's own. No logic lives here.

export * from './errors.js'

/** What the owner of a machine allows IdleGrid to use. */
export interface OwnerLimits {
  /** Cores given to tasks; one slot per core. Default: all but one, at least 1. */
  maxCores: number
  /** Memory in MiB that tasks together may use. */
  maxMemoryMb: number
  /** Whether GPUs are offered to tasks. */
  shareGpu: boolean
}

export interface GpuInfo {
  model: string
  memoryMb: number
  vendor?: string
}

/** What a machine has, as probed. */
export interface MachineInfo {
  cpuModel: string
  cpuCores: number
  totalMemoryMb: number
  freeMemoryMb: number
  gpus: GpuInfo[]
}

/** What a node offers right now: owner limits minus slots in use. */
export interface CapacityReport {
  machine: MachineInfo
  limits: OwnerLimits
  slots: { total: number, used: number, free: number }
  /** Cores free for new tasks right now. */
  freeCores: number
  /** Memory in MiB free for new tasks right now. */
  freeMemoryMb: number
  /** GPUs offered right now (empty when not shared or absent). */
  freeGpus: number
}

/** A volunteer's capacity as it answers the direct capacity query. */
export interface VolunteerCapacity {
  status: 'ok' | 'full' | 'unavailable'
  /** Why the status is not ok, when the peer says. */
  reason?: string
  freeCores: number
  freeMemoryMb: number
  freeGpus: number
  /** Models of the GPUs offered (empty when GPUs are not shared). */
  gpuModels: string[]
  totalSlots: number
  usedSlots: number
  cpuModel: string
  cpuCores: number
  totalMemoryMb: number
  /** The owner's memory limit for all tasks together. */
  maxMemoryMb: number
}

/** The limits one task runs under. */
export interface TaskLimits {
  /** Heap limit of the isolate, MiB. */
  memoryMb: number
  /** Wall-clock limit of one attempt, ms. */
  timeoutMs: number
  /** CPU-time budget of one attempt, ms (defaults to timeoutMs). */
  cpuMs?: number
}

/** How a sandboxed attempt failed; decides whether the scheduler retries. */
export type TaskErrorKind =
  /** The task code threw or rejected: not retryable. */
  | 'task'
  /** Memory, time, CPU or size limit: not retryable with the same limits. */
  | 'limit'
  /** The runner process died or stopped answering: retryable. */
  | 'runner-lost'
  /** The attempt was cancelled by the host. */
  | 'cancelled'

/** An error as it crosses a process or network boundary. */
export interface TaskErrorInfo {
  name: string
  message: string
  stack?: string
  kind: TaskErrorKind
  retryable: boolean
}

/** Events of one sandboxed task attempt, in order; exactly one of result/error ends it. */
export type SandboxEvent =
  | { type: 'progress', fraction: number }
  | { type: 'checkpoint', state: unknown }
  | { type: 'log', line: string }
  | { type: 'result', value: unknown, cpuMs: number, wallMs: number }
  | { type: 'error', error: TaskErrorInfo, cpuMs: number, wallMs: number }

/** Requirements a job's manifest states. */
export interface TaskRequirements {
  cores: number
  memoryMb: number
  timeoutMs: number
  gpu: boolean
  deterministic: boolean
}
