/**
 * Generates docs/API.md, the API reference of every public export, from the sources' own
 * declarations and JSDoc with the TypeScript compiler API (TypeDoc's job, without the dependency).
 * api-reference.test.ts fails when docs/API.md differs from what this renders.
 *
 *   npm run docs:api        (writes docs/API.md)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The package's entry points, in the order the reference presents them. */
export const ENTRIES = [
  { specifier: 'clerk-api-auth', file: 'src/index.ts' },
  { specifier: 'clerk-api-auth/trpc', file: 'src/trpc/index.ts' },
  { specifier: 'clerk-api-auth/graphql', file: 'src/graphql/index.ts' },
  { specifier: 'clerk-api-auth/apollo', file: 'src/apollo/index.ts' },
  { specifier: 'clerk-api-auth/mercurius', file: 'src/mercurius/index.ts' },
  { specifier: 'clerk-api-auth/pothos', file: 'src/pothos/index.ts' },
  { specifier: 'clerk-api-auth/client', file: 'src/client/index.ts' },
  { specifier: 'clerk-api-auth/testing', file: 'src/testing/index.ts' },
  { specifier: 'clerk-api-auth/redis', file: 'src/redis/index.ts' },
  { specifier: 'clerk-api-auth/webhooks', file: 'src/webhooks/index.ts' },
] as const;

export const API_MD = join(root, 'docs/API.md');

/** Where the sources are read online: docs/ ships in the package, src/ does not (package.json "files"). */
const repositoryUrl = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { repository: { url: string } }).repository.url.replace(/^git\+/, '').replace(/\.git$/, '');

interface Rendered {
  name: string;
  kind: string;
  summary: string;
  body: string;
}

const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });

function withoutExport<T extends ts.Node>(modifiers: ts.NodeArray<T> | undefined): T[] | undefined {
  return modifiers?.filter((modifier) => modifier.kind !== ts.SyntaxKind.ExportKeyword && modifier.kind !== ts.SyntaxKind.DefaultKeyword);
}

function isPrivate(member: ts.ClassElement): boolean {
  const flags = ts.getCombinedModifierFlags(member as unknown as ts.Declaration);
  return (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0 || (member.name !== undefined && ts.isPrivateIdentifier(member.name));
}

/** A declaration's signature as TypeScript source: bodies dropped, comments and `export` removed. */
function signature(declaration: ts.Declaration): string | undefined {
  const file = declaration.getSourceFile();
  const f = ts.factory;
  let node: ts.Node | undefined;
  if (ts.isFunctionDeclaration(declaration)) {
    node = f.updateFunctionDeclaration(
      declaration,
      withoutExport(declaration.modifiers),
      declaration.asteriskToken,
      declaration.name,
      declaration.typeParameters,
      declaration.parameters,
      declaration.type,
      undefined,
    );
  } else if (ts.isInterfaceDeclaration(declaration)) {
    node = f.updateInterfaceDeclaration(declaration, withoutExport(declaration.modifiers), declaration.name, declaration.typeParameters, declaration.heritageClauses, declaration.members);
  } else if (ts.isTypeAliasDeclaration(declaration)) {
    node = f.updateTypeAliasDeclaration(declaration, withoutExport(declaration.modifiers), declaration.name, declaration.typeParameters, declaration.type);
  } else if (ts.isClassDeclaration(declaration)) {
    const members = declaration.members
      .filter((member) => !isPrivate(member))
      .map((member) => {
        if (ts.isConstructorDeclaration(member)) return f.updateConstructorDeclaration(member, member.modifiers, member.parameters, undefined);
        if (ts.isMethodDeclaration(member)) {
          return f.updateMethodDeclaration(member, member.modifiers, member.asteriskToken, member.name, member.questionToken, member.typeParameters, member.parameters, member.type, undefined);
        }
        return member;
      });
    node = f.updateClassDeclaration(declaration, withoutExport(declaration.modifiers), declaration.name, declaration.typeParameters, declaration.heritageClauses, members);
  } else if (ts.isVariableDeclaration(declaration)) {
    const list = declaration.parent;
    const statement = ts.isVariableDeclarationList(list) ? list.parent : undefined;
    if (statement && ts.isVariableStatement(statement)) {
      node = f.updateVariableStatement(statement, withoutExport(statement.modifiers), f.updateVariableDeclarationList(list as ts.VariableDeclarationList, [declaration]));
    }
  }
  return node === undefined ? undefined : printer.printNode(ts.EmitHint.Unspecified, node, file);
}

function kindOf(declaration: ts.Declaration): string {
  if (ts.isFunctionDeclaration(declaration)) return 'function';
  if (ts.isClassDeclaration(declaration)) return 'class';
  if (ts.isInterfaceDeclaration(declaration)) return 'interface';
  if (ts.isTypeAliasDeclaration(declaration)) return 'type';
  if (ts.isVariableDeclaration(declaration)) return 'const';
  return ts.SyntaxKind[declaration.kind];
}

function firstSentence(text: string): string {
  const paragraph = text.split(/\n\s*\n/)[0] ?? '';
  const flat = paragraph.replace(/\s*\n\s*/g, ' ').trim();
  const match = /^(.*?(?<!\be\.g|\bi\.e|\betc)[.!?])(\s+[A-Z`(-]|$)/.exec(flat);
  return (match?.[1] ?? flat).replace(/\|/g, '\\|');
}

function renderTags(tags: readonly ts.JSDocTagInfo[]): string[] {
  const out: string[] = [];
  const params = tags.filter((tag) => tag.name === 'param');
  if (params.length > 0) {
    out.push('**Parameters**', '');
    for (const tag of params) {
      const text = ts.displayPartsToString(tag.text);
      const match = /^(\S+)\s*(?:-\s*)?([\s\S]*)$/.exec(text);
      out.push(`- \`${match?.[1] ?? text}\`${match?.[2] ? ` — ${match[2].replace(/\s*\n\s*/g, ' ')}` : ''}`);
    }
    out.push('');
  }
  for (const tag of tags) {
    const text = ts.displayPartsToString(tag.text).trim();
    if (tag.name === 'param' || tag.name === 'packageDocumentation') continue;
    if (tag.name === 'example') {
      const fence = text.indexOf('```');
      const caption = (fence < 0 ? '' : text.slice(0, fence)).trim();
      const code = fence < 0 ? `\`\`\`ts\n${text}\n\`\`\`` : text.slice(fence);
      out.push(caption ? `**Example: ${caption}**` : '**Example**', '', code, '');
    } else if (tag.name === 'see') {
      out.push(`**See** ${text}`, '');
    } else {
      out.push(`**@${tag.name}** ${text}`, '');
    }
  }
  return out;
}

