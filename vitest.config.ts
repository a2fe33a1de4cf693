import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^sluice$/, replacement: here('./core/index.ts') },
      { find: /^sluice\/state$/, replacement: here('./state/index.ts') },
      { find: /^sluice\/extend$/, replacement: here('./state/extend.ts') },
      { find: /^sluice\/windows$/, replacement: here('./windows/index.ts') },
      { find: /^sluice\/checkpoint$/, replacement: here('./checkpoint/index.ts') },
      { find: /^sluice\/postgres$/, replacement: here('./connectors/postgres/index.ts') },
      { find: /^sluice\/nats$/, replacement: here('./connectors/nats/index.ts') },
      { find: /^sluice\/redis$/, replacement: here('./connectors/redis/index.ts') },
      { find: /^sluice\/mqtt$/, replacement: here('./connectors/mqtt/index.ts') },
      { find: /^sluice\/monitor$/, replacement: here('./monitor/index.ts') },
      { find: /^sluice\/ml$/, replacement: here('./ml/index.ts') },
      { find: /^sluice\/testing$/, replacement: here('./test/kit/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    pool: 'forks',
    globalSetup: ['./test/global-setup.ts'],
    setupFiles: ['./test/support/fast-check-setup.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
