import { createRequire } from 'node:module';
import { Router } from 'express';

const require = createRequire(import.meta.url);

/** Scalar's standalone browser bundle, served from the installed package (no CDN). */
const scalarBundle = require.resolve('@scalar/api-reference/browser/standalone.js');

/** Scalar's settings: everything from this server, nothing fetched from elsewhere. */
const scalarConfig = {
  url: '/openapi.json',
  withDefaultFonts: false,
  telemetry: false,
  hideClientButton: false,
  showDeveloperTools: 'never',
  agent: { disabled: true },
  defaultOpenAllTags: true,
};

// The bundle mounts a config-less instance on its own into an element with id `api-reference`;
// this page uses another id so only the configured instance exists.
const initScript = `Scalar.createApiReference('#colloquy-api-docs', ${JSON.stringify(scalarConfig)});\n`;

const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Colloquy API reference</title>
  </head>
  <body>
    <div id="colloquy-api-docs"></div>
    <script src="/docs/assets/scalar.js"></script>
    <script src="/docs/assets/init.js"></script>
  </body>
</html>
`;

/**
 * The renderer injects its styles at run time, so the page allows inline styles; scripts stay
 * same-origin only (no inline script, nothing from a CDN).
 */
const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** `GET /openapi.json` and the `GET /docs` page rendering it. */
export function docsRoutes(document: () => object): Router {
  const r = Router();
  let json: string | undefined;

  r.get('/openapi.json', (_req, res) => {
    json ??= JSON.stringify(document());
    res.status(200).type('application/json').set('Cache-Control', 'no-cache').send(json);
  });

  r.get('/docs', (_req, res) => {
    res.status(200).type('html').set('Content-Security-Policy', DOCS_CSP).set('Cache-Control', 'no-cache').send(page);
  });

  // Assets are middleware, not routes: the route list (and the OpenAPI document) stay about the API.
  r.use('/docs/assets', (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      next();
      return;
    }
    res.set('Content-Security-Policy', DOCS_CSP);
    if (req.path === '/scalar.js') {
      // dotfiles: the package lives under node_modules/.pnpm.
      res.sendFile(scalarBundle, { maxAge: '1d', dotfiles: 'allow', headers: { 'Content-Type': 'text/javascript; charset=utf-8' } });
    } else if (req.path === '/init.js') {
      res.status(200).type('text/javascript').set('Cache-Control', 'no-cache').send(initScript);
    } else {
      next();
    }
  });

  return r;
}