/** Whether a file is one of TypeScript's bundled `lib.*.d.ts`. */
function isDefaultLib(fileName: string): boolean {
  return /[\\/]lib\.[\w.]+\.d\.ts$/.test(fileName);
}

function memberList(checker: ts.TypeChecker, symbol: ts.Symbol, declaration: ts.Declaration): string[] {
  if (!ts.isInterfaceDeclaration(declaration) && !ts.isClassDeclaration(declaration)) return [];
  const type = checker.getDeclaredTypeOfSymbol(symbol);
  const lines: string[] = [];
  for (const property of checker.getPropertiesOfType(type)) {
    const member = property.declarations?.[0];
    if (member === undefined) continue;
    if (ts.isClassElement(member) && isPrivate(member)) continue;
    if (property.name.startsWith('__')) continue;
    const memberFile = member.getSourceFile().fileName;
    // Error's own name, message, stack: the standard library documents them.
    if (/node_modules\/typescript\/lib\//.test(memberFile) || isDefaultLib(memberFile)) continue;
    const docs = ts.displayPartsToString(property.getDocumentationComment(checker)).replace(/\s*\n\s*/g, ' ').trim();
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(memberFile)?.[1];
    const from = pkg === undefined ? '' : ` (from \`${pkg}\`)`;
    const inherited = from === '' && member.parent !== declaration && !ts.isClassDeclaration(declaration) ? ' (inherited)' : '';
    if (!docs && !from && !inherited) continue;
    const typeText = from || inherited ? `: \`${checker.typeToString(checker.getTypeOfSymbol(property), undefined, ts.TypeFormatFlags.NoTruncation)}\`` : '';
    lines.push(`- \`${property.name}\`${typeText}${from}${inherited}${docs ? ` — ${docs}` : ''}`);
  }
  return lines.length > 0 ? ['**Members**', '', ...lines, ''] : [];
}

function packageDocs(file: ts.SourceFile): string {
  const match = /\/\*\*([\s\S]*?)\*\//.exec(file.text);
  if (!match || !match[1]?.includes('@packageDocumentation')) return '';
  return (match[1] ?? '')
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''))
    .filter((line) => !line.includes('@packageDocumentation'))
    .join('\n')
    .trim()
    .replace(/^@example\s*$/m, '**Example**\n');
}

