import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, net, protocol, session, type WebFrameMain } from 'electron';
import { IPC_CHANNEL, IPC_EVENT_CHANNEL } from '../shared/channels';
import { EXPORT_FORMATS } from '../shared/traceExport';
import type { ApiClient } from './api/handlers';
import { dispatch } from './api/dispatch';
import { electronSqliteBinding } from './services/appPaths';
import { userDataDir } from './services/dataDir';
import { STORE_FILE } from './services/progressStore';
import { createServices } from './services';
import { resolveStatic, SECURITY_HEADERS } from './services/staticFiles';

// The Electron glue, kept thin: everything it calls is tested without Electron.
// The renderer is served from the app's own `dmalab://app/` origin (not file://),
// sandboxed, isolated, with the one IPC channel of the typed API.

const SCHEME = 'dmalab';
const APP_ORIGIN = `${SCHEME}://app`;

protocol.registerSchemesAsPrivileged([{ scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

// One data folder for the app, the web host and the CLI alike (DMALAB_DATA_DIR, else the OS's
// "DMA Lab" folder), whatever name Electron would give the app (in development, package.json's "dmalab").
app.setPath('userData', userDataDir());

const services = createServices(app.getAppPath(), {
  progressFile: join(app.getPath('userData'), STORE_FILE),
  store: { nativeBinding: electronSqliteBinding(app.getAppPath(), process.versions.electron, app.isPackaged) },
});
services.warmUp();
const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
const rendererOrigin = devServerUrl === undefined ? APP_ORIGIN : new URL(devServerUrl).origin;

/** Whether `url` is the app's own page (a URL that does not parse is not). */
function isAppUrl(url: string): boolean {
  return URL.canParse(url) && new URL(url).origin === rendererOrigin;
}

function isTrustedFrame(frame: WebFrameMain | null): boolean {
  return frame !== null && isAppUrl(frame.url);
}

// Electronegativity (src/main/electronSecurity.test.ts) flags two lines below for review:
// AUXCLICK: a middle click opens a link in a new window, which setWindowOpenHandler denies
// (the "Auxclick" Blink feature it would have us disable no longer exists in Chromium);
// PRELOAD: reviewed, it exposes only `dmalab.call` and `dmalab.onEvent` (src/preload/preload.test.ts).
function createWindow(): void {
  const win = new BrowserWindow({ // eng-disable AUXCLICK_JS_CHECK
    width: 1280,
    height: 800,
    title: 'DMA Lab',
    show: false,
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/index.cjs'), // eng-disable PRELOAD_JS_CHECK
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(devServerUrl ?? `${APP_ORIGIN}/index.html`);
}

void app.whenReady().then(() => {
  protocol.handle(SCHEME, async (request) => {
    const url = new URL(request.url);
    const file = url.host === 'app' ? await resolveStatic(services.paths.rendererDir, url.pathname) : null;
    if (file === null) return new Response('not found', { status: 404 });
    const response = await net.fetch(pathToFileURL(file.path).toString());
    return new Response(response.body, { headers: { 'Content-Type': file.contentType, ...SECURITY_HEADERS } });
  });

  // One client per window: its runs' events go back to it, and end when it closes.
  const clients = new WeakMap<Electron.WebContents, ApiClient>();
  const clientOf = (contents: Electron.WebContents): ApiClient => {
    let client = clients.get(contents);
    if (!client) {
      const c: ApiClient = {
        emit: (name, payload) => {
          if (!contents.isDestroyed()) contents.send(IPC_EVENT_CHANNEL, name, payload);
        },
        onClose: (listener) => contents.once('destroyed', listener),
        // The save dialog, over the window that asked; the file is written where the person chose.
        chooseSavePlace: async (fileName, format) => {
          const window = BrowserWindow.fromWebContents(contents);
          const { label, extension } = EXPORT_FORMATS[format];
          const options = { defaultPath: join(app.getPath('downloads'), fileName), filters: [{ name: label, extensions: [extension] }] };
          const chosen = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
          if (chosen.canceled || !chosen.filePath) return null;
          return { path: chosen.filePath, finish: () => null, abandon: () => {} };
        },
      };
      clients.set(contents, c);
      client = c;
    }
    return client;
  };
  ipcMain.handle(IPC_CHANNEL, (event, channel: unknown, request: unknown) => {
    if (!isTrustedFrame(event.senderFrame)) {
      return { ok: false, error: { code: 'bad-request', message: 'calls are accepted only from the app window' } };
    }
    return dispatch(services.handlers, channel, request, (m) => console.error(m), clientOf(event.sender));
  });
  app.on('before-quit', () => {
    services.runs.stopAll();
    services.progress.close();
  });

  // The app needs no permission (camera, notifications, clipboard reads, …): all are refused.
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
