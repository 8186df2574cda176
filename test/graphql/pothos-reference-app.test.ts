/**
 * The reference app with its code-first Pothos schema on GraphQL Yoga (examples/pothos) against the
 * reference GraphQL contract, in-process over real loopback HTTP, SSE and graphql-ws with real tokens.
 */
import { startPothosServer } from '../../examples/pothos/server.js';
import { referenceServerSuite } from '../support/graphql-reference-suite.js';

referenceServerSuite({ name: 'pothos', start: startPothosServer, sse: true });
