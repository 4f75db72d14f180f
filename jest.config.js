/** Tests run against the built binary (npm test builds first) and real PostgreSQL/Redis. */
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: { module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node', 'jest'], isolatedModules: true } }],
  },
  // Quiet and clean: logs only with TEST_LOG_LEVEL; one temporary folder per run, removed after it.
  setupFiles: ['<rootDir>/test/helpers/quiet-logs.ts'],
  globalSetup: '<rootDir>/test/helpers/tmp-global-setup.mjs',
  globalTeardown: '<rootDir>/test/helpers/tmp-global-teardown.mjs',
  testTimeout: 60000,
  maxWorkers: 2,
};
