import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from './services/staticFiles';

// Electron's security checklist (https://www.electronjs.org/docs/latest/tutorial/security):
// @doyensec/electronegativity scans the Electron glue for misconfigurations and fails the
// test on any finding of severity HIGH or MEDIUM; then the checklist's items that it cannot
// see (the CSP is a response header of the dmalab:// protocol; the permission check handler;
// the IPC sender check) are read from src/main/index.ts itself.

const ROOT = resolve(import.meta.dirname, '../..');
const INDEX = join(ROOT, 'src/main/index.ts');

interface Level {
  name: string;
  value: number;
}
interface Issue {
  id: string;
  file: string;
  location: { line: number; column: number };
  severity: Level;
  confidence: Level;
  description: string;
  manualReview: boolean;
}
interface ScanResult {
  globalChecks: number;
  atomicChecks: number;
  errors: { file: string; message: string; tolerable: boolean }[];
  issues: Issue[];
}
type Run = (options: { input: string; isRelative: boolean; excludeFromScan: string[] }, forCli: boolean) => Promise<ScanResult>;

const MEDIUM = 2; // electronegativity's severity values: INFORMATIONAL 0, LOW 1, MEDIUM 2, HIGH 3

// Its runner fetches translations from S3 (and, in the check excluded below, Electron's release
// list from GitHub) with `got`. A test does not reach the network: `got` answers 404, so the
// messages are the ones in the package.
const fromElectronegativity = createRequire(createRequire(import.meta.url).resolve('@doyensec/electronegativity/package.json'));
function loadElectronegativity(): Run {
  const gotPath = fromElectronegativity.resolve('got');
  const offline = async () => ({ statusCode: 404, body: '', headers: {} });
  const stub = new Module(gotPath);
  stub.filename = gotPath;
  stub.exports = Object.assign(offline, { head: offline });
  stub.loaded = true;
  fromElectronegativity.cache[gotPath] = stub;
  return fromElectronegativity('@doyensec/electronegativity') as Run;
}

/** The sources electronegativity reads: src/main and src/preload without their tests, and package.json (for Electron's version). */
function copySources(dir: string): void {
  const notATest = (path: string) => !path.endsWith('.test.ts');
  cpSync(join(ROOT, 'src/main'), join(dir, 'src/main'), { recursive: true, filter: notATest });
  cpSync(join(ROOT, 'src/preload'), join(dir, 'src/preload'), { recursive: true, filter: notATest });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
}

const describeIssue = (i: Issue) =>
  `${i.id} (${i.severity.name}, ${i.confidence.name}) at ${i.file}:${i.location.line}:${i.location.column}: ${i.description}`;

describe('electronegativity over src/main and src/preload', () => {
  let run: Run;
  const dirs: string[] = [];
  const scan = async (change?: (source: string) => string): Promise<ScanResult> => {
    const dir = mkdtempSync(join(tmpdir(), 'dmalab-electronegativity-'));
    dirs.push(dir);
    copySources(dir);
    if (change) writeFileSync(join(dir, 'src/main/index.ts'), change(readFileSync(INDEX, 'utf8')));
    // Two global checks are left out. AVAILABLE_SECURITY_FIXES asks GitHub whether this Electron
    // has newer security releases: a question for the network, not for a test. CSP finds a
    // policy only in a <meta> tag or an onHeadersReceived callback written out literally, so it
    // reports "no CSP" for the header the dmalab:// protocol sends; the policy is tested below,
    // with the evaluator that check would use.
    return run({ input: dir, isRelative: true, excludeFromScan: ['availablesecurityfixesglobalcheck', 'cspglobalcheck'] }, false);
  };

  beforeAll(() => {
    run = loadElectronegativity();
  });
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('parses every file and finds nothing of severity HIGH or MEDIUM', async () => {
    const result = await scan();
    expect(result.atomicChecks).toBeGreaterThan(30);
    expect(result.errors.map((e) => `${e.file}: ${e.message}`)).toEqual([]);
    expect(result.issues.filter((i) => i.severity.value >= MEDIUM).map(describeIssue)).toEqual([]);
  });

  // It does read our window: with isolation, sandbox and web security turned off, it objects.
  // (It would not object to `nodeIntegration: true` beside `sandbox: true`, nor to a `webviewTag`
  // or a window open handler that allows: the checklist tests below see to those.)
  it('does flag the window with isolation, sandbox and web security turned off', async () => {
    const result = await scan((source) =>
      source
        .replace('contextIsolation: true', 'contextIsolation: false')
        .replace('sandbox: true', 'sandbox: false')
        .replace('webSecurity: true', 'webSecurity: false'),
    );
    const found = result.issues.filter((i) => i.severity.value >= MEDIUM).map((i) => `${i.id} ${i.severity.name} ${i.file}`);
    expect(found.sort()).toEqual([
      'CONTEXT_ISOLATION_JS_CHECK HIGH src/main/index.ts',
      'SANDBOX_JS_CHECK MEDIUM src/main/index.ts',
      'WEB_SECURITY_JS_CHECK MEDIUM src/main/index.ts',
    ]);
  });
});

