import ts from 'typescript';
import type { CompileError } from './compileError';

// Compiling the driver: TypeScript to the JavaScript the sandbox runs, one file at a time
// (transpileModule: no type check, so a run starts fast; the editor type-checks). Every
// statement is preceded by `__line = N`, N being its line in the TypeScript source, so
// findings, bug checks, DbgPrint lines and trace events can name the driver's own line
// whatever the compiler did to the code, and the watchdog stops a loop at a line.

export type { CompileError } from './compileError';

export interface CompiledModule {
  /** A CommonJS module body: `exports`, `require` and `module` are free. */
  code: string;
}

export const LINE_VARIABLE = '__line';
/** In a debug build every mark also calls this host function with the line (breakpoints, stepping). */
export const STEP_FUNCTION = '__step';

/** Statements that run (declarations of types and functions do not get a line mark). */
function runs(statement: ts.Statement): boolean {
  return !(
    ts.isFunctionDeclaration(statement) ||
    ts.isInterfaceDeclaration(statement) ||
    ts.isTypeAliasDeclaration(statement) ||
    ts.isImportDeclaration(statement) ||
    ts.isModuleDeclaration(statement) ||
    (ts.isEnumDeclaration(statement) && statement.modifiers?.some((m) => m.kind === ts.SyntaxKind.DeclareKeyword)) ||
    ts.isEmptyStatement(statement)
  );
}

function lineMarker(debug: boolean): ts.TransformerFactory<ts.SourceFile> {
  return (context) => {
    const f = context.factory;
    let source: ts.SourceFile;
    const mark = (node: ts.Node): ts.Statement[] => {
      const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
      const set = f.createExpressionStatement(f.createAssignment(f.createIdentifier(LINE_VARIABLE), f.createNumericLiteral(line)));
      if (!debug) return [set];
      return [set, f.createExpressionStatement(f.createCallExpression(f.createIdentifier(STEP_FUNCTION), undefined, [f.createNumericLiteral(line)]))];
    };
    const marked = (statements: ts.NodeArray<ts.Statement>): ts.Statement[] => {
      const out: ts.Statement[] = [];
      for (const s of statements) {
        const visited = ts.visitNode(s, visit) as ts.Statement;
        if (s.pos >= 0 && runs(s)) out.push(...mark(s));
        out.push(visited);
      }
      return out;
    };
    /** A lone statement body (`if (x) y;`) becomes a block so it can carry its mark. */
    const body = (s: ts.Statement): ts.Statement => (ts.isBlock(s) ? (ts.visitNode(s, visit) as ts.Statement) : f.createBlock(marked(f.createNodeArray([s])), true));
    const visit = (node: ts.Node): ts.Node => {
      if (ts.isBlock(node)) return f.updateBlock(node, marked(node.statements));
      if (ts.isCaseClause(node)) return f.updateCaseClause(node, ts.visitNode(node.expression, visit) as ts.Expression, marked(node.statements));
      if (ts.isDefaultClause(node)) return f.updateDefaultClause(node, marked(node.statements));
      if (ts.isIfStatement(node)) {
        return f.updateIfStatement(node, ts.visitNode(node.expression, visit) as ts.Expression, body(node.thenStatement), node.elseStatement && (ts.isIfStatement(node.elseStatement) ? (visit(node.elseStatement) as ts.Statement) : body(node.elseStatement)));
      }
      if (ts.isWhileStatement(node)) return f.updateWhileStatement(node, ts.visitNode(node.expression, visit) as ts.Expression, body(node.statement));
      if (ts.isDoStatement(node)) return f.updateDoStatement(node, body(node.statement), ts.visitNode(node.expression, visit) as ts.Expression);
      if (ts.isForStatement(node)) {
        return f.updateForStatement(node, ts.visitNode(node.initializer, visit) as ts.ForInitializer | undefined, ts.visitNode(node.condition, visit) as ts.Expression | undefined, ts.visitNode(node.incrementor, visit) as ts.Expression | undefined, body(node.statement));
      }
      if (ts.isForOfStatement(node)) return f.updateForOfStatement(node, node.awaitModifier, ts.visitNode(node.initializer, visit) as ts.ForInitializer, ts.visitNode(node.expression, visit) as ts.Expression, body(node.statement));
      if (ts.isForInStatement(node)) return f.updateForInStatement(node, ts.visitNode(node.initializer, visit) as ts.ForInitializer, ts.visitNode(node.expression, visit) as ts.Expression, body(node.statement));
      return ts.visitEachChild(node, visit, context);
    };
    return (file) => {
      source = file;
      return f.updateSourceFile(file, marked(file.statements));
    };
  };
}

const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.CommonJS,
  importHelpers: false,
  sourceMap: false,
  removeComments: true,
  isolatedModules: true,
};

/**
 * Compiles one TypeScript file; `markLines` adds the line marks (the driver's own files), and
 * `debug` a call to STEP_FUNCTION after each, where a debugger stops.
 */
export function compileDriver(source: string, file: string, markLines = true, debug = false): CompiledModule | CompileError[] {
  // A debug run compiles its driver once to refuse it before the machine starts, and again
  // as the sandbox loads it; a lab's helper modules are the same run after run (and a spare
  // worker has compiled them already while it rehearsed). Each is transpiled once.
  const key = `${file}\0${markLines}\0${debug}\0${source}`;
  const hit = recent.get(key);
  if (hit !== undefined) {
    recent.delete(key);
    recent.set(key, hit);
    return hit;
  }
  const result = transpile(source, file, markLines, debug);
  recent.set(key, result);
  if (recent.size > RECENT) recent.delete(recent.keys().next().value!);
  return result;
}

/** The last few compilations, oldest first. */
const recent = new Map<string, CompiledModule | CompileError[]>();
const RECENT = 8;

function transpile(source: string, file: string, markLines: boolean, debug: boolean): CompiledModule | CompileError[] {
  let output: ts.TranspileOutput;
  try {
    output = ts.transpileModule(source, {
      compilerOptions: OPTIONS,
      fileName: file,
      reportDiagnostics: true,
      transformers: markLines ? { before: [lineMarker(debug)] } : {},
    });
  } catch (error) {
    // The compiler's parser recurses once per level of nesting: thousands of brackets or
    // blocks deep, it runs out of stack. That is the driver's doing, and said as such.
    if (error instanceof RangeError) return [{ file, line: 1, column: 1, message: `the compiler ran out of stack: the code nests too deeply (brackets, calls or blocks thousands of levels deep)` }];
    throw error;
  }
  const errors = (output.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) return errors.map((d) => toError(d, file));
  return { code: output.outputText };
}

function toError(d: ts.Diagnostic, file: string): CompileError {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
  if (d.file && d.start !== undefined) {
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return { file, line: line + 1, column: character + 1, message };
  }
  return { file, line: 1, column: 1, message };
}

export function isCompileErrors(value: CompiledModule | CompileError[]): value is CompileError[] {
  return Array.isArray(value);
}
