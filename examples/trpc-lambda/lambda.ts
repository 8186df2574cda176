/**
 * The entry a deployment points its function at (handler `lambda.handler`), configured from the
 * function's environment: CLERK_SECRET_KEY and/or CLERK_JWT_KEY, CLERK_PUBLISHABLE_KEY,
 * CLERK_AUTHORIZED_PARTIES, CLERK_API_URL. Set NODE_ENV=production there, so that a missing key
 * stops the function instead of falling back to the offline dev issuer.
 *
 * Each instance has its own in-memory notes store; a real deployment would use a database.
 */
import { loadClerk } from '../shared/clerk.js';
import { NotesStore } from '../shared/notes.js';
import { createLambdaHandler } from './handler.js';

// Once per cold start, outside the handler: one ClerkAuth (one key cache, one token cache) per instance.
const clerk = await loadClerk(process.env, 'trpc-lambda');

export const handler = createLambdaHandler({ clerkAuth: clerk.clerkAuth, notes: new NotesStore() });
