// The pes console: plain JavaScript and SVG over pesd's /v1 API, no
// library. The token lives in this tab's sessionStorage only; every page
// is a hash route, so a link to a group, a window and a selection can be
// pasted elsewhere (the token is never in it).
'use strict';

const TOKEN_KEY = 'pes.token';
const WINDOWS = { '15m': 900e3, hour: 3600e3, day: 86400e3, week: 7 * 86400e3 };
const PAGE = 1000; // the API's largest page

// ---- token and API -------------------------------------------------------

// A ?token= bootstrap (pesd prints such a link) is moved to sessionStorage
// and removed from the address bar and the history at once.
(function bootstrapToken() {
  const q = new URLSearchParams(location.search);
  if (q.has('token')) {
    sessionStorage.setItem(TOKEN_KEY, q.get('token'));
    q.delete('token');
    const rest = q.toString();
    history.replaceState(null, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
  }
})();

class Unauthorized extends Error {}

async function api(path) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new Unauthorized('no token');
  const r = await fetch('/v1/' + path, { headers: { Authorization: 'Bearer ' + token } });
  let body = null;
  try { body = await r.json(); } catch (_) { /* an empty or non-JSON answer */ }
  if (r.status === 401) throw new Unauthorized(body && body.error ? body.error.message : 'unauthorized');
  if (!r.ok) throw new Error(body && body.error ? body.error.message : r.status + ' ' + r.statusText);
  return body;
}

// all follows next_page_token until the list ends.
async function all(path) {
  const sep = path.includes('?') ? '&' : '?';
  let items = [], token = '';
  for (;;) {
    const page = await api(path + sep + 'limit=' + PAGE + (token ? '&page_token=' + encodeURIComponent(token) : ''));
    items = items.concat(page.items || []);
    if (!page.next_page_token) return items;
    token = page.next_page_token;
  }
}

// ---- DOM helpers ----------------------------------------------------------

// el builds an element; text always goes in as text, never as HTML.
function el(tag, attrs, ...kids) {
  const SVG = 'http://www.w3.org/2000/svg';
  // 'svg:a' is a link inside a chart; other SVG tags have no HTML twin.
  const svg = tag.startsWith('svg:') || ['svg', 'g', 'path', 'line', 'circle', 'rect', 'text', 'title', 'polyline', 'polygon'].includes(tag);
  const n = svg ? document.createElementNS(SVG, tag.replace(/^svg:/, '')) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) {
    if (k === null || k === undefined || k === false) continue;
    n.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return n;
}

