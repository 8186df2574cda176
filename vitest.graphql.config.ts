/**
 * The GraphQL suite on graphql 16 with a single graphql realm.
 *
 * graphql 16 ships CommonJS (`main`) and ESM (`module`) builds without an `exports` map: Vite resolves
 * our sources' `import 'graphql'` to the ESM build while Node resolves it to the CommonJS build for
 * externalized dependencies (graphql-yoga, graphql-tools, envelop, graphql-ws), so two graphql
 * instances meet and graphql refuses to mix them. Inlining those dependencies makes Vite resolve
 * every `graphql` import the same way.
 *
 *   npx vitest run --config vitest.graphql.config.ts
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/** Dependencies that import `graphql` and must share our instance of it. */
export const GRAPHQL_DEPS = [
  /[\\/]node_modules[\\/](graphql-yoga|graphql-ws|@graphql-tools|@envelop|@graphql-yoga|@pothos)[\\/]/,
  /[\\/]node_modules[\\/](@apollo[\\/]server|graphql-http)[\\/](?!node_modules[\\/])/,
];

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/graphql/**/*.test.ts'],
    typecheck: { enabled: false },
    server: { deps: { inline: GRAPHQL_DEPS } },
  },
});
