import react from '@vitejs/plugin-react';
import { defineConfig, type ProxyOptions } from 'vite';

/** `pnpm dev`: the API server Vite forwards to (run `pnpm start` beside it). */
const target = process.env.COLLOQUY_SERVER ?? 'http://127.0.0.1:5000';

/**
 * The server refuses requests whose Origin is not its own (see the README's Security section);
 * through the dev proxy the page's origin is Vite's, so the proxy drops the header: the server
 * then sees what a same-origin request from the built app would look like.
 */
const toServer = (ws = false): ProxyOptions => ({
  target,
  ws,
  changeOrigin: true,
  configure: (proxy) => {
    proxy.on('proxyReq', (req) => req.removeHeader('origin'));
    proxy.on('proxyReqWs', (req) => req.removeHeader('origin'));
  },
});

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', sourcemap: true, chunkSizeWarningLimit: 1500 },
  server: {
    proxy: {
      '/trpc': toServer(),
      '/live/ws': toServer(true),
      '/healthz': toServer(),
      '/readyz': toServer(),
    },
  },
});
