// The built-in console: plain ES modules over the REST compatibility routes and tRPC's HTTP
// queries, so it needs no build step. Streams answers as NDJSON.
import { keepPresence } from './presence.js';

const $ = (id) => document.getElementById(id);

// With API_KEYS set on the server, the key typed in the header is sent with every call
// (kept in this browser's localStorage only).
const apiKey = () => $('api-key').value.trim();
const authFetch = (input, init = {}) =>
  fetch(input, { ...init, headers: { ...(init.headers ?? {}), ...(apiKey() ? { authorization: `Bearer ${apiKey()}` } : {}) } });
// `conversationUser`: the open conversation's user (conversation ids are per user).
const state = { conversationId: null, conversationUser: null, messageId: null, controller: null };

const userValue = () => $('user').value.trim() || undefined;
/** The user a call about the open conversation acts for: the one named, else the conversation's. */
const conversationUser = () => userValue() ?? state.conversationUser ?? undefined;
const setStatus = (text) => { $('status').textContent = text; };

async function trpcQuery(path, input) {
  const res = await authFetch(`/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input ?? {}))}`);
  const body = await res.json();
  if (!res.ok) throw new Error(body.error?.message ?? res.statusText);
  return body.result.data;
}

async function trpcMutation(path, input) {
  const res = await authFetch(`/trpc/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error?.message ?? res.statusText);
  return body.result.data;
}

async function loadAgents() {
  const agents = await trpcQuery('agents.list');
  $('agent').replaceChildren(...agents.map((a) => new Option(`${a.id} (${a.type})`, a.id, a.isDefault, a.isDefault)));
}

async function loadConversations() {
  const params = new URLSearchParams({ limit: '100' });
  if (userValue()) params.set('user', userValue());
  const res = await authFetch(`/get_conversation_list?${params}`);
  const page = await res.json();
  $('conversations').replaceChildren(
    ...page.data.map((c) => {
      const li = document.createElement('li');
      li.textContent = c.name || c.id;
      li.title = `${c.id} · ${c.user}`;
      li.classList.toggle('active', c.id === state.conversationId);
      li.onclick = () => openConversation(c.id, c.name, c.user);
      return li;
    }),
  );
}

async function loadFiles() {
  const page = await trpcQuery('files.list', { user: userValue(), limit: 100 });
  $('files').replaceChildren(
    ...page.items.map((f) => {
      const li = document.createElement('li');
      const label = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.value = f.id;
      box.className = 'attach';
      label.append(box, ` ${f.origin} (${f.size} B)`);
      label.title = 'Attach to the next question';
      li.append(label);
      return li;
    }),
  );
}

function addMessage(role, text, meta) {
  const li = document.createElement('li');
  li.className = role;
  li.textContent = text;
  if (meta) {
    const span = document.createElement('span');
    span.className = 'meta';
    span.textContent = meta;
    li.append(span);
  }
  $('messages').append(li);
  li.scrollIntoView({ block: 'end' });
  return li;
}

function citationsMeta(resources) {
  return resources?.length ? `Sources: ${resources.map((r) => `${r.document_name} (${r.score})`).join(', ')}` : '';
}

async function openConversation(id, name, user) {
  state.conversationId = id;
  state.conversationUser = user ?? null;
  $('conversation-title').textContent = name || id;
  $('messages').replaceChildren();
  const page = await trpcQuery('messages.list', { conversationId: id, user: conversationUser(), limit: 100 });
  for (const m of page.items) {
    const sources = m.citations.map((c) => `${c.fileName} (${c.score})`).join(', ');
    addMessage(m.role, m.content, m.role === 'assistant' ? [m.status, sources && `Sources: ${sources}`].filter(Boolean).join(' · ') : '');
  }
  await loadConversations();
}

async function ask(query) {
  addMessage('user', query);
  const bubble = addMessage('assistant', '');
  const text = document.createTextNode('');
  bubble.append(text);
  state.controller = new AbortController();
  $('send').disabled = true;
  $('stop').disabled = false;
  setStatus('thinking…');
  try {
    const res = await authFetch('/converse', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query,
        user: state.conversationId ? conversationUser() : userValue(),
        conversation_id: state.conversationId ?? crypto.randomUUID(),
        agent: $('agent').value || undefined,
        files: [...document.querySelectorAll('.attach:checked')].map((box) => box.value),
        response_mode: 'streaming',
      }),
      signal: state.controller.signal,
    });
    if (!res.ok) {
      const err = await res.json();
      text.textContent = `⚠ ${err.message}: ${err.error ?? ''}`;
      return;
    }
    for (const box of document.querySelectorAll('.attach:checked')) box.checked = false;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += value;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const event = JSON.parse(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        state.conversationId = event.conversation_id;
        state.messageId = event.message_id;
        if (event.event === 'message') text.textContent += event.answer;
        if (event.event === 'message_replace') text.textContent = event.answer;
        if (event.event === 'error') setStatus(`error: ${event.message}`);
        if (event.event === 'message_end') {
          const meta = document.createElement('span');
          meta.className = 'meta';
          meta.textContent = [event.status, citationsMeta(event.metadata.retriever_resources)].filter(Boolean).join(' · ');
          bubble.append(meta);
          setStatus(event.status);
        }
      }
    }
  } catch (err) {
    if (err.name !== 'AbortError') setStatus(`error: ${err.message}`);
  } finally {
    state.controller = null;
    $('send').disabled = false;
    $('stop').disabled = true;
    await loadConversations();
  }
}

$('ask-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const query = $('query').value.trim();
  if (!query) return;
  $('query').value = '';
  void ask(query);
});

$('query').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey) {
    e.preventDefault();
    $('ask-form').requestSubmit();
  }
});

$('stop').addEventListener('click', async () => {
  if (state.messageId) await trpcMutation('chat.stop', { messageId: state.messageId, user: conversationUser() }).catch(() => undefined);
  state.controller?.abort();
  setStatus('stopped');
});

$('new-conversation').addEventListener('click', () => {
  state.conversationId = null;
  state.conversationUser = null;
  $('conversation-title').textContent = 'New conversation';
  $('messages').replaceChildren();
  void loadConversations();
});

$('upload-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const paths = $('upload-paths').value.split('\n').map((p) => p.trim()).filter(Boolean);
  if (!paths.length) return;
  const res = await authFetch('/upload_files', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ file_paths: paths, user: userValue() }),
  });
  const body = await res.json();
  setStatus(res.ok ? `uploaded ${body.response.length} file(s)` : `${body.message}: ${body.error}`);
  if (res.ok) $('upload-paths').value = '';
  await loadFiles();
});

// Listed among the connected clients while the console is open.
$('api-key').value = localStorage.getItem('colloquy.apiKey') ?? '';
$('api-key').addEventListener('change', () => {
  localStorage.setItem('colloquy.apiKey', apiKey());
  void loadAgents();
  void loadConversations();
  void loadFiles();
});

const presence = keepPresence({ kind: 'console', name: 'web console', user: userValue });

$('user').addEventListener('change', () => {
  presence.reconnect();
  state.conversationId = null;
  state.conversationUser = null;
  $('messages').replaceChildren();
  void loadConversations();
  void loadFiles();
});

await Promise.all([loadAgents(), loadConversations(), loadFiles()]).catch((err) => setStatus(`error: ${err.message}`));
