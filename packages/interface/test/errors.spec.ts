import { describe, expect, it } from 'vitest'
import { ConfigError, IdleGridError, ProtocolError } from '../src/index.js'

describe('errors', () => {
  it('carries a fixed name and the retryable flag', () => {
    const err = new ProtocolError('bad frame', { retryable: true })
    expect(err).toBeInstanceOf(IdleGridError)
    expect(err.name).toBe('ProtocolError')
    expect(err.retryable).toBe(true)
    expect(new ConfigError('x').retryable).toBe(false)
  })

  it('polyfills Promise.withResolvers', async () => {
    const { promise, resolve } = Promise.withResolvers<number>()
    resolve(7)
    await expect(promise).resolves.toBe(7)
  })
})
