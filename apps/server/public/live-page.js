// The page at /live/:clientId: one canvas, fps and latency. An API key may be passed as
// #token=… (the fragment never reaches the server's logs); ?user=… names the user to act for.
import { mountLiveView } from '/live-view.js';

const clientId = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() ?? '');
const hash = new URLSearchParams(location.hash.slice(1));
const query = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);

$('client').textContent = clientId;
window.liveView = mountLiveView($('video'), {
  clientId,
  token: hash.get('token') ?? query.get('token') ?? undefined,
  user: query.get('user') ?? undefined,
  onStats: (s) => {
    $('fps').textContent = String(s.fps);
    $('latency').textContent = s.latencyMs === null ? '–' : `${s.latencyMs} ms`;
    $('frames').textContent = String(s.frames);
  },
  onStatus: (text) => {
    $('status').textContent = text;
  },
});
