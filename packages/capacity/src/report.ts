// The capacity a node offers right now, computed from machine, limits and slots.
import type { CapacityReport, MachineInfo, OwnerLimits } from '@idlegrid/interface'
import type { SlotState } from './slot-table.js'

/**
 * Memory is split evenly over the slots (maxMemoryMb / total slots each), so a
 * free slot always brings its share. GPUs are offered whole while any slot
 * is free, since GPU work still needs a core to drive it.
 */
export function capacityReport (machine: MachineInfo, limits: OwnerLimits, slots: SlotState): CapacityReport {
  const perSlotMb = Math.floor(limits.maxMemoryMb / slots.total)
  const freeMemoryMb = slots.free === slots.total ? limits.maxMemoryMb : perSlotMb * slots.free

  return {
    machine: { ...machine, gpus: machine.gpus.map(gpu => ({ ...gpu })) },
    limits: { ...limits },
    slots: { ...slots },
    freeCores: slots.free,
    freeMemoryMb,
    freeGpus: limits.shareGpu && slots.free > 0 ? machine.gpus.length : 0
  }
}
