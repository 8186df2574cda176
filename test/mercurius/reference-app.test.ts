/**
 * The reference app on Mercurius (examples/mercurius: Fastify 5, the schema of examples/graphql-yoga,
 * graphql-ws over Mercurius's WebSocket) against the reference GraphQL contract, in-process over real
 * loopback HTTP and WebSocket with real tokens.
 *
 * Mercurius is CommonJS and loads graphql with Node's `require` (graphql 16's CommonJS build), which
 * no Vite alias or inlining reaches. So this file hands every module Vite loads that same instance
 * (`vi.mock`), as a Node process running the example has: one graphql realm. For the same reason it
 * runs on graphql 16 only (Mercurius 16's peer range is graphql ^16).
 */
import { createRequire } from 'node:module';
import { vi } from 'vitest';
import { startMercuriusServer } from '../../examples/mercurius/server.js';
import { referenceServerSuite } from '../support/graphql-reference-suite.js';

vi.mock('graphql', () => createRequire(import.meta.url)('graphql'));

referenceServerSuite({ name: 'mercurius', start: startMercuriusServer, sse: false });
