import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/*
 * The public surface of the package, as text: every name each entry point exports, its kind, and
 * its signature or shape, as the compiler sees it. docs/api-report.md holds the committed report;
 * api-report.test.ts fails when the code's differs, so a change to the public API is a visible
 * diff in review (the role of api-extractor's reports, written with the compiler API directly).
 */

const repo = fileURLToPath(new URL('../../', import.meta.url));

/** The package's entry points (package.json `exports`), by import name. */
export const ENTRY_POINTS: Readonly<Record<string, string>> = {
  sluice: 'core/index.ts',
  'sluice/state': 'state/index.ts',
  'sluice/windows': 'windows/index.ts',
  'sluice/checkpoint': 'checkpoint/index.ts',
  'sluice/extend': 'state/extend.ts',
  'sluice/postgres': 'connectors/postgres/index.ts',
  'sluice/nats': 'connectors/nats/index.ts',
  'sluice/redis': 'connectors/redis/index.ts',
  'sluice/mqtt': 'connectors/mqtt/index.ts',
  'sluice/monitor': 'monitor/index.ts',
  'sluice/ml': 'ml/index.ts',
  'sluice/testing': 'test/kit/index.ts',
};

/** One exported name: its kind and how it reads. */
export interface ApiEntry {
  readonly name: string;
  readonly kind: string;
  readonly lines: readonly string[];
}

// The enum's members or-ed together are a plain number to the type checker: typed back as the enum.
const FLAGS = (ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope | ts.TypeFormatFlags.WriteArrowStyleSignature) as ts.TypeFormatFlags;
const ALIAS_FLAGS = (FLAGS | ts.TypeFormatFlags.InTypeAlias) as ts.TypeFormatFlags;

/** The exports of every entry point, by entry point, in name order. */
export function apiOf(): Record<string, ApiEntry[]> {
  const configPath = ts.findConfigFile(repo, (path) => ts.sys.fileExists(path), 'tsconfig.json') as string;
  const config = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, (path) => ts.sys.readFile(path)).config as unknown, ts.sys, repo);
  const program = ts.createProgram(Object.values(ENTRY_POINTS).map((file) => `${repo}${file}`), config.options);
  const checker = program.getTypeChecker();
  const report: Record<string, ApiEntry[]> = {};
  for (const [entry, file] of Object.entries(ENTRY_POINTS)) {
    const source = program.getSourceFile(`${repo}${file}`);
    const module = source === undefined ? undefined : checker.getSymbolAtLocation(source);
    if (module === undefined) throw new Error(`api report: cannot read the exports of ${file}`);
    report[entry] = checker
      .getExportsOfModule(module)
      .map((symbol) => describe(checker, symbol))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  return report;
}

function describe(checker: ts.TypeChecker, exported: ts.Symbol): ApiEntry {
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const name = exported.name;
  const declaration = symbol.declarations?.[0];
  const flags = symbol.flags;
  if (declaration === undefined) return { name, kind: 'unknown', lines: [] };
  if (flags & ts.SymbolFlags.Class) return { name, kind: 'class', lines: classLines(checker, symbol, declaration) };
  if (flags & ts.SymbolFlags.Function) {
    const type = checker.getTypeOfSymbolAtLocation(symbol, declaration);
    return { name, kind: 'function', lines: type.getCallSignatures().map((s) => checker.signatureToString(s, undefined, FLAGS)) };
  }
  if (flags & ts.SymbolFlags.Variable) {
    return { name, kind: 'const', lines: [checker.typeToString(checker.getTypeOfSymbolAtLocation(symbol, declaration), undefined, FLAGS)] };
  }
  if (flags & ts.SymbolFlags.Interface) return { name, kind: 'interface', lines: memberLines(checker, checker.getDeclaredTypeOfSymbol(symbol), declaration) };
  if (flags & ts.SymbolFlags.TypeAlias) {
    const type = checker.getDeclaredTypeOfSymbol(symbol);
    return { name, kind: 'type', lines: [checker.typeToString(type, undefined, ALIAS_FLAGS)] };
  }
  return { name, kind: 'other', lines: [] };
}

