import { existsSync, lstatSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { join, posix, relative, resolve, sep } from 'node:path';
// electron-builder's own library (installed with electron-builder). Its index exports
// neither the configuration validator nor the file matching that decides what goes into
// the package, so these come from their files inside app-builder-lib (the version is
// pinned in package.json for that reason). getMainFileMatchers is marked @internal and so
// is missing from the .d.ts: it is typed here by hand.
import * as fileMatcher from 'app-builder-lib/out/fileMatcher.js';
import type { PlatformPackager } from 'app-builder-lib/out/platformPackager.js';
import { computeFileSets } from 'app-builder-lib/out/util/appFileCopier.js';
import { validateConfiguration } from 'app-builder-lib/out/util/config/config.js';
import { DebugLogger } from 'builder-util';
import type { Configuration, PlatformSpecificBuildOptions, TargetConfigType } from 'electron-builder';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { appPaths } from './services/appPaths';

// electron-builder.yml, checked with electron-builder's own code: its schema validation,
// and its file matching (the default exclusions included) run against the real out/ tree,
// which `npm test` builds before the unit tests.

const root = resolve(new URL('../..', import.meta.url).pathname);
const configFile = join(root, 'electron-builder.yml');
const loadConfig = (): Configuration => parse(readFileSync(configFile, 'utf8')) as Configuration;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string };

type GetMainFileMatchers = (
  appDir: string,
  destination: string,
  macroExpander: (pattern: string) => string,
  platformSpecificBuildOptions: PlatformSpecificBuildOptions,
  platformPackager: PlatformPackager<PlatformSpecificBuildOptions>,
  outDir: string,
  isElectronCompile: boolean,
) => fileMatcher.FileMatcher[];
const { getMainFileMatchers } = fileMatcher as unknown as { getMainFileMatchers: GetMainFileMatchers };

const PLATFORMS = ['linux', 'win', 'mac'] as const;
type PlatformKey = (typeof PLATFORMS)[number];
/** Where the packaged app's files go (inside app.asar); a name only, nothing is written. */
const APP_DESTINATION = join(root, '.packaging-test', 'app');
const noMacros = (pattern: string): string => pattern;

/** The parts of electron-builder's Packager that its file matching reads. */
function fakePackager(config: Configuration): PlatformPackager<PlatformSpecificBuildOptions> {
  const info = {
    config,
    projectDir: root,
    buildResourcesDir: resolve(root, config.directories?.buildResources ?? 'build'),
    isPrepackedAppAsar: false,
    areNodeModulesHandledExternally: false,
    debugLogger: new DebugLogger(false),
  };
  return { info } as unknown as PlatformPackager<PlatformSpecificBuildOptions>;
}

const platformOptions = (config: Configuration, platform: PlatformKey): PlatformSpecificBuildOptions => config[platform] ?? {};

/**
 * The app's own files (node_modules aside) that electron-builder would put into the
 * package for a platform, as paths relative to the app root with forward slashes; found
 * as electron-builder finds them when it copies the app (platformPackager.copyAppFiles).
 */
async function packagedFiles(config: Configuration, platform: PlatformKey): Promise<Set<string>> {
  const outDir = resolve(root, config.directories?.output ?? 'dist');
  const packager = fakePackager(config);
  const matchers = getMainFileMatchers(root, APP_DESTINATION, noMacros, platformOptions(config, platform), packager, outDir, false);
  const fileSets = await computeFileSets(matchers, null, packager, false);
  const files = new Set<string>();
  for (const set of fileSets) {
    for (const file of set.files) {
      if (set.metadata.get(file)?.isDirectory()) continue;
      files.add(relative(APP_DESTINATION, join(set.destination, relative(set.src, file))).split(sep).join('/'));
    }
  }
  return files;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'));
}

const toAppRelative = (path: string): string => relative(root, path).split(sep).join('/');

/** The preload that src/main/index.ts gives its window, relative to the app root. */
function preloadFile(): string {
  const main = readFileSync(join(root, 'src', 'main', 'index.ts'), 'utf8');
  const match = /preload:\s*join\(import\.meta\.dirname,\s*'([^']+)'\)/.exec(main);
  if (!match?.[1]) throw new Error("src/main/index.ts: no `preload: join(import.meta.dirname, '…')` to take the preload's path from");
  return posix.normalize(posix.join(posix.dirname(pkg.main), match[1]));
}

/** Every file the app loads at run time, relative to the app root. */
function runtimeFiles(): string[] {
  const paths = appPaths(root);
  const required = [
    'package.json',
    pkg.main, // out/main/index.js
    preloadFile(), // out/preload/index.cjs
    toAppRelative(paths.simWorker), // out/main/simWorker.js
    ...filesUnder(join(root, 'out', 'main')), // their chunks
    ...filesUnder(paths.rendererDir),
    ...filesUnder(paths.labsDir),
  ];
  const notBuilt = required.filter((file) => !existsSync(join(root, file)));
  if (notBuilt.length > 0) throw new Error(`not built (run \`npm run build\` first): ${notBuilt.join(', ')}`);
  return [...new Set(required)];
}

interface SchemaNode {
  $ref?: string;
  anyOf?: SchemaNode[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: unknown;
}
const scheme = JSON.parse(readFileSync(join(root, 'node_modules', 'app-builder-lib', 'scheme.json'), 'utf8')) as SchemaNode & { definitions: Record<string, SchemaNode> };

/**
 * Keys the schema does not know, by their path (`linux.categroy`). electron-builder's own
 * validation refuses them too, but inside a section it names only the section.
 */
function unknownKeys(value: unknown, node: SchemaNode = scheme, path = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const objectNodes = (n: SchemaNode): SchemaNode[] =>
    n.$ref ? objectNodes(scheme.definitions[n.$ref.replace('#/definitions/', '')] ?? {}) : n.anyOf ? n.anyOf.flatMap(objectNodes) : n.properties ? [n] : [];
  const [objectNode] = objectNodes(node);
  if (!objectNode?.properties) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const childNode = objectNode.properties![key];
    if (childNode) return unknownKeys(child, childNode, `${path}${key}.`);
    return objectNode.additionalProperties === false ? [`${path}${key}`] : [];
  });
}

