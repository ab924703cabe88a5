import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'

const isDebug = jest.fn<() => boolean>()
const debug = jest.fn<(message: string) => void>()
const setSecret = jest.fn<(s: string) => void>()
jest.unstable_mockModule('@actions/core', () => ({ isDebug, debug, setSecret }))

// The real @azure/logger: the SDK clients log through loggers created from it.
const { AzureLogger, createClientLogger, getLogLevel, setLogLevel } = await import('@azure/logger')
const { maskProxyCredentials, routeSdkLogsToDebug, withoutUrlCredentials } = await import('../../src/log/sdk-debug.js')

const originalLog = AzureLogger.log
const originalLevel = getLogLevel()

beforeEach(() => {
  isDebug.mockReset()
  debug.mockReset()
  setSecret.mockReset()
})

afterEach(() => {
  AzureLogger.log = originalLog
  setLogLevel(originalLevel)
})

describe('routeSdkLogsToDebug', () => {
  it('leaves the SDK logger alone without step debug logging', () => {
    isDebug.mockReturnValue(false)
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true)
    try {
      routeSdkLogsToDebug()
      expect(AzureLogger.log).toBe(originalLog)
      expect(getLogLevel()).toBe(originalLevel)
      createClientLogger('identity').info('should go nowhere')
      createClientLogger('identity').warning('should go nowhere either')
      expect(debug).not.toHaveBeenCalled()
    } finally {
      stderr.mockRestore()
    }
  })

  it('with step debug logging, sends SDK logs at info and above to core.debug, formatted', () => {
    isDebug.mockReturnValue(true)
    routeSdkLogsToDebug()
    expect(getLogLevel()).toBe('info')
    const logger = createClientLogger('core-rest-pipeline')
    logger.info('Request: %s %d', 'GET', 200)
    logger.warning('retrying')
    expect(debug).toHaveBeenCalledTimes(2)
    expect(debug.mock.calls[0][0]).toContain('core-rest-pipeline')
    expect(debug.mock.calls[0][0]).toContain('Request: GET 200')
    expect(debug.mock.calls[1][0]).toContain('retrying')
  })

  it('does not pass verbose SDK logs on', () => {
    isDebug.mockReturnValue(true)
    routeSdkLogsToDebug()
    createClientLogger('identity').verbose('very chatty')
    expect(debug).not.toHaveBeenCalled()
  })

  it('formats objects as text for core.debug', () => {
    isDebug.mockReturnValue(true)
    routeSdkLogsToDebug()
    AzureLogger.log('headers', { 'x-ms-request-id': 'abc' })
    expect(debug).toHaveBeenCalledWith("headers { 'x-ms-request-id': 'abc' }")
  })
})

describe('proxy credentials never reach the log', () => {
  it('cuts user:password out of every URL in a line, whatever surrounds it', () => {
    const line = `Request: {"agent":{"proxy":"http://alice:s3cret%21@proxy.corp:3128/"},"url":"https://management.azure.com/x"} socks5://bob:pw@h:1`
    const clean = withoutUrlCredentials(line)
    expect(clean).not.toContain('s3cret')
    expect(clean).not.toContain('alice')
    expect(clean).not.toContain(':pw@')
    expect(clean).toContain('http://***@proxy.corp:3128/')
    expect(clean).toContain('https://management.azure.com/x')
  })

  it('masks the password of each proxy variable, raw and decoded; not the user name', () => {
    maskProxyCredentials({
      HTTPS_PROXY: 'http://alice:s3cret%21@proxy:3128',
      http_proxy: 'http://proxy:3128',
      NO_PROXY: 'x'
    })
    expect(setSecret.mock.calls.map(([s]) => s)).toEqual(['s3cret%21', 's3cret!'])
  })

  it('ignores a proxy variable that is not a URL', () => {
    maskProxyCredentials({ HTTPS_PROXY: 'not a url' })
    expect(setSecret).not.toHaveBeenCalled()
  })
})