/** A class: its constructor's parameters, and its public members (static ones marked). */
function classLines(checker: ts.TypeChecker, symbol: ts.Symbol, declaration: ts.Declaration): string[] {
  const lines: string[] = [];
  const constructorType = checker.getTypeOfSymbolAtLocation(symbol, declaration);
  for (const signature of constructorType.getConstructSignatures()) {
    const isPublic = signature.declaration === undefined || !hasModifier(signature.declaration, ts.SyntaxKind.PrivateKeyword) && !hasModifier(signature.declaration, ts.SyntaxKind.ProtectedKeyword);
    if (isPublic) lines.push(`new ${checker.signatureToString(signature, undefined, FLAGS)}`);
  }
  for (const member of checker.getPropertiesOfType(constructorType)) {
    if (member.name === 'prototype' || !isPublicMember(member)) continue;
    lines.push(`static ${memberLine(checker, member, declaration)}`);
  }
  return [...lines, ...memberLines(checker, checker.getDeclaredTypeOfSymbol(symbol), declaration)];
}

function memberLines(checker: ts.TypeChecker, type: ts.Type, at: ts.Node): string[] {
  const lines = checker
    .getPropertiesOfType(type)
    .filter(isPublicMember)
    .map((member) => memberLine(checker, member, at));
  for (const signature of type.getCallSignatures()) lines.push(checker.signatureToString(signature, undefined, FLAGS));
  return lines;
}

function memberLine(checker: ts.TypeChecker, member: ts.Symbol, at: ts.Node): string {
  const declaration = member.valueDeclaration ?? member.declarations?.[0];
  const readonly = declaration !== undefined && (hasModifier(declaration, ts.SyntaxKind.ReadonlyKeyword) || (ts.isGetAccessor(declaration) && member.declarations?.every((d) => !ts.isSetAccessor(d)) === true)) ? 'readonly ' : '';
  const optional = member.flags & ts.SymbolFlags.Optional ? '?' : '';
  return `${readonly}${member.name}${optional}: ${checker.typeToString(checker.getTypeOfSymbolAtLocation(member, declaration ?? at), undefined, FLAGS)}`;
}

/** A member the package declares (not one inherited from Node's or the language's types), public and not `@internal`. */
function isPublicMember(member: ts.Symbol): boolean {
  if (member.name.startsWith('#') || member.name.startsWith('__@')) return false;
  const declarations = member.declarations ?? [];
  if (!declarations.some((d) => ownFile(d.getSourceFile().fileName))) return false;
  return declarations.every((d) => !hasModifier(d, ts.SyntaxKind.PrivateKeyword) && !hasModifier(d, ts.SyntaxKind.ProtectedKeyword) && !isInternal(d));
}

const ownFile = (path: string): boolean => path.startsWith(repo) && !path.includes('/node_modules/');

function hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === kind);
}

/** Members marked `@internal` in their TSDoc are not part of the public API. */
function isInternal(node: ts.Node): boolean {
  return ts.getJSDocTags(node).some((tag) => tag.tagName.text === 'internal');
}

/** The report as markdown: one section per entry point, one block per exported name. */
export function formatReport(report: Record<string, ApiEntry[]>): string {
  const out = [
    '# API report',
    '',
    'The public surface of the package, generated by `test/api/api-report.ts` from the entry points of',
    '`package.json`; `test/api/api-report.test.ts` fails when the code no longer matches it. After a',
    'deliberate change to the public API, regenerate it with `UPDATE_API_REPORT=1 npx vitest run test/api`',
    'and review the diff.',
    '',
  ];
  for (const [entry, entries] of Object.entries(report)) {
    out.push(`## \`${entry}\``, '', `${entries.length} names.`, '', '```ts');
    for (const { name, kind, lines } of entries) {
      out.push(`${kind} ${name}`);
      for (const line of lines) out.push(`  ${line}`);
    }
    out.push('```', '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
