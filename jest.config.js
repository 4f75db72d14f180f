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
  testTimeout: 60000,
  maxWorkers: 2,
};