const targetNames = (targets: TargetConfigType | undefined): string[] =>
  (targets == null ? [] : Array.isArray(targets) ? targets : [targets]).map((t) => (typeof t === 'string' ? t : t.target));

describe('electron-builder.yml', () => {
  it("passes electron-builder's schema validation, which refuses a misspelt key", async () => {
    const config = loadConfig();
    expect(unknownKeys(config), 'keys electron-builder does not know').toEqual([]);
    await expect(validateConfiguration(structuredClone(config), new DebugLogger(false))).resolves.toBeUndefined();
    // Both refuse a typo, at the top and inside a platform's section.
    const topTypo = { ...structuredClone(config), asarUnpak: [] } as Configuration;
    expect(unknownKeys(topTypo)).toEqual(['asarUnpak']);
    await expect(validateConfiguration(topTypo, new DebugLogger(false))).rejects.toThrow(/asarUnpak/);
    const nestedTypo = { ...structuredClone(config), linux: { ...config.linux, categroy: 'Development' } } as Configuration;
    expect(unknownKeys(nestedTypo)).toEqual(['linux.categroy']);
    await expect(validateConfiguration(nestedTypo, new DebugLogger(false))).rejects.toThrow(/configuration\.linux/);
  });

  it.each(PLATFORMS)('packages every file the app loads at run time, and nothing else of the project (%s)', async (platform) => {
    const required = runtimeFiles();
    const packaged = await packagedFiles(loadConfig(), platform);
    const missing = required.filter((file) => !packaged.has(file));
    expect(missing, `files the app loads that electron-builder.yml leaves out of the ${platform} package`).toEqual([]);
    const extra = [...packaged].filter((file) => file !== 'package.json' && !file.startsWith('out/') && !file.startsWith('labs/'));
    expect(extra, `files electron-builder.yml puts into the ${platform} package that the app does not load`).toEqual([]);
  });

  it("would lose labs/wdm.d.ts to electron-builder's default exclusions with a plain labs/** pattern", async () => {
    // Why labs/ is a file set of its own in electron-builder.yml: this check's matching
    // includes electron-builder's defaults, which drop every *.d.ts from the app folder.
    const config = loadConfig();
    const plain = await packagedFiles({ ...config, files: ['out/**', 'package.json', 'labs/**'] }, 'linux');
    expect(filesUnder(appPaths(root).labsDir).filter((file) => !plain.has(file))).toEqual(['labs/wdm.d.ts']);
  });

  it('rebuilds better-sqlite3 for Electron and keeps its binary out of the asar archive', async () => {
    const config = loadConfig();
    expect(config.asar ?? true, 'asar').not.toBe(false);
    expect(config.npmRebuild ?? true, "npmRebuild: native modules must be rebuilt for Electron's ABI").toBe(true);
    const release = join(root, 'node_modules', 'better-sqlite3', 'build', 'Release');
    const binaries = existsSync(release) ? readdirSync(release).filter((name) => name.endsWith('.node')) : [];
    expect(binaries, `no better-sqlite3 binary in ${release} (npm install builds it)`).not.toEqual([]);
    for (const platform of PLATFORMS) {
      const [matcher] =
        fileMatcher.getFileMatchers(config, 'asarUnpack', APP_DESTINATION, {
          macroExpander: noMacros,
          customBuildOptions: platformOptions(config, platform),
          globalOutDir: resolve(root, config.directories?.output ?? 'dist'),
          defaultSrc: root,
        }) ?? [];
      expect(matcher, `asarUnpack: none for ${platform}`).toBeDefined();
      const unpacked = matcher!.createFilter();
      for (const name of binaries) {
        // As electron-builder's node_modules copier describes a module's file to the filter.
        const file = join(release, name);
        const stat = Object.assign(lstatSync(file), { moduleFullFilePath: `node_modules/better-sqlite3/build/Release/${name}` }) as Stats;
        expect(unpacked(file, stat), `asarUnpack (${platform}) does not unpack node_modules/better-sqlite3/build/Release/${name}`).toBe(true);
      }
    }
  });

  it('builds an AppImage and a deb on Linux, an NSIS installer on Windows, a dmg on macOS, named DMA Lab', () => {
    const config = loadConfig();
    expect(targetNames(config.linux?.target), 'linux.target').toEqual(['AppImage', 'deb']);
    expect(config.linux?.category ?? '', 'linux.category').toMatch(/\S/);
    expect(config.linux?.maintainer ?? '', 'linux.maintainer (the deb needs "Name <email>")').toMatch(/<[^@\s>]+@[^>\s]+>/);
    expect(targetNames(config.win?.target), 'win.target').toEqual(['nsis']);
    expect(targetNames(config.mac?.target), 'mac.target').toEqual(['dmg']);
    expect(config.appId ?? '', 'appId').toMatch(/^[\w-]+(\.[\w-]+)+$/);
    expect(config.productName, 'productName').toBe('DMA Lab');
    // Electron names the app, and so its userData folder, from the packaged package.json.
    expect((config.extraMetadata as { productName?: string } | undefined)?.productName, 'extraMetadata.productName').toBe('DMA Lab');
  });
});
