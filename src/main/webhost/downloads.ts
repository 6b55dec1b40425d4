import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { SavePlace } from '../api/handlers';

// Files the web host hands to the browser (trace exports): a browser page cannot name a
// path on disk, so an export is written into a folder of the host's own, then fetched once
// by the page as a download, and deleted. The address carries a random id and the host's
// token; what is never fetched goes after DOWNLOAD_TTL_MS, and all of it when the host stops.

export const DOWNLOADS_PATH = '/downloads/';
const DOWNLOAD_TTL_MS = 15 * 60_000;

export class Downloads {
  private root: string | null = null;
  /** Written and waiting for the page to fetch them, by id. */
  private readonly ready = new Map<string, { folder: string; file: string; fileName: string; expiry: ReturnType<typeof setTimeout> }>();

  constructor(private readonly token: string) {}

  /** A place to write `fileName` to; finish() makes it fetchable once. */
  place(fileName: string): SavePlace {
    this.root ??= mkdtempSync(join(tmpdir(), 'dmalab-downloads-'));
    const id = randomBytes(16).toString('base64url');
    const folder = join(this.root, id);
    mkdirSync(folder);
    const file = join(folder, basename(fileName) || 'download');
    const remove = () => rmSync(folder, { recursive: true, force: true });
    return {
      path: file,
      finish: (name) => {
        const expiry = setTimeout(() => this.forget(id), DOWNLOAD_TTL_MS);
        expiry.unref();
        this.ready.set(id, { folder, file, fileName: name, expiry });
        return `${DOWNLOADS_PATH}${id}/${encodeURIComponent(name)}?token=${this.token}`;
      },
      abandon: remove,
    };
  }

  /** Answers a GET for a download (the token has been checked); the file goes once it has been sent. */
  serve(req: IncomingMessage, res: ServerResponse, pathname: string): void {
    const id = pathname.slice(DOWNLOADS_PATH.length).split('/')[0] ?? '';
    const entry = this.ready.get(id);
    if (!entry) return void res.writeHead(404, { 'Content-Type': 'text/plain' }).end('this download has been fetched already, or has expired\n');
    const ascii = entry.fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': statSync(entry.file).size,
      'Content-Disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(entry.fileName)}`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    if (req.method === 'HEAD') return void res.end();
    const stream = createReadStream(entry.file);
    stream.pipe(res);
    res.once('close', () => {
      stream.destroy();
      if (res.writableFinished) this.forget(id);
    });
  }

  private forget(id: string): void {
    const entry = this.ready.get(id);
    if (!entry) return;
    clearTimeout(entry.expiry);
    this.ready.delete(id);
    rmSync(entry.folder, { recursive: true, force: true });
  }

  /** Everything goes (the host is stopping). */
  close(): void {
    for (const entry of this.ready.values()) clearTimeout(entry.expiry);
    this.ready.clear();
    if (this.root !== null) rmSync(this.root, { recursive: true, force: true });
    this.root = null;
  }

  /** The folder downloads are written in (tests look inside it). */
  get folder(): string | null {
    return this.root;
  }
}
