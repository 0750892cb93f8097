import { defineConfig } from 'vitest/config';

// Browser tests: one build served by `vite preview` with the real headers, driven through Debian's
// Chromium; files run one after another (2 cores, one browser at a time).
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['tests/e2e/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
