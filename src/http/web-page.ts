/**
 * The built-in chat page. Static: it holds no data and no token. The token comes from the URL
 * fragment (`/#token=…`, printed by `clawpod status`), is kept in localStorage, and is sent as a
 * bearer header; replies arrive over the SSE stream. Script and style are separate files
 * (`/app.js`, `/app.css`) so the Content-Security-Policy can forbid inline code.
 */

/** The page at `/`. */
export function webPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>clawpod</title>
<link rel="stylesheet" href="/app.css">
</head><body>
<header><strong>clawpod</strong><label>chat <input id="chat" value="web:main"></label><span id="state">connecting…</span></header>
<div id="err"></div><div id="pairing"></div><div id="log"></div>
<form id="f"><textarea id="t" placeholder="Message"></textarea><button>Send</button></form>
<script src="/app.js"></script>
</body></html>`;
}

/** `/app.css`. */
export function webStyle(): string {
  return `body{font:15px system-ui,sans-serif;margin:0;display:flex;flex-direction:column;height:100vh;background:#f6f6f4}
header{padding:.6rem 1rem;background:#222;color:#eee;display:flex;gap:1rem;align-items:center}
header input{width:10rem}
#log{flex:1;overflow:auto;padding:1rem}
.m{max-width:46rem;margin:.3rem 0;padding:.5rem .8rem;border-radius:.6rem;white-space:pre-wrap;background:#fff}
.out{background:#dff0e3;margin-left:auto}.meta{font-size:.75rem;color:#777}
form{display:flex;gap:.5rem;padding:.6rem 1rem;background:#fff;border-top:1px solid #ddd}
form textarea{flex:1;font:inherit;height:3rem}
#err{color:#b00;padding:0 1rem}
#pairing pre{font:8px/8px monospace;background:#fff;display:inline-block;padding:.5rem}
`;
}

/** `/app.js`. */
export function webScript(): string {
  return `const frag = new URLSearchParams(location.hash.slice(1));
if (frag.get('token')) { localStorage.setItem('clawpod-token', frag.get('token')); history.replaceState(null, '', '/'); }
const token = localStorage.getItem('clawpod-token');
const $ = (id) => document.getElementById(id);
const auth = { authorization: 'Bearer ' + token };
let last = 0, ctl;
function show(m) {
  if (m.seq <= last) return; last = m.seq;
  const d = document.createElement('div'); d.className = 'm ' + m.direction;
  const meta = document.createElement('div'); meta.className = 'meta';
  meta.textContent = m.sender + ' · ' + new Date(m.ts).toLocaleString();
  const body = document.createElement('div'); body.textContent = m.text;
  d.append(meta, body); $('log').append(d); $('log').scrollTop = 1e9;
}
async function load() {
  if (!token) { $('err').textContent = 'No API token: open the link printed by "clawpod status".'; return; }
  if (ctl) ctl.abort(); ctl = new AbortController(); last = 0; $('log').textContent = '';
  const chat = $('chat').value;
  const r = await fetch('/api/chats/' + encodeURIComponent(chat) + '/messages', { headers: auth });
  if (!r.ok) { $('err').textContent = (await r.json()).error.message; return; }
  (await r.json()).forEach(show);
  const es = await fetch('/api/events?chat=' + encodeURIComponent(chat), { headers: auth, signal: ctl.signal });
  $('state').textContent = 'live';
  const reader = es.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read(); if (done) break;
    buf += value; let i;
    while ((i = buf.indexOf('\\n\\n')) >= 0) {
      const block = buf.slice(0, i); buf = buf.slice(i + 2);
      if (!block.includes('event: message')) continue;
      const data = block.split('\\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\\n');
      show(JSON.parse(data));
    }
  }
  $('state').textContent = 'disconnected';
}
$('chat').addEventListener('change', () => load().catch((e) => ($('err').textContent = String(e))));
$('f').addEventListener('submit', async (e) => {
  e.preventDefault(); const text = $('t').value.trim(); if (!text) return;
  const r = await fetch('/api/messages', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ chat: $('chat').value, text }) });
  if (r.ok) $('t').value = ''; else $('err').textContent = (await r.json()).error.message;
});
// A channel waiting to be paired (WhatsApp) shows its QR code here until it is connected.
async function pairing() {
  if (!token) return;
  const r = await fetch('/api/status', { headers: auth });
  if (!r.ok) return;
  const box = $('pairing'); box.textContent = '';
  let waiting = false;
  for (const c of (await r.json()).channels) {
    if (!c.pairing) continue;
    waiting = true;
    const p = document.createElement('p');
    p.textContent = c.name + ' is not paired: ' + (c.pairing.code ? 'enter the code ' + c.pairing.code + ' on the phone' : 'scan this code with WhatsApp → Linked devices');
    box.append(p);
    if (c.pairing.qrText) { const pre = document.createElement('pre'); pre.textContent = c.pairing.qrText; box.append(pre); }
  }
  if (waiting) setTimeout(pairing, 5000);
}
load().catch((e) => ($('err').textContent = String(e)));
pairing().catch(() => undefined);
`;
}
