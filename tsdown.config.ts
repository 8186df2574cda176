import { defineConfig } from 'tsdown';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    trpc: 'src/trpc/index.ts',
    graphql: 'src/graphql/index.ts',
    apollo: 'src/apollo/index.ts',
    testing: 'src/testing/index.ts',
    client: 'src/client/index.ts',
    redis: 'src/redis/index.ts',
    webhooks: 'src/webhooks/index.ts',
    mercurius: 'src/mercurius/index.ts',
    pothos: 'src/pothos/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  // The core runs on any runtime with WebCrypto and fetch; Node builtins appear only in the testing helpers.
  platform: 'neutral',
  deps: { neverBundle: [/^node:/] },
  fixedExtension: true,
  target: 'es2022',
  sourcemap: true,
  clean: true,
  outDir: 'dist',
});