const main = () => document.getElementById('main');
// fill replaces node's children, leaving out the parts a page did not have.
function fill(node, ...kids) { node.replaceChildren(...kids.flat().filter((n) => n !== null && n !== undefined && n !== false)); }
function show(...nodes) { fill(main(), ...nodes); }
function fmtTime(s) { return s ? new Date(s).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—'; }
function quantityText(c) { return c.quantity_before + ' → ' + c.quantity_after; }

// ---- routing --------------------------------------------------------------

function parseHash() {
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  return { parts: path.split('/').filter(Boolean), q: new URLSearchParams(query || '') };
}

function setHash(parts, q) {
  const s = q.toString();
  history.replaceState(null, '', '#/' + parts.map(encodeURIComponent).join('/') + (s ? '?' + s : ''));
}

async function route() {
  const logout = document.getElementById('logout');
  if (!sessionStorage.getItem(TOKEN_KEY)) { logout.hidden = true; return login(); }
  logout.hidden = false;
  const { parts, q } = parseHash();
  try {
    if (parts[0] === 'group' && parts[1]) await timelinePage(parts[1], q);
    else if (parts[0] === 'period' && parts[1]) await periodPage(parts[1]);
    // An executions page (seed 003: jobs, progress, suspend/resume/cancel)
    // mounts here, as #/executions, once pesd serves /v1/executions.
    else await groupsPage();
  } catch (e) {
    if (e instanceof Unauthorized) {
      sessionStorage.removeItem(TOKEN_KEY);
      return login('pesd refused the token: ' + e.message);
    }
    show(el('p', { class: 'error', role: 'alert' }, e.message));
  }
}

function login(message) {
  document.getElementById('nav').replaceChildren();
  const input = el('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'off', required: true });
  const form = el('form', { class: 'login', id: 'login' },
    el('h1', {}, 'Sign in to pesd'),
    message ? el('p', { class: 'error', role: 'alert' }, message) : null,
    el('label', { for: 'token' }, 'API token (pesd serve --token)'), input,
    el('button', { type: 'submit' }, 'Sign in'),
    el('p', { class: 'muted' }, 'The token stays in this tab (session storage) and goes only to this pesd.'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    route();
  });
  show(form);
  input.focus();
}

// ---- groups ---------------------------------------------------------------

async function groupsPage() {
  document.getElementById('nav').replaceChildren(el('a', { href: '#/' }, 'Groups'));
  const groups = await all('groups');
  const rows = groups.map((g) => el('tr', {},
    el('td', {}, el('a', { href: '#/group/' + encodeURIComponent(g.id) }, g.name)),
    el('td', {}, g.driver),
    el('td', { class: 'num' }, g.desired_quantity),
    el('td', { class: 'num' }, g.official_quantity),
    el('td', { class: 'num' }, g.actual_quantity),
    el('td', {}, g.status),
    el('td', {}, fmtTime(g.next_harmonization_at)),
    el('td', {},
      el('a', { href: '#/group/' + encodeURIComponent(g.id) + '?window=hour' }, 'timeline'), ' ',
      g.current_period_id ? el('a', { href: '#/period/' + encodeURIComponent(g.current_period_id) }, 'period ' + g.current_period_label) : null)));
  show(el('h1', {}, 'Groups'),
    groups.length ? el('table', { id: 'groups' },
      el('thead', {}, el('tr', {}, ['Group', 'Driver', 'Desired', 'Official', 'Actual', 'Status', 'Next harmonization', 'Links']
        .map((h, i) => el('th', { class: i >= 2 && i <= 4 ? 'num' : null, scope: 'col' }, h)))),
      el('tbody', {}, rows)) : el('p', {}, 'No groups yet.'));
}

// ---- timeline -------------------------------------------------------------

// Event kinds drawn as markers; each has its own shape so kinds are told
// apart without colour.
const FAILURES = ['node_init_failed', 'node_unavailable'];
function eventKind(e) {
  if (e.status === 'suppressed') return 'suppressed';
  if (e.status === 'ignored') return 'ignored';
  if (e.type === 'trigger_fired') return 'trigger';
  if (e.type === 'user_instruction' || e.type === 'node_terminated_by_user') return 'instruction';
  if (FAILURES.includes(e.type)) return 'failure';
  return 'system';
}
const SHAPES = {
  trigger: 'M0,-6 L6,5 L-6,5 Z', // triangle
  instruction: 'M0,-7 L6,0 L0,7 L-6,0 Z', // diamond
  failure: 'M-5,-5 L5,5 M5,-5 L-5,5', // cross
  suppressed: 'M-5.5,0 A5.5,5.5 0 1,0 5.5,0 A5.5,5.5 0 1,0 -5.5,0', // hollow circle
  ignored: 'M-5,-5 H5 V5 H-5 Z', // hollow square
  system: 'M-4,-4 H4 V4 H-4 Z',
};
const KIND_NAMES = { trigger: 'trigger fired', instruction: 'instruction', failure: 'failure', suppressed: 'suppressed', ignored: 'ignored', system: 'system' };

// stepPath draws a step series: each quantity holds until the next point.
function stepPath(points, x, y) {
  let d = '';
  for (const [i, p] of points.entries()) {
    const px = x(Date.parse(p.time)).toFixed(1), py = y(p.quantity).toFixed(1);
    d += i === 0 ? 'M' + px + ',' + py : 'H' + px + 'V' + py;
  }
  return d;
}

// BUCKETS: one bucket every 3 px of the chart, as pesd thins the window.
const W = 960, H = 340, L = 44, R = 16, T = 34, B = 40;
const BUCKETS = Math.round((W - L - R) / 3);

async function timelinePage(groupID, q) {
  const win = WINDOWS[q.get('window')] ? q.get('window') : 'hour';
  const ref = encodeURIComponent(groupID);
  const now = Date.now();
  const from = now - WINDOWS[win];
  // One request draws the window, however busy: pesd builds the series and
  // thins the markers (GET /v1/groups/{id}/timeline). It goes with the
  // group's own read, not after it.
  const [g, tl] = await Promise.all([api('groups/' + ref),
    api('groups/' + ref + '/timeline?since=' + encodeURIComponent(new Date(from).toISOString()) +
      '&until=' + encodeURIComponent(new Date(now).toISOString()) + '&buckets=' + BUCKETS)]);
  const gid = encodeURIComponent(g.id);
  const predictive = g.predictive && g.predictive.mode && g.predictive.mode !== 'off';
  const forecast = predictive ? await api('groups/' + gid + '/forecast') : null;

  document.getElementById('nav').replaceChildren(el('a', { href: '#/' }, 'Groups'), ' / ', g.name);
  const winLinks = el('p', { class: 'windows' }, 'Window: ', Object.keys(WINDOWS).map((w) => {
    const qq = new URLSearchParams(q); qq.set('window', w); qq.delete('sel');
    return el('a', { href: '#/group/' + gid + '?' + qq, 'aria-current': w === win ? 'page' : null }, 'last ' + w.replace('15m', '15 minutes'));
  }));

  // Geometry: time runs to now, or into the forecast when there is one.
  let to = now;
  const intervals = forecast && forecast.ready ? forecast.intervals : [];
  if (intervals.length) to = Math.max(now, Math.min(Date.parse(intervals[intervals.length - 1].end), now + WINDOWS[win] / 4));
  const band = intervals.filter((i) => Date.parse(i.end) > from && Date.parse(i.start) < to);
  const values = [tl.desired, tl.official, tl.actual].flat().map((p) => p.quantity).concat(band.map((i) => i.upper));
  const maxQ = Math.max(1, ...values) + 1;
  const x = (t) => L + (t - from) / (to - from) * (W - L - R);
  const y = (v) => H - B - v / maxQ * (H - T - B);

  const svg = el('svg', { class: 'chart', id: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `Desired, official and actual quantities of ${g.name} over the last ${win}; the table of changes below is the same data as text.` });
  const ticks = 6;
  for (let i = 0; i <= ticks; i++) {
    const v = Math.round(maxQ * i / ticks);
    svg.append(el('line', { class: 'grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }), el('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, v));
  }
  for (let i = 0; i <= 6; i++) {
    const t = from + (to - from) * i / 6;
    const d = new Date(t).toISOString();
    svg.append(el('text', { x: x(t), y: H - B + 16, 'text-anchor': 'middle' }, win === 'week' ? d.slice(5, 16).replace('T', ' ') : d.slice(11, 16)));
  }
  svg.append(el('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }), el('line', { class: 'axis', x1: L, x2: L, y1: T, y2: H - B }));
  if (band.length) {
    const up = band.map((i) => [x(Math.max(from, Date.parse(i.start))), y(i.upper), x(Math.min(to, Date.parse(i.end)))]);
    const lo = band.map((i) => [x(Math.max(from, Date.parse(i.start))), y(i.lower), x(Math.min(to, Date.parse(i.end)))]).reverse();
    const pts = up.flatMap(([a, b, c]) => [a + ',' + b, c + ',' + b]).concat(lo.flatMap(([a, b, c]) => [c + ',' + b, a + ',' + b]));
    svg.append(el('polygon', { class: 'band', id: 'forecast-band', points: pts.join(' ') }, el('title', {}, `forecast, ${Math.round(forecast.confidence * 100)}% interval`)));
  }
  // Harmonizations: an H label at each decision, linking to its record.
  for (const h of tl.harmonizations) {
    const px = x(Date.parse(h.time));
    svg.append(el('svg:a', { href: '#/period/' + encodeURIComponent(h.period_id), class: 'hmark', 'data-period': h.period_id },
      el('line', { x1: px, x2: px, y1: T - 4, y2: H - B }),
      el('text', { x: px, y: H - 4, 'text-anchor': 'middle' }, h.label),
      el('title', {}, `${h.label}: desired ${h.desired_before} → ${h.desired_after}, official ${h.official_before} → ${h.official_after} (${h.policy})`)));
  }
  for (const k of ['desired', 'official', 'actual']) svg.append(el('path', { class: 's-' + k, d: stepPath(tl[k], x, y) }));

  const select = (kind, id) => {
    const qq = new URLSearchParams(q); qq.set('window', win); qq.set('sel', kind + ':' + id);
    setHash(['group', g.id], qq);
    q = qq;
    for (const n of svg.querySelectorAll('.selected')) n.classList.remove('selected');
    const m = svg.querySelector(`[data-${kind}="${CSS.escape(id)}"]`);
    if (m) m.classList.add('selected');
    return kind === 'change' ? showChange(id, select) : showEvent(id, select);
  };
  // Changes: a circle where each left the actual line; hover tells what
  // it was, a click opens its causes.
  const changeX = (c) => x(Date.parse(c.ended_at || c.started_at));
  for (const c of tl.changes) {
    svg.append(el('g', { class: 'chg', 'data-change': c.id, tabindex: 0, role: 'button', 'aria-label': c.label + ': ' + c.description,
      onclick: () => select('change', c.id), onkeydown: (ev) => { if (ev.key === 'Enter') select('change', c.id); } },
    el('circle', { cx: changeX(c), cy: y(c.quantity_after), r: 5 }), el('title', {}, `${c.label}: ${c.description}`)));
  }
  // Events: a row of shapes above the chart, one shape per kind.
  for (const e of tl.events) {
    const k = eventKind(e);
    svg.append(el('g', { class: 'ev k-' + k, 'data-event': e.id, 'data-kind': k, tabindex: 0, role: 'button', 'aria-label': e.label + ': ' + e.description,
      transform: `translate(${x(Date.parse(e.time)).toFixed(1)},${T - 18})`,
      onclick: () => select('event', e.id), onkeydown: (ev) => { if (ev.key === 'Enter') select('event', e.id); } },
    el('path', { d: SHAPES[k] }), el('title', {}, `${e.label} (${KIND_NAMES[k]}): ${e.description}`)));
  }

  const legend = el('div', { class: 'legend', 'aria-hidden': 'true' },
    ['desired', 'official', 'actual'].map((k) => el('span', {}, el('svg', { width: 34, height: 10 }, el('line', { class: 's-' + k, x1: 0, x2: 34, y1: 5, y2: 5 })), ' ' + k)),
    Object.keys(SHAPES).filter((k) => k !== 'system').map((k) => el('span', {},
      el('svg', { width: 16, height: 16, viewBox: '-8 -8 16 16', class: 'ev k-' + k }, el('path', { d: SHAPES[k] })), ' ' + KIND_NAMES[k])),
    el('span', {}, 'H: harmonization'), band.length ? el('span', {}, 'shaded: forecast') : null);

  const panel = el('section', { id: 'panel', 'aria-live': 'polite' });
  // The text alternative of the chart: the changes it draws, latest first.
  const shown = tl.changes.slice(-200).reverse();
  const table = el('table', { id: 'changes' },
    el('caption', {}, `Changes of the last ${win}` + (shown.length < tl.change_count ? ` (${shown.length} of ${tl.change_count}; pesd changes lists them all)` : '')),
    el('thead', {}, el('tr', {}, ['Change', 'Time', 'Type', 'Quantity', 'Status', 'Description'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, shown.map((c) => el('tr', {},
      el('td', {}, el('a', { href: '#', onclick: (ev) => { ev.preventDefault(); select('change', c.id); } }, c.label)),
      el('td', {}, fmtTime(c.ended_at || c.started_at)), el('td', {}, c.type), el('td', { class: 'num' }, quantityText(c)),
      el('td', {}, c.status), el('td', {}, c.description)))));

  show(el('h1', {}, g.name), el('p', {}, `desired ${g.desired_quantity}, official ${g.official_quantity}, actual ${g.actual_quantity}; ${g.status}; next harmonization ${fmtTime(g.next_harmonization_at)}`),
    winLinks, legend, svg, panel,
    forecast && !forecast.ready ? el('p', { class: 'muted' }, 'No forecast band: ' + forecast.reason) : null,
    el('p', { class: 'muted' }, `${tl.change_count} changes, ${tl.event_count} events, ${tl.harmonization_count} harmonizations in the window.`), table);
  svg.setAttribute('data-rendered', String(tl.harmonizations.length));
  // From navigation to a drawn chart, on the browser's own clock (make bench).
  performance.mark('timeline-drawn');
  const sel = (q.get('sel') || '').split(':');
  if (sel.length === 2 && (sel[0] === 'change' || sel[0] === 'event')) await select(sel[0], sel[1]);
}

async function showChange(id, select) {
  const d = await api('changes/' + encodeURIComponent(id));
  const panel = document.getElementById('panel');
  fill(panel,
    el('h2', {}, `${d.label}: ${d.type} ${quantityText(d)} (${d.attribution}, ${d.status})`),
    el('p', {}, d.description),
    el('h3', {}, `Causes (${d.causes.length})`),
    el('ul', { id: 'causes' }, d.causes.map((c) => el('li', { class: 'cause', 'data-attribution': c.attribution },
      el('a', { href: '#', onclick: (ev) => { ev.preventDefault(); select('event', c.event.id); } }, c.event.label), ` (${c.attribution}) ${c.event.description}`))),
    el('h3', {}, 'Explanation'), el('pre', { class: 'explanation', id: 'explanation' }, d.explanation),
    d.period_id ? el('p', {}, el('a', { href: '#/period/' + encodeURIComponent(d.period_id) }, 'Decision record ' + d.period_label)) : null);
  panel.dataset.selected = 'change:' + id;
}

async function showEvent(id, select) {
  const d = await api('events/' + encodeURIComponent(id));
  const panel = document.getElementById('panel');
  const effects = d.effects || [];
  const why = [d.reason, ...(d.notes || [])].filter(Boolean);
  fill(panel,
    el('h2', {}, `${d.label}: ${d.type} (${d.status})`),
    el('p', {}, d.description),
    d.observed ? el('p', {}, 'Observed: ' + d.observed) : null,
    effects.length ? [el('h3', {}, `Effects (${effects.length})`),
      el('ul', { id: 'effects' }, effects.map((f) => el('li', {},
        el('a', { href: '#', onclick: (ev) => { ev.preventDefault(); select('change', f.change.id); } }, f.change.label), ` (${f.attribution}) ${f.change.description}`)))]
      : el('p', { id: 'no-effect' }, 'No effect' + (why.length ? ': ' : '.'), why.length ? el('strong', { id: 'reason' }, why.join('; ')) : null),
    effects.length > 0 && why.length > 0 ? el('p', { id: 'reason' }, why.join('; ')) : null,
    el('h3', {}, 'Explanation'), el('pre', { class: 'explanation', id: 'explanation' }, d.explanation),
    d.period_id ? el('p', {}, el('a', { href: '#/period/' + encodeURIComponent(d.period_id) }, 'Decision record ' + d.period_label)) : null);
  panel.dataset.selected = 'event:' + id;
}

// ---- period (decision record) ----------------------------------------------

async function periodPage(id) {
  const p = await api('periods/' + encodeURIComponent(id));
  const g = await api('groups/' + encodeURIComponent(p.group_id));
  document.getElementById('nav').replaceChildren(el('a', { href: '#/' }, 'Groups'), ' / ',
    el('a', { href: '#/group/' + encodeURIComponent(g.id) }, g.name), ' / ', p.label);
  const table = (caption, heads, rows) => rows.length ? el('table', {}, el('caption', {}, caption),
    el('thead', {}, el('tr', {}, heads.map((h) => el('th', { scope: 'col' }, h)))), el('tbody', {}, rows)) : null;
  show(el('h1', {}, `Decision record ${p.label} of ${g.name}`),
    el('p', {}, `${fmtTime(p.started_at)} – ${fmtTime(p.ended_at)}; policy ${p.policy}; ` +
      (p.harmonized ? `desired ${p.desired_before} → ${p.desired_after}, official ${p.official_before} → ${p.official_after}, actual ${p.actual}, in flight ${p.in_flight}` : 'not harmonized yet')),
    p.summary ? el('pre', { class: 'summary', id: 'summary' }, p.summary) : null,
    table('Requests', ['Event', 'Kind', 'Proposed', 'Priority'], (p.requests || []).map((r) => el('tr', {},
      el('td', {}, r.label), el('td', {}, r.kind || ''), el('td', { class: 'num' }, r.proposed_quantity), el('td', { class: 'num' }, r.priority)))),
    table('Suppressed', ['Event', 'Reason'], (p.suppressed || []).map((r) => el('tr', {}, el('td', {}, r.label), el('td', {}, r.reason)))),
    table('Clamps', ['Kind', 'Bound', 'From', 'To', 'Applied', 'Detail'], (p.clamps || []).map((c) => el('tr', {},
      el('td', {}, c.kind), el('td', { class: 'num' }, c.bound), el('td', { class: 'num' }, c.from), el('td', { class: 'num' }, c.to),
      el('td', {}, c.applied ? 'yes' : 'no'), el('td', {}, c.detail || '')))),
    (p.notes || []).length ? el('ul', {}, p.notes.map((n) => el('li', {}, n))) : null,
    (p.change_ids || []).length ? el('p', {}, 'Changes: ', p.change_ids.map((cid, i) => [i ? ', ' : '',
      el('a', { href: '#/group/' + encodeURIComponent(g.id) + '?window=week&sel=change:' + encodeURIComponent(cid) }, cid)])) : null);
}

document.getElementById('logout').addEventListener('click', () => { sessionStorage.removeItem(TOKEN_KEY); location.hash = '#/'; route(); });
window.addEventListener('hashchange', route);
route();