// ---- src/main/index.ts, read as TypeScript ----

const source = ts.createSourceFile(INDEX, readFileSync(INDEX, 'utf8'), ts.ScriptTarget.Latest, true);

function nodesOf<T extends ts.Node>(test: (node: ts.Node) => node is T): T[] {
  const found: T[] = [];
  const visit = (node: ts.Node) => {
    if (test(node)) found.push(node);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Calls `<object>.<method>(…)`, where `<object>` is written as `object` (any object if omitted). */
function callsOf(method: string, object?: string): ts.CallExpression[] {
  return nodesOf(ts.isCallExpression).filter(
    (c) =>
      ts.isPropertyAccessExpression(c.expression) &&
      c.expression.name.text === method &&
      (object === undefined || c.expression.expression.getText() === object),
  );
}

function onlyCall(method: string, object?: string): ts.CallExpression {
  const calls = callsOf(method, object);
  expect(calls, `${object ?? '…'}.${method}(…) in src/main/index.ts`).toHaveLength(1);
  return calls[0]!;
}

/** The function passed as argument `index`, as a function node. */
function handler(call: ts.CallExpression, index: number): ts.ArrowFunction | ts.FunctionExpression {
  const fn = call.arguments[index];
  if (fn === undefined || !(ts.isArrowFunction(fn) || ts.isFunctionExpression(fn))) {
    throw new Error(`argument ${index} of ${call.expression.getText()} is not a function written in place`);
  }
  return fn;
}

/** Whether `node` is inside the listener of `app.on('web-contents-created', …)`, so that it applies to every web contents. */
function inEveryWebContents(node: ts.Node): boolean {
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    if (ts.isCallExpression(n) && n.expression.getText() === 'app.on' && n.arguments[0]?.getText() === "'web-contents-created'") return true;
  }
  return false;
}

describe('the security checklist in src/main/index.ts', () => {
  it('creates every window isolated, sandboxed, without Node integration or <webview>', () => {
    const windows = nodesOf(ts.isNewExpression).filter((n) => n.expression.getText() === 'BrowserWindow');
    expect(windows.length).toBeGreaterThan(0);
    for (const win of windows) {
      const options = win.arguments?.[0];
      if (options === undefined || !ts.isObjectLiteralExpression(options)) throw new Error('BrowserWindow options are not an object literal');
      const prefs = options.properties.find((p) => p.name?.getText() === 'webPreferences');
      if (prefs === undefined || !ts.isPropertyAssignment(prefs) || !ts.isObjectLiteralExpression(prefs.initializer)) {
        throw new Error('webPreferences is not an object literal');
      }
      const values = Object.fromEntries(
        prefs.initializer.properties.filter(ts.isPropertyAssignment).map((p) => [p.name.getText(), p.initializer.getText()]),
      );
      expect(values).toMatchObject({ contextIsolation: 'true', sandbox: 'true', nodeIntegration: 'false', webSecurity: 'true', webviewTag: 'false' });
      for (const risky of ['nodeIntegrationInWorker', 'nodeIntegrationInSubFrames', 'allowRunningInsecureContent', 'experimentalFeatures', 'enableBlinkFeatures']) {
        expect(values[risky], risky).toBeUndefined();
      }
    }
  });

  it('refuses every permission request and permission check', () => {
    const request = handler(onlyCall('setPermissionRequestHandler', 'session.defaultSession'), 0);
    expect(request.body.getText()).toBe('callback(false)');
    const check = handler(onlyCall('setPermissionCheckHandler', 'session.defaultSession'), 0);
    expect(check.body.kind).toBe(ts.SyntaxKind.FalseKeyword);
  });

  it('denies new windows and navigation away from the app, in every web contents', () => {
    const open = onlyCall('setWindowOpenHandler');
    expect(inEveryWebContents(open)).toBe(true);
    expect(handler(open, 0).body.getText()).toBe("({ action: 'deny' })");

    const navigate = callsOf('on').filter((c) => c.arguments[0]?.getText() === "'will-navigate'");
    expect(navigate).toHaveLength(1);
    expect(inEveryWebContents(navigate[0]!)).toBe(true);
    expect(handler(navigate[0]!, 1).body.getText()).toMatch(/^\{\s*if \(!isAppUrl\(url\)\) event\.preventDefault\(\);\s*\}$/);
  });

  it('answers IPC only from a frame of the app', () => {
    const ipc = ['handle', 'handleOnce', 'on', 'once'].flatMap((m) => callsOf(m, 'ipcMain'));
    expect(ipc.length).toBeGreaterThan(0);
    for (const call of ipc) {
      const body = handler(call, 1).body;
      if (!ts.isBlock(body)) throw new Error('an IPC handler is not a block');
      expect(body.statements[0]?.getText(), 'its first statement').toMatch(/^if \(!isTrustedFrame\(event\.senderFrame\)\)/);
    }
  });

  it('serves the app from its own secure scheme, with the security headers on every file', () => {
    const privileged = onlyCall('registerSchemesAsPrivileged', 'protocol').arguments[0]?.getText() ?? '';
    expect(privileged).toMatch(/scheme: SCHEME, privileges: \{[^}]*secure: true/);
    const handle = onlyCall('handle', 'protocol');
    expect(handle.arguments[0]?.getText()).toBe('SCHEME');
    const responses = nodesOf(ts.isNewExpression).filter((n) => n.expression.getText() === 'Response' && handle.arguments[1]!.pos <= n.pos && n.end <= handle.end);
    const served = responses.filter((r) => r.arguments?.[0]?.getText() === 'response.body');
    expect(served).toHaveLength(1);
    expect(served[0]!.arguments?.[1]?.getText()).toMatch(/headers: \{[^}]*\.\.\.SECURITY_HEADERS \}/);
  });
});

