// An app's roles and permissions, declared the way Clerk documents it (a global augmentation of
// `ClerkAuthorization`): Clerk's types, and so clerk-api-auth's requirements, use exactly these.
export {};

declare global {
  interface ClerkAuthorization {
    role: 'org:admin' | 'org:member';
    permission: 'org:notes:create' | 'org:notes:read';
  }
}
