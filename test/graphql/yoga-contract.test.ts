/**
 * The GraphQL Yoga reference server (examples/graphql-yoga) against the same contract suite as the
 * Mercurius and Pothos servers, so the three answer alike (reference-app.test.ts covers Yoga in more
 * depth).
 */
import { startGraphQLServer } from '../../examples/graphql-yoga/server.js';
import { referenceServerSuite } from '../support/graphql-reference-suite.js';

referenceServerSuite({ name: 'graphql', start: startGraphQLServer, sse: true });
