import { basename, dirname } from 'node:path';
import type { UserWorkspaceConfig } from 'vitest/config';

/**
 * Shared per-package vitest settings. Workspace packages resolve each other through the
 * `@iotwire/source` export condition, so tests run against TypeScript sources without a build.
 */
export function project(dir: string): UserWorkspaceConfig {
  const conditions = ['@iotwire/source', 'node', 'import', 'default'];
  return {
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@iotwire/source'] } },
    test: {
      name: `${basename(dirname(dir))}/${basename(dir)}`,
      root: dir,
      include: ['test/**/*.test.ts'],
      environment: 'node',
      testTimeout: 20_000,
      hookTimeout: 30_000,
    },
  };
}
