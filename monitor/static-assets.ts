import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** One file the monitor serves: its bytes, read once when the server starts. */
export interface StaticAsset {
  readonly type: string;
  readonly body: Buffer;
}

/**
 * The dashboard's files, by the path they are served at: a fixed list, read into memory when the
 * server starts, so no path from a request ever reaches the file system. The page's own files sit
 * beside this module (`monitor/assets/`, copied to `dist/monitor/assets/` by the build); uPlot's
 * come from the `uplot` package (an optional peer), found the way Node resolves it.
 */
const FILES: readonly { readonly path: string; readonly type: string; readonly file: () => string }[] = [
  { path: '/', type: 'text/html; charset=utf-8', file: () => own('index.html') },
  { path: '/assets/dashboard.js', type: 'text/javascript; charset=utf-8', file: () => own('dashboard.js') },
  { path: '/assets/query-box.js', type: 'text/javascript; charset=utf-8', file: () => own('query-box.js') },
  { path: '/assets/dashboard.css', type: 'text/css; charset=utf-8', file: () => own('dashboard.css') },
  { path: '/assets/uPlot.iife.min.js', type: 'text/javascript; charset=utf-8', file: () => uplot('uplot/dist/uPlot.iife.min.js') },
  { path: '/assets/uPlot.min.css', type: 'text/css; charset=utf-8', file: () => uplot('uplot/dist/uPlot.min.css') },
];

function own(name: string): string {
  return fileURLToPath(new URL(`./assets/${name}`, import.meta.url));
}

function uplot(request: string): string {
  try {
    return createRequire(import.meta.url).resolve(request);
  } catch (error) {
    throw new TypeError(`serveMonitor: the dashboard draws its charts with uPlot, and the package 'uplot' cannot be found (${(error as Error).message.split('\n')[0] ?? ''}). Install it (npm install uplot), or pass { dashboard: false } to serve the metrics and the API only.`, { cause: error });
  }
}

/**
 * Reads the dashboard's files.
 *
 * @throws TypeError when the `uplot` package is not installed.
 */
export async function loadAssets(): Promise<ReadonlyMap<string, StaticAsset>> {
  const files = FILES.map(({ path, type, file }) => ({ path, type, file: file() }));
  const assets = await Promise.all(files.map(async ({ path, type, file }) => [path, { type, body: await readFile(file) }] as const));
  return new Map(assets);
}
