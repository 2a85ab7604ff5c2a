import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Router } from 'express';
import { sendError } from '../http/error-envelope.ts';

const CLIENT_ID = /^[\w.:@-]{1,128}$/;

/**
 * `GET /live/:clientId`: a page that watches one publisher and draws its frames on a canvas
 * (public/live.html + live-page.js + live-view.js). The page is a shell with no data in it, so
 * it is served without an API key; the WebSocket it opens is authenticated (the page passes a
 * key given as `#token=…` in its URL).
 */
export function livePageRoute(publicDir: string): Router {
  const r = Router();
  let html: string | undefined;
  r.get('/live/:clientId', (req, res) => {
    if (!CLIENT_ID.test(req.params.clientId)) {
      sendError(res, 404, '接口不存在', 'not a client id');
      return;
    }
    html ??= readFileSync(join(publicDir, 'live.html'), 'utf8');
    res.type('html').setHeader('Cache-Control', 'no-store');
    res.send(html);
  });
  return r;
}
