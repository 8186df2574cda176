import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests and examples import the package by name, as users do; resolve it to the sources.
    alias: [
      { find: /^clerk-api-auth$/, replacement: src('index.ts') },
      { find: /^clerk-api-auth\/(trpc|graphql|apollo|testing|client|redis|webhooks|mercurius|pothos)$/, replacement: src('$1/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/loopback-only.ts'],
    // graphql 16 has CJS and ESM builds and no exports map: inline the libraries that import it so
    // they share the one instance our sources use (see vitest.graphql.config.ts).
    server: {
      deps: {
        inline: [
          /[\\/]node_modules[\\/](graphql-yoga|graphql-ws|@graphql-tools|@envelop|@graphql-yoga|@pothos)[\\/]/,
          // Apollo Server and graphql-http execute on our schemas: the same graphql instance too (not their own nested dependencies).
          /[\\/]node_modules[\\/](@apollo[\\/]server|graphql-http)[\\/](?!node_modules[\\/])/,
        ],
      },
    },
    env: { CLERK_TELEMETRY_DISABLED: '1' },
    testTimeout: 20_000,
    hookTimeout: 30_000,
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
