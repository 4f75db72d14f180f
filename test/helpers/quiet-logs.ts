/**
 * Jest `setupFiles`: runs in each test worker before a test file imports anything. Code under test
 * logs through pino (src/log.ts), which reads LOG_LEVEL once: silent unless TEST_LOG_LEVEL asks,
 * so `npm test` shows jest's report and failures only. `TEST_LOG_LEVEL=debug npm test` shows
 * everything (spawned `serve` processes get it too: test/helpers/cli.ts).
 */
process.env.LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'silent';