function renderExport(checker: ts.TypeChecker, exported: ts.Symbol): Rendered {
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const declarations = (symbol.declarations ?? []) as ts.Declaration[];
  const first = declarations[0];
  if (first === undefined) throw new Error(`${exported.name}: no declaration`);
  const fileName = first.getSourceFile().fileName;
  const kinds = [...new Set(declarations.map(kindOf))];
  const kind = kinds.join(' + ');
  const docs = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
  const lines: string[] = [`### \`${exported.name}\``, ''];

  if (fileName.includes('node_modules')) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(fileName)?.[1] ?? 'a dependency';
    lines.push(`${kind} · re-exported from \`${pkg}\`, which documents it.`, '');
    if (docs) lines.push(docs, '');
    return { name: exported.name, kind, summary: `Re-exported from \`${pkg}\`.`, body: lines.join('\n') };
  }

  const source = relative(root, fileName);
  lines.push(`${kind} · [${source}](${repositoryUrl}/blob/main/${source})`, '');
  const signatures = declarations.map(signature).filter((text): text is string => text !== undefined);
  if (signatures.length > 0) lines.push('```ts', signatures.join('\n\n'), '```', '');
  if (docs) lines.push(docs, '');
  for (const declaration of declarations) lines.push(...memberList(checker, symbol, declaration));
  lines.push(...renderTags(symbol.getJsDocTags(checker)));
  return { name: exported.name, kind, summary: firstSentence(docs), body: lines.join('\n').trimEnd() };
}

const anchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-');

/** The whole of docs/API.md. */
export function renderApiReference(): string {
  const program = ts.createProgram(
    ENTRIES.map((entry) => join(root, entry.file)),
    { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, skipLibCheck: true, noEmit: true },
  );
  const checker = program.getTypeChecker();
  const out: string[] = [
    '# API reference',
    '',
    '<!-- Generated by `npm run docs:api` (test/docs/api-reference.ts) from the sources. Do not edit: test/docs/api-reference.test.ts fails when this file is stale. -->',
    '',
    'Every public export of every entry point, with its declaration, JSDoc and examples. Types and signatures are',
    "the sources' own; the [README](../README.md) shows how the pieces fit together.",
    '',
  ];
  const toc: string[] = [];
  const sections: string[] = [];
  const seen = new Map<string, string>();

  for (const entry of ENTRIES) {
    const file = program.getSourceFile(join(root, entry.file));
    const moduleSymbol = file && checker.getSymbolAtLocation(file);
    if (!file || !moduleSymbol) throw new Error(`cannot read ${entry.file}`);
    const rendered = checker.getExportsOfModule(moduleSymbol).map((exported) => renderExport(checker, exported));
    const values = rendered.filter((item) => /function|class|const/.test(item.kind));
    const types = rendered.filter((item) => !values.includes(item));
    for (const item of rendered) {
      const previous = seen.get(item.name);
      if (previous !== undefined) throw new Error(`${item.name} is exported by both ${previous} and ${entry.specifier}: give the reference unique anchors`);
      seen.set(item.name, entry.specifier);
    }

    toc.push(`- [\`${entry.specifier}\`](#${anchor(entry.specifier)}): ${rendered.length} exports`);
    const part: string[] = [`## \`${entry.specifier}\``, ''];
    const about = packageDocs(file);
    if (about) part.push(about, '');
    part.push('| export | kind | summary |', '|---|---|---|');
    for (const item of [...values, ...types]) part.push(`| [\`${item.name}\`](#${anchor(item.name)}) | ${item.kind} | ${item.summary} |`);
    part.push('');
    for (const item of [...values, ...types]) part.push(item.body, '');
    sections.push(part.join('\n'));
  }
  return `${[...out, ...toc, '', ...sections].join('\n').trimEnd()}\n`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const text = renderApiReference();
  const before = (() => {
    try {
      return readFileSync(API_MD, 'utf8');
    } catch {
      return '';
    }
  })();
  writeFileSync(API_MD, text);
  console.log(`${relative(root, API_MD)}: ${before === text ? 'already up to date' : 'written'} (${text.split('\n').length} lines)`);
}
