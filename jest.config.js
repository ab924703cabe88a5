// Two projects: fast unit tests (no network, mocks at module boundaries) and the tests under
// test/: the fake Azure's own tests and end-to-end runs of the bundled action against it.
const esm = (tsconfig) => ({
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig }] },
  testEnvironment: 'node'
})

export default {
  // End-to-end runs spawn the action and wait out real retry delays.
  testTimeout: 60000,
  projects: [
    { ...esm('__tests__/tsconfig.json'), displayName: 'unit', testMatch: ['<rootDir>/__tests__/**/*.test.ts'] },
    { ...esm('test/tsconfig.json'), displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.test.ts'] }
  ]
}
