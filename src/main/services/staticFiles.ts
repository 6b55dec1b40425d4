import { stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

// The built renderer, served the same way by the web host and by the Electron
// app's `dmalab://` protocol, under the same Content-Security-Policy.

/**
 * Scripts only from the app itself; Monaco injects its styles inline and starts its
 * language workers from the app's own files; the only connection is back to the app.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

export interface StaticFile {
  path: string;
  contentType: string;
}

/**
 * Maps a URL path to a file under `rootDir`, or null. Never leaves `rootDir`:
 * `..`, encoded separators and NUL bytes are refused before the disk is touched.
 */
export async function resolveStatic(rootDir: string, urlPath: string): Promise<StaticFile | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const relative = decoded === '/' || decoded === '' ? 'index.html' : decoded.replace(/^\/+/, '');
  const segments = relative.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return null;
  const root = normalize(rootDir + sep);
  const path = normalize(join(root, relative));
  if (!path.startsWith(root)) return null;
  const contentType = CONTENT_TYPES[extname(path).toLowerCase()];
  if (contentType === undefined) return null;
  try {
    return (await stat(path)).isFile() ? { path, contentType } : null;
  } catch {
    return null;
  }
}
