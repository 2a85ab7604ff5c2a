import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { Router } from 'express';
import { sendError } from './error-envelope.ts';

const CLIENT_ID = /^[\w.:@-]{1,128}$/;

/**
 * The web app's pages: the paths its router draws (each answered with its index.html, which
 * holds no data; every call it makes is authenticated), so links and reloads work. Anything
 * else falls through to the API and its JSON 404.
 */
export const WEB_APP_PAGES = ['/', '/c/:id', '/files', '/agents', '/clients', '/live', '/live/:clientId'] as const;

/**
 * `apps/web`'s built files (`webDir`, its `dist`): the pages above, and its hashed assets
 * (`/assets/*`, cached for a year). Without a build (`pnpm start` makes one), the pages say how
 * to make it.
 */
export function webAppRoutes(webDir: string): Router {
  const r = Router();
  const indexFile = join(webDir, 'index.html');
  let html: string | undefined;
  const page: express.RequestHandler = (req, res) => {
    const clientId = req.params.clientId;
    if (clientId !== undefined && (typeof clientId !== 'string' || !CLIENT_ID.test(clientId))) {
      sendError(res, 404, '接口不存在', 'not a client id');
      return;
    }
    if (html === undefined) {
      if (!existsSync(indexFile)) {
        sendError(res, 503, '网页应用尚未构建', `the web app is not built (${indexFile} is missing): run \`pnpm build\` or \`pnpm start\``);
        return;
      }
      html = readFileSync(indexFile, 'utf8');
    }
    // Always revalidated: a new build names new assets.
    res.type('html').setHeader('Cache-Control', 'no-cache');
    res.send(html);
  };
  for (const path of WEB_APP_PAGES) r.get(path, page);
  r.use('/assets', express.static(join(webDir, 'assets'), { index: false, maxAge: '1y', immutable: true, fallthrough: true }));
  return r;
}
