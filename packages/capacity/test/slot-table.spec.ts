import { describe, expect, it } from 'vitest'
import { SlotTable } from '../src/index.js'
import type { SlotState } from '../src/index.js'

describe('SlotTable', () => {
  it('acquires and releases slots, emitting each change', () => {
    const slots = new SlotTable(3)
    const changes: SlotState[] = []
    slots.addEventListener('change', evt => changes.push(evt.detail))

    expect(slots.acquire(2)).toBe(true)
    expect(slots.acquire(2)).toBe(false)
    expect(slots.acquire()).toBe(true)
    expect(slots.free).toBe(0)
    slots.release(3)

    expect(changes).toEqual([
      { total: 3, used: 2, free: 1 },
      { total: 3, used: 3, free: 0 },
      { total: 3, used: 0, free: 3 }
    ])
    expect(slots.state()).toEqual({ total: 3, used: 0, free: 3 })
  })

  it('refuses bad counts and over-release', () => {
    expect(() => new SlotTable(0)).toThrow(/at least 1/)
    const slots = new SlotTable(2)
    expect(() => slots.acquire(0)).toThrow(/at least 1/)
    expect(() => slots.acquire(1.5)).toThrow(/whole number/)
    slots.acquire(1)
    expect(() => slots.release(2)).toThrow(/only 1 in use/)
    try {
      slots.release(2)
    } catch (err: any) {
      expect(err.name).toBe('InvalidInputError')
    }
    expect(slots.used).toBe(1)
  })
})
