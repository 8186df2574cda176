/**
 * The GraphQL suite on graphql 17: `graphql` is aliased to the `graphql-17` package (npm alias of
 * graphql@17), and every dependency that imports `graphql` is inlined so it sees the same instance.
 *
 *   npx vitest run --config vitest.graphql17.config.ts
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';
import { GRAPHQL_DEPS } from './vitest.graphql.config.js';

const baseAlias = base.resolve?.alias;

export default defineConfig({
  ...base,
  resolve: {
    ...base.resolve,
    alias: [
      ...(Array.isArray(baseAlias) ? baseAlias : []),
      { find: /^graphql$/, replacement: 'graphql-17' },
      { find: /^graphql\/(.+)$/, replacement: 'graphql-17/$1' },
    ],
  },
  test: {
    ...base.test,
    include: ['test/graphql/**/*.test.ts'],
    // The example spawned as a child process runs on Node's own resolution, which is graphql 16 here.
    exclude: ['test/graphql/example-process.test.ts'],
    typecheck: { enabled: false },
    server: { deps: { inline: GRAPHQL_DEPS } },
  },
});
