/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  maxWorkers: 2,
  testTimeout: 30000,
  // A safety net for CI: a stray handle must fail loudly in a test, not hang the whole run.
  forceExit: true,
};