describe('the Content-Security-Policy', () => {
  const directives = new Map(
    CONTENT_SECURITY_POLICY.split(';').map((d) => {
      const [name = '', ...sources] = d.trim().split(/\s+/);
      return [name, sources] as const;
    }),
  );

  it('is a response header of every file served', () => {
    expect(SECURITY_HEADERS['Content-Security-Policy']).toBe(CONTENT_SECURITY_POLICY);
  });

  it("allows scripts from the app only: no 'unsafe-eval', no inline script, no wildcard or scheme-wide source", () => {
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    for (const name of ['object-src', 'base-uri', 'form-action', 'frame-ancestors']) expect(directives.get(name), name).toEqual(["'none'"]);
    for (const [name, sources] of directives) {
      for (const s of sources) {
        expect(s, name).not.toMatch(/\*|^'unsafe-eval'$|^'wasm-unsafe-eval'$|^https?:$/);
        if (s === "'unsafe-inline'") expect(name, "'unsafe-inline' (Monaco's inline styles)").toBe('style-src');
      }
    }
  });

  // What electronegativity's CSP_GLOBAL_CHECK would say if it could see the header; it finds
  // CSPs only in <meta> tags and in onHeadersReceived callbacks written out literally.
  it("has no finding worse than 'maybe' by electronegativity's CSP evaluator", () => {
    interface Finding {
      severity: number;
      directive: string;
      description: string;
    }
    const csp = fromElectronegativity('@doyensec/csp-evaluator') as {
      CspParser: new (policy: string) => { csp: unknown };
      CspEvaluator: new (csp: unknown, version: unknown) => { evaluate(): Finding[] };
      Version: { CSP3: unknown };
      severities: { MEDIUM_MAYBE: number };
    };
    const findings = new csp.CspEvaluator(new csp.CspParser(CONTENT_SECURITY_POLICY).csp, csp.Version.CSP3).evaluate();
    expect(findings.filter((f) => f.severity < csp.severities.MEDIUM_MAYBE).map((f) => `${f.directive}: ${f.description}`)).toEqual([]);
  });
});
