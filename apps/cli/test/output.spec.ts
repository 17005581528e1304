import { describe, expect, it } from 'vitest'
import { turnWriter } from '../src/output.js'

const nextTurn = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

describe('turnWriter', () => {
  it('writes the lines of one turn together, at its end', async () => {
    const writes: string[] = []
    const out = turnWriter(text => { writes.push(text) })
    out.line('a\n')
    out.line('b\n')
    expect(writes).toEqual([])
    await nextTurn()
    expect(writes).toEqual(['a\nb\n'])
    out.line('c\n')
    await nextTurn()
    expect(writes).toEqual(['a\nb\n', 'c\n'])
  })

  it('flush writes what waits at once, and nothing twice', async () => {
    const writes: string[] = []
    const out = turnWriter(text => { writes.push(text) })
    out.flush()
    out.line('last\n')
    out.flush()
    expect(writes).toEqual(['last\n'])
    await nextTurn()
    expect(writes).toEqual(['last\n'])
  })
})
