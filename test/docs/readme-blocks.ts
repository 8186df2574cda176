/**
 * How README.md's code blocks are checked (used by readme.test.ts). The conventions, for anyone
 * editing the README:
 *
 * - Every fenced block has a language, and only these: `ts`, `sh`, `graphql`, `dotenv`. Any other
 *   (or none) fails the test, so nothing in the README goes unchecked.
 * - `ts` blocks are complete modules, type-checked together in strict mode against this package's
 *   sources (`clerk-api-auth/*` maps to `src/`, as in tsconfig.json) and the installed libraries,
 *   with bundler module resolution (what Next.js and Vite projects use). There are no partial
 *   blocks: a block that builds on another names its file on its first line (`// server/trpc.ts`)
 *   and the other imports it (`./trpc.js`, or `@/server/trpc` as in a Next.js app).
 * - `/* GraphQL *\/` template literals inside `ts` blocks are parsed and built into a schema with
 *   `clerkDirectiveTypeDefs` (the only interpolation allowed is `${clerkDirectiveTypeDefs}`), and
 *   their directives compiled as `useClerk` compiles them.
 * - A `ts` block named `*.test.ts` is also executed with vitest, offline, with the named blocks it
 *   imports.
 * - `sh` blocks may only run commands that can be checked: `npm ci`, `npm test`, `npm run <script>`
 *   (the script must exist), `npm install` of this package or its declared (peer) dependencies,
 *   `npx tsx [--env-file=.env] <file>` (the file must exist), `cp <file> <dest>` (the file must exist).
 *   `npm run demo` itself is executed by test/demo; `npm test` is what CI runs.
 * - `graphql` blocks: type definitions are built as above; operations are validated against the
 *   reference app's schema (examples/graphql-yoga/schema.ts).
 * - `dotenv` blocks: every name is in .env.example, and no value looks like a real key.
 */
export interface CodeBlock {
  /** The fence's language. */
  lang: string;
  /** README line of the block's first content line (1-based). */
  line: number;
  code: string;
}

/** The fenced code blocks of a Markdown document, in order. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  let open: { lang: string; line: number; indent: number; body: string[] } | null = null;
  lines.forEach((text, index) => {
    if (open === null) {
      const fence = /^( {0,3})```\s*([\w-]*)\s*$/.exec(text);
      if (fence) open = { lang: fence[2] ?? '', line: index + 2, indent: (fence[1] ?? '').length, body: [] };
      return;
    }
    if (/^ {0,3}```\s*$/.test(text)) {
      blocks.push({ lang: open.lang, line: open.line, code: open.body.join('\n') });
      open = null;
      return;
    }
    const indent = Math.min(open.indent, text.length - text.trimStart().length);
    open.body.push(text.slice(indent));
  });
  if (open !== null) throw new Error(`README: the code block opened at line ${(open as { line: number }).line - 1} is never closed`);
  return blocks;
}

/** The file a `ts` block names on its first line (`// server/trpc.ts`), if any. */
export function blockFileName(block: CodeBlock): string | undefined {
  const first = block.code.split('\n', 1)[0] ?? '';
  return /^\/\/ ([\w@.[\]/-]+\.tsx?)\s*$/.exec(first)?.[1];
}

/** The markdown between a heading (exact text) and the next heading of the same or a higher level. */
export function section(markdown: string, heading: string): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.trim() === heading);
  if (start < 0) throw new Error(`README has no heading ${JSON.stringify(heading)}`);
  const level = /^#+/.exec(heading)?.[0].length ?? 2;
  const end = lines.findIndex((line, index) => index > start && new RegExp(`^#{1,${level}} `).test(line));
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

/** The commands of a shell block: comments and blank lines dropped, `\` continuations joined, `&&`/`;`/`|` split. */
export function shellCommands(code: string): string[][] {
  const joined = code.replace(/\\\n/g, ' ');
  const commands: string[][] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    for (const part of line.split(/&&|\|\||;|\|/)) {
      const words = part.trim().split(/\s+/).filter(Boolean);
      if (words.length > 0) commands.push(words);
    }
  }
  return commands;
}
