/** A schema that exercises every way a guarded field can be reached, with counters for side effects. */
import { clerkDirectiveTypeDefs } from 'clerk-api-auth/graphql';

export const SECRET = 'NOTE_TEXT_SECRET';

export const typeDefs = /* GraphQL */ `
  interface Node {
    id: ID!
  }
  interface Secretive @auth {
    secret: String
  }
  type Note implements Node @auth {
    id: ID!
    text: String!
  }
  extend type Note {
    extra: String
  }
  type Public implements Node {
    id: ID!
    name: String
  }
  type Doc implements Secretive {
    secret: String
    title: String
  }
  union SearchResult = Note | Public
  type Item {
    id: ID!
    a: String @auth
    b: String @auth
    c: String @auth
    d: String @auth
    e: String @auth
  }
  type StrictItem {
    id: ID!
    a: String! @auth
    b: String! @auth
    c: String! @auth
    d: String! @auth
    e: String! @auth
  }
  type Holder {
    note: Note
    public: Public
  }
  type Query {
    health: String!
    node(id: ID!): Node
    notes: [Note!]
    search: [SearchResult!]!
    items: [Item!]!
    strictItems: [StrictItem]!
    holder: Holder
    doc: Doc
    secretive: Secretive
    admin: String @hasRole(role: ["org:admin", "org:owner"])
    perm: String @hasPermission(permission: "org:notes:read")
    strictAdmin: String! @hasRole(role: "org:admin")
  }
  type Mutation {
    touchNote: Note!
    touchPublic: Public!
    adminOnly: Boolean @hasRole(role: "org:admin")
  }
  type Subscription {
    ticks: Int! @auth
    publicTicks: Int!
    noteFeed: Note!
  }
`;

export interface Counters {
  touchNote: number;
  touchPublic: number;
  adminOnly: number;
  subscribed: number;
  resolved: number;
}

const note = { kind: 'Note', id: 'note_1', text: SECRET, extra: `EXTRA_${SECRET}` };
const publicNode = { kind: 'Public', id: 'public_1', name: 'PUBLIC_NAME' };

async function* count(times: number): AsyncGenerator<number> {
  for (let i = 1; i <= times; i++) yield i;
}

/** Resolvers over in-memory data; every resolver that would leak or mutate counts its runs. */
export function createResolvers(counters: Counters, listSize = 1000) {
  const items = Array.from({ length: listSize }, (_, i) => ({ id: `i${i}`, a: 'A', b: 'B', c: 'C', d: 'D', e: 'E' }));
  return {
    Node: { __resolveType: (value: { kind: string }) => value.kind },
    Secretive: { __resolveType: () => 'Doc' },
    SearchResult: { __resolveType: (value: { kind: string }) => value.kind },
    Query: {
      health: () => 'ok',
      node: (_: unknown, { id }: { id: string }) => (id === note.id ? note : id === publicNode.id ? publicNode : null),
      notes: () => {
        counters.resolved++;
        return [note];
      },
      search: () => [note, publicNode, note],
      items: () => items,
      strictItems: () => items,
      holder: () => ({ note, public: publicNode }),
      doc: () => ({ secret: `DOC_${SECRET}`, title: 'DOC_TITLE_SECRET' }),
      secretive: () => ({ secret: `SECRETIVE_${SECRET}`, title: 'x' }),
      admin: () => 'admin-data',
      perm: () => 'perm-data',
      strictAdmin: () => 'strict-admin-data',
    },
    Mutation: {
      touchNote: () => {
        counters.touchNote++;
        return note;
      },
      touchPublic: () => {
        counters.touchPublic++;
        return publicNode;
      },
      adminOnly: () => {
        counters.adminOnly++;
        return true;
      },
    },
    Subscription: {
      ticks: {
        subscribe: () => {
          counters.subscribed++;
          return count(3);
        },
        resolve: (tick: number) => tick,
      },
      publicTicks: {
        subscribe: () => {
          counters.subscribed++;
          return count(2);
        },
        resolve: (tick: number) => tick,
      },
      noteFeed: {
        subscribe: () => {
          counters.subscribed++;
          return count(1);
        },
        resolve: () => note,
      },
    },
  };
}

export const fixtureTypeDefs = [clerkDirectiveTypeDefs, typeDefs];

export function newCounters(): Counters {
  return { touchNote: 0, touchPublic: 0, adminOnly: 0, subscribed: 0, resolved: 0 };
}
