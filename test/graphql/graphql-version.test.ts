/** Which graphql major this run uses (the suite runs on 16 by default and on 17 with vitest.graphql17.config.ts). */
import { expect, it } from 'vitest';
import { versionInfo } from 'graphql';

it('runs on a supported graphql major', () => {
  expect([16, 17]).toContain(versionInfo.major);
  console.info(`graphql ${versionInfo.major}.${versionInfo.minor}.${versionInfo.patch}`);
});
