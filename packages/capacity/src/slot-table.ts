// Slot accounting: one slot per core the owner gives; workers acquire slots
// before running a task and release them after. Emits `change` on every move.
import { TypedEventEmitter } from '@libp2p/interface'
import { InvalidInputError } from '@idlegrid/interface'

export interface SlotState {
  total: number
  used: number
  free: number
}

export interface SlotTableEvents {
  change: CustomEvent<SlotState>
}

export class SlotTable extends TypedEventEmitter<SlotTableEvents> {
  readonly total: number
  #used = 0

  constructor (total: number) {
    super()
    if (!Number.isInteger(total) || total < 1) {
      throw new InvalidInputError(`a slot table needs a whole number of slots of at least 1, got ${String(total)}`)
    }
    this.total = total
  }

  get used (): number {
    return this.#used
  }

  get free (): number {
    return this.total - this.#used
  }

  state (): SlotState {
    return { total: this.total, used: this.#used, free: this.free }
  }

  /**
   * Takes `n` slots if that many are free. Returns false (and takes none)
   * otherwise, so a worker can simply ask again later.
   */
  acquire (n = 1): boolean {
    checkCount(n, 'acquire')
    if (n > this.free) {
      return false
    }
    this.#used += n
    this.safeDispatchEvent('change', { detail: this.state() })
    return true
  }

  /**
   * Gives back `n` slots.
   *
   * @throws InvalidInputError when releasing more slots than are in use
   */
  release (n = 1): void {
    checkCount(n, 'release')
    if (n > this.#used) {
      throw new InvalidInputError(`cannot release ${n} slot(s): only ${this.#used} in use`)
    }
    this.#used -= n
    this.safeDispatchEvent('change', { detail: this.state() })
  }
}

function checkCount (n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidInputError(`${what} needs a whole number of slots of at least 1, got ${String(n)}`)
  }
}
