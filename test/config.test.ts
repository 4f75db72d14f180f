import { loadConfig } from '../src/config/config.js';
import { cli } from './helpers/cli.js';

describe('configuration: every setting validated, none falls back silently', () => {
  it('takes the routing, queue, drain and retention settings from the environment', () => {
    const c = loadConfig({
      FILUDVEKSLING_DRAIN_MS: '0',
      FILUDVEKSLING_ROUTER_ATTEMPTS: '3',
      FILUDVEKSLING_ROUTER_BACKOFF_MS: '100',
      FILUDVEKSLING_QUEUE_PREFIX: 'fu-a.b_c',
      FILUDVEKSLING_RETENTION_EVERY_MS: '60000',
      ROUTER_CONCURRENCY: '2',
    });
    expect([c.drainMs, c.routerAttempts, c.routerBackoffMs, c.queuePrefix, c.retentionEveryMs, c.routerConcurrency]).toEqual([0, 3, 100, 'fu-a.b_c', 60_000, 2]);
    const d = loadConfig({});
    expect([d.drainMs, d.routerAttempts, d.routerBackoffMs, d.queuePrefix, d.retentionEveryMs, d.routerConcurrency]).toEqual([30_000, 8, 2000, 'filudveksling', 3_600_000, 8]);
  });

  it.each([
    ['FILUDVEKSLING_DRAIN_MS', 'soon', /a whole number of milliseconds ≥ 0 \(default 30000\)/],
    ['FILUDVEKSLING_DRAIN_MS', '-1', /≥ 0/],
    ['FILUDVEKSLING_ROUTER_ATTEMPTS', '0', /a whole number ≥ 1 \(default 8\)/],
    ['FILUDVEKSLING_ROUTER_BACKOFF_MS', '2s', /milliseconds ≥ 1/],
    ['FILUDVEKSLING_QUEUE_PREFIX', 'a:b', /letters, digits/],
    ['FILUDVEKSLING_RETENTION_EVERY_MS', '10', /milliseconds ≥ 1000/],
    ['ROUTER_CONCURRENCY', 'many', /1–1024/],
    ['SFTP_MAX_HANDLES', '1.5', /a whole number ≥ 1 \(default 1024\)/],
    ['SFTP_NIST_KEX', 'yes', /"off" or "on"/],
  ])('refuses %s=%s, naming the setting and what it accepts', (name, value, accepts) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`Bad value for ${name}: "${value.replace('.', '\\.')}" — it accepts`));
    expect(() => loadConfig({ [name]: value })).toThrow(accepts);
  });

  it('a bad routing setting stops a command with exit code 2', async () => {
    const r = await cli(['migrate'], { FILUDVEKSLING_ROUTER_ATTEMPTS: 'lots', DATABASE_URL: 'postgres://x@127.0.0.1:1/x' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/FILUDVEKSLING_ROUTER_ATTEMPTS: "lots"/);
  });
});
