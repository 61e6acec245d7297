// RingKV dashboard: a client of the coordinator's public API, polled about once a second.
// Everything that comes from the cluster (ids, keys, URLs, reasons) is inserted with textContent
// or setAttribute, never as markup, and the page's Content-Security-Policy allows no inline code.
'use strict';

(() => {
  const POLL_MS = 1000;
  const TRAFFIC_MS = 2000;
  const TRAFFIC_POINTS = 90;
  const TOKEN_KEY = 'ringkv.token';
  const SVG = 'http://www.w3.org/2000/svg';
  const PALETTE = ['#2563eb', '#16a34a', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#65a30d', '#ea580c', '#4f46e5', '#0d9488', '#be123c', '#a16207'];
  const OPERATIONS = ['get', 'put', 'delete', 'list'];

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    role: null,
    cluster: null,
    ring: null,
    transfers: [],
    changes: [],
    located: null,
    locateKey: null,
    lastOk: null,
    failingSince: null,
    trafficPrevious: null,
    trafficPoints: Object.fromEntries(OPERATIONS.map(op => [op, []])),
    polling: false,
    // Each sign-in starts its own loops; a loop of an earlier one stops at its next turn.
    generation: 0,
    polls: 0,
  };

  const $ = id => document.getElementById(id);

  // Builds an element; strings become text nodes, never markup.
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value !== null && value !== undefined && value !== false) {
        node.setAttribute(name, value === true ? '' : String(value));
      }
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attributes, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value !== null && value !== undefined) node.setAttribute(name, String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  class HttpError extends Error {
    constructor(status, problem) {
      super(problem && problem.detail ? problem.detail : 'HTTP ' + status);
      this.status = status;
      this.problem = problem;
    }
  }

  async function api(path, options) {
    const headers = { Accept: 'application/json' };
    if (state.token) headers.Authorization = 'Bearer ' + state.token;
    const response = await fetch(path, { ...(options || {}), headers, cache: 'no-store', credentials: 'omit' });
    const text = await response.text();
    let body = null;
    if (text.length > 0) {
      try { body = JSON.parse(text); } catch { body = null; }
    }
    if (!response.ok) throw new HttpError(response.status, body);
    return body;
  }

  // ---- formatting ----
  const fmt = {
    int: n => (n === null || n === undefined) ? '—' : Number(n).toLocaleString('en-US'),
    pct: f => (f === null || f === undefined) ? '—' : (f * 100).toFixed(1) + ' %',
    bytes: b => {
      if (b === null || b === undefined) return '—';
      const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
      let value = Number(b); let unit = 0;
      while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
      return (unit === 0 ? value.toFixed(0) : value.toFixed(1)) + ' ' + units[unit];
    },
    age: ms => {
      if (ms === null || ms === undefined) return '—';
      if (ms < 1000) return ms + ' ms';
      if (ms < 120000) return (ms / 1000).toFixed(1) + ' s';
      if (ms < 7200000) return Math.round(ms / 60000) + ' min';
      return (ms / 3600000).toFixed(1) + ' h';
    },
    seconds: s => {
      if (s === null || s === undefined || !isFinite(s)) return '—';
      if (s < 90) return Math.ceil(s) + ' s';
      return Math.round(s / 60) + ' min';
    },
    time: iso => iso ? new Date(iso).toLocaleTimeString('en-GB') : '—',
    ms: s => (s === null || s === undefined) ? '—' : (s * 1000 < 10 ? (s * 1000).toFixed(2) : (s * 1000).toFixed(1)) + ' ms',
  };

  function colourOf(id) {
    const nodes = (state.cluster && state.cluster.nodes) || [];
    const node = nodes.find(n => n.id === id);
    const index = node ? node.number : [...id].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
    return PALETTE[index % PALETTE.length];
  }

  function swatch(id, dashed) {
    const box = svg('svg', { width: 12, height: 12, viewBox: '0 0 12 12' },
      svg('rect', { x: 0.5, y: 0.5, width: 11, height: 11, rx: 2, fill: colourOf(id), 'stroke-dasharray': dashed ? '2 2' : null, stroke: dashed ? '#111' : null }));
    return el('span', { class: 'swatch' }, box);
  }

  function statePill(value) {
    const known = ['up', 'suspect', 'dead', 'joining', 'leaving'].includes(value) ? value : 'unknown';
    return el('span', { class: 'state state-' + known }, value || 'unknown');
  }

  function safeLink(url) {
    if (typeof url !== 'string' || url.length === 0) return '—';
    try {
      const parsed = new URL(url);
      if (parsed.protocol === 'http:' || parsed.protocol === 'https:') {
        return el('a', { href: parsed.href, rel: 'noreferrer noopener', target: '_blank', class: 'mono' }, url);
      }
    } catch { /* not a URL: shown as text below */ }
    return el('span', { class: 'mono' }, url);
  }

  // ---- ring geometry: tokens are 64-bit, drawn clockwise from the top ----
  const fractionOf = hex => parseInt(hex.slice(0, 13), 16) / 2 ** 52;
  const RING = { cx: 210, cy: 210, r: 165, outer: 196 };

  function point(fraction, radius) {
    const angle = fraction * 2 * Math.PI - Math.PI / 2;
    return [RING.cx + radius * Math.cos(angle), RING.cy + radius * Math.sin(angle)];
  }

  // Fixed-width lowercase hex compares as the numbers do; a range wraps past zero when it ends below its start.
  function arcPath(fromHex, toHex, radius, whole) {
    const from = fractionOf(fromHex);
    let span = fractionOf(toHex) - from;
    if (toHex <= fromHex) span += 1;
    if (whole) {
      const [x0, y0] = point(from, radius);
      const [x1, y1] = point(from + 0.5, radius);
      return `M ${x0} ${y0} A ${radius} ${radius} 0 1 1 ${x1} ${y1} A ${radius} ${radius} 0 1 1 ${x0} ${y0}`;
    }
    const [x0, y0] = point(from, radius);
    const [x1, y1] = point(from + span, radius);
    return `M ${x0} ${y0} A ${radius} ${radius} 0 ${span > 0.5 ? 1 : 0} 1 ${x1} ${y1}`;
  }

  // Consecutive vnodes of one node become one arc: range (previous token, token] is the token's node's.
  function runs(tokens) {
    const result = [];
    if (tokens.length === 0) return result;
    let start = tokens[tokens.length - 1][0];
    let owner = tokens[0][1];
    for (let i = 0; i < tokens.length; i++) {
      const [token, id] = tokens[i];
      if (id !== owner) {
        result.push({ from: start, to: tokens[i - 1][0], id: owner });
        start = tokens[i - 1][0];
        owner = id;
      }
    }
    result.push({ from: start, to: tokens[tokens.length - 1][0], id: owner });
    // The first run and the last may be one node's across the top of the ring.
    if (result.length > 1 && result[0].id === result[result.length - 1].id) {
      const last = result.pop();
      result[0].from = last.from;
    }
    return result;
  }

  function drawRing() {
    const ring = state.ring;
    const root = $('ring');
    root.replaceChildren();
    if (!ring) return;
    const states = Object.fromEntries((state.cluster ? state.cluster.nodes : ring.nodes).map(n => [n.id, n.state]));
    root.append(svg('circle', { cx: RING.cx, cy: RING.cy, r: RING.r, fill: 'none', stroke: '#e5e7eb', 'stroke-width': 26 }));
    const current = runs(ring.tokens);
    for (const run of current) {
      const path = svg('path', {
        d: arcPath(run.from, run.to, RING.r, current.length === 1),
        class: 'arc ' + (states[run.id] || 'unknown'),
        stroke: colourOf(run.id),
        'data-node': run.id,
      }, svg('title', null, `${run.id} (${states[run.id] || 'unknown'}): (${run.from}, ${run.to}]`));
      root.append(path);
    }
    // Joining members' future ranges, on an outer track, dashed: not theirs until the switch.
    if (ring.pending.length > 0) {
      const leaving = new Set(Object.entries(states).filter(([, s]) => s === 'leaving').map(([id]) => id));
      const future = ring.tokens.filter(([, id]) => !leaving.has(id)).concat(ring.pending)
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const pendingIds = new Set(ring.pending.map(([, id]) => id));
      const futureRuns = runs(future);
      for (const run of futureRuns.filter(r => pendingIds.has(r.id))) {
        root.append(svg('path', {
          d: arcPath(run.from, run.to, RING.outer, futureRuns.length === 1),
          class: 'arc pending', stroke: colourOf(run.id), 'data-node': run.id,
        }, svg('title', null, `${run.id} (joining): will own (${run.from}, ${run.to}]`)));
      }
    }
    root.append(svg('text', { x: RING.cx, y: RING.cy - 8, class: 'centre' }, `epoch ${ring.epoch}`));
    root.append(svg('text', { x: RING.cx, y: RING.cy + 12, class: 'centre' }, `${ring.tokens.length} vnodes, RF ${ring.replicationFactor}`));
    drawLocated(root);
  }

  function drawLocated(root) {
    const located = state.located;
    if (!located || !state.ring || state.ring.tokens.length === 0) return;
    const keyFraction = fractionOf(located.token);
    const [x0, y0] = point(keyFraction, RING.r - 40);
    const [x1, y1] = point(keyFraction, RING.outer + 14);
    root.append(svg('line', { x1: x0, y1: y0, x2: x1, y2: y1, class: 'key-marker' }, svg('title', null, 'key token ' + located.token)));
    // Where each replica is picked: the first vnode of that node clockwise from the key's token.
    const tokens = state.ring.tokens;
    let start = tokens.findIndex(([t]) => t >= located.token);
    if (start < 0) start = 0;
    located.replicas.forEach((replica, order) => {
      for (let step = 0; step < tokens.length; step++) {
        const [token, id] = tokens[(start + step) % tokens.length];
        if (id !== replica.id) continue;
        // Replicas often sit on neighbouring vnodes: each marker goes further in, on a line to its vnode.
        const at = fractionOf(token);
        const [rx, ry] = point(at, RING.r);
        const [cx, cy] = point(at, RING.r - 34 - order * 22);
        root.append(svg('line', { x1: rx, y1: ry, x2: cx, y2: cy, class: 'replica-leader' }));
        root.append(svg('circle', { cx, cy, r: 9, fill: colourOf(id), class: 'replica-marker', 'data-node': id },
          svg('title', null, `replica ${order + 1}: ${id}`)));
        root.append(svg('text', { x: cx, y: cy + 4, class: 'replica-label' }, String(order + 1)));
        break;
      }
    });
  }

  function drawLegend() {
    const list = $('ring-legend');
    list.replaceChildren();
    for (const node of state.cluster.nodes) {
      list.append(el('li', { 'data-node': node.id }, swatch(node.id, node.state === 'joining' || node.state === 'leaving'),
        el('span', { class: 'mono' }, node.id), ' ', statePill(node.state), ' ', fmt.pct(node.ownership)));
    }
  }

  // ---- nodes ----
  // The node's store: free space on its data disk, and whether it refuses writes (full, recovering).
  function diskCell(node) {
    const free = node.freeDiskBytes === undefined ? '' : fmt.bytes(node.freeDiskBytes) + ' free';
    if (node.storage === 'full' || node.storage === 'recovering') {
      const label = node.storage === 'full' ? 'full: writes refused' : 'recovering: writes refused';
      return el('td', { class: 'num bad disk', 'data-storage': node.storage }, label, free ? ' (' + free + ')' : '');
    }
    return el('td', { class: 'num disk', 'data-storage': node.storage || 'unknown' }, free || '—');
  }

  function drawNodes() {
    const body = $('nodes').tBodies[0];
    body.replaceChildren();
    const replicas = new Set(state.located ? state.located.replicas.map(r => r.id) : []);
    for (const node of state.cluster.nodes) {
      const row = el('tr', { 'data-node': node.id, 'data-state': node.state, class: replicas.has(node.id) ? 'replica' : null },
        el('td', null, swatch(node.id, false), el('span', { class: 'mono node-id' }, node.id)),
        el('td', { class: 'state-cell' }, statePill(node.state)),
        el('td', { class: 'num' }, fmt.age(node.lastHeartbeatAgeMs)),
        el('td', { class: 'num' }, fmt.pct(node.ownership)),
        el('td', { class: 'num' }, fmt.int(node.keys)),
        el('td', { class: 'num' }, fmt.bytes(node.bytes)),
        diskCell(node),
        el('td', { class: 'num' }, fmt.int(node.pendingHints)),
        el('td', { class: 'num' }, node.restarts === undefined ? '—' : fmt.int(node.restarts)),
        el('td', null, safeLink(node.clientUrl)),
        el('td', null, node.respUrl ? el('span', { class: 'mono' }, node.respUrl) : '—'));
      if (state.role === 'admin') {
        const button = el('button', { type: 'button', class: 'danger remove-node', 'data-node': node.id }, 'Remove');
        button.addEventListener('click', () => removeNode(node));
        row.append(el('td', null, button));
      }
      body.append(row);
    }
  }

  // ---- health ----
  function drawHealth() {
    const cluster = state.cluster;
    const under = $('under-replicated');
    under.textContent = String(cluster.underReplicatedRanges);
    under.className = cluster.underReplicatedRanges === 0 ? 'good' : 'bad';
    const quiet = $('quiet');
    quiet.textContent = cluster.quiet ? 'yes (tombstones may be purged)' : 'no';
    $('active-transfers').textContent = String(cluster.activeTransfers);
    const coordinators = $('coordinators');
    coordinators.replaceChildren();
    if (Array.isArray(cluster.coordinators) && cluster.coordinators.length > 0) {
      for (const c of cluster.coordinators) {
        const name = c.id || c.url || '?';
        const leader = c.leader === true || c.role === 'leader' || (cluster.leader && cluster.leader === c.id);
        coordinators.append(el('div', { class: 'mono' }, name, leader ? ' (leader)' : '', c.state ? ' ' + c.state : ''));
      }
    } else {
      coordinators.append(el('span', null, '1: this one, ', el('span', { class: 'mono' }, location.origin)));
    }
    $('anti-entropy').textContent = 'per node at /v1/local/anti-entropy (not gathered here)';
    const list = $('under-list');
    list.replaceChildren();
    if (state.ring && cluster.underReplicatedRanges > 0) {
      for (const range of state.ring.underReplicated) {
        list.append(el('li', null, `(${range.start}, ${range.end}] ${range.liveReplicas}/${state.ring.replicationFactor} up: ${range.replicas.join(' ')}`));
      }
      if (state.ring.underReplicatedRanges > state.ring.underReplicated.length) {
        list.append(el('li', { class: 'muted' }, `… and ${state.ring.underReplicatedRanges - state.ring.underReplicated.length} more`));
      }
    }
    const tombstones = $('tombstones').tBodies[0];
    tombstones.replaceChildren();
    for (const node of cluster.nodes) {
      tombstones.append(el('tr', { 'data-node': node.id },
        el('td', { class: 'mono' }, node.id),
        el('td', { class: 'num' }, node.tombstones === undefined ? '—' : fmt.int(node.tombstones)),
        el('td', { class: 'num' }, !node.tombstones ? '—' : fmt.age(node.oldestTombstoneAgeMs))));
    }
    const transitions = $('transitions');
    transitions.replaceChildren();
    for (const t of (cluster.transitions || []).slice(-12).reverse()) {
      transitions.append(el('li', null, `${fmt.time(t.at)} ${t.node}: ${t.from} → ${t.to}`, t.reason ? ` (${t.reason})` : ''));
    }
  }

  // ---- data moving ----
  function transferEta(t) {
    if (t.state !== 'running' || !t.startedAt || t.rangesDone === 0) return null;
    const elapsed = (Date.now() - Date.parse(t.startedAt)) / 1000;
    return elapsed * (t.rangesLeft / t.rangesDone);
  }

  function progress(done, total) {
    const value = total > 0 ? done / total : 1;
    return el('span', null, el('progress', { max: 100, value: Math.round(value * 100) }), ' ', Math.floor(value * 100) + ' %');
  }

  function drawMoving() {
    const body = $('transfers').tBodies[0];
    body.replaceChildren();
    const order = { running: 0, pending: 1 };
    const transfers = [...state.transfers].sort((a, b) =>
      (order[a.state] ?? 2) - (order[b.state] ?? 2) || (b.createdAt || '').localeCompare(a.createdAt || ''));
    for (const t of transfers) {
      const row = el('tr', { 'data-transfer': t.id, 'data-state': t.state },
        el('td', { class: 'mono' }, t.id),
        el('td', null, t.reason),
        el('td', { class: 'mono' }, t.destination),
        el('td', { class: 'mono' }, (t.sources || []).join(' ')),
        el('td', null, t.state, t.error ? el('div', { class: 'bad' }, t.error) : null),
        el('td', { class: 'progress-cell' }, progress(t.rangesDone, t.rangesTotal)),
        el('td', { class: 'num' }, fmt.int(t.keys)),
        el('td', { class: 'num' }, fmt.bytes(t.bytes)),
        el('td', { class: 'num' }, t.keysPerSecond ? fmt.int(Math.round(t.keysPerSecond)) + ' keys/s' : '—'),
        el('td', { class: 'num' }, t.state === 'running' ? fmt.seconds(transferEta(t)) : '—'));
      if (state.role === 'admin') {
        const cell = el('td');
        if (t.state === 'running' || t.state === 'pending') {
          const button = el('button', { type: 'button', class: 'danger cancel-transfer', 'data-transfer': t.id }, 'Cancel');
          button.addEventListener('click', () => cancelTransfer(t));
          cell.append(button);
        }
        row.append(cell);
      }
      body.append(row);
    }
    if (transfers.length === 0) {
      body.append(el('tr', null, el('td', { colspan: 11, class: 'muted' }, 'No transfer since the coordinator started (finished ones stay listed for an hour).')));
    }
    const changes = $('changes').tBodies[0];
    changes.replaceChildren();
    const byId = Object.fromEntries(state.transfers.map(t => [t.id, t]));
    for (const c of [...state.changes].reverse()) {
      const own = (c.transfers || []).map(id => byId[id]).filter(Boolean);
      const done = own.reduce((s, t) => s + t.rangesDone, 0);
      const total = own.reduce((s, t) => s + t.rangesTotal, 0);
      changes.append(el('tr', { 'data-change': c.id, 'data-state': c.state },
        el('td', { class: 'mono' }, c.id),
        el('td', null, c.kind),
        el('td', { class: 'mono' }, c.node),
        el('td', null, c.state),
        el('td', null, own.length ? progress(done, total) : '—'),
        el('td', null, fmt.time(c.createdAt)),
        el('td', null, fmt.time(c.finishedAt)),
        el('td', { class: 'bad' }, c.error || '')));
    }
    if (state.changes.length === 0) {
      changes.append(el('tr', null, el('td', { colspan: 8, class: 'muted' }, 'No join or decommission since the coordinator started.')));
    }
  }

  // ---- traffic: rates and p99 from the difference between two scrapes ----
  function countsOf(node) {
    const counts = {};
    for (const r of node.requests) {
      const op = (counts[r.op] ||= { total: 0, errors: 0 });
      op.total += r.count;
      if (r.status === '5xx') op.errors += r.count;
    }
    return counts;
  }

  const delta = (now, before) => (now >= before ? now - before : now); // a restarted node counts from zero

  function quantile(buckets, q) {
    const total = buckets.length ? buckets[buckets.length - 1][1] : 0;
    if (total <= 0) return null;
    const rank = q * total;
    let previousBound = 0; let previousCount = 0;
    for (const [bound, count] of buckets) {
      if (count >= rank) {
        if (!isFinite(bound)) return previousBound;
        const inBucket = count - previousCount;
        return inBucket > 0 ? previousBound + (bound - previousBound) * (rank - previousCount) / inBucket : bound;
      }
      previousBound = bound; previousCount = count;
    }
    return previousBound;
  }

  function recordTraffic(snapshot) {
    const at = Date.parse(snapshot.at);
    const previous = state.trafficPrevious;
    const reachable = new Map(snapshot.nodes.filter(n => n.reachable).map(n => [n.id, n]));
    $('traffic-unreachable').textContent = snapshot.nodes.filter(n => !n.reachable).map(n => `${n.id} unreachable (${n.error || 'no answer'})`).join('; ');
    if (previous) {
      const seconds = Math.max((at - previous.at) / 1000, 0.001);
      for (const op of OPERATIONS) {
        let total = 0; let errors = 0; const merged = new Map();
        for (const [id, node] of reachable) {
          const before = previous.nodes.get(id);
          if (!before) continue;
          const now = countsOf(node)[op] || { total: 0, errors: 0 };
          const then = countsOf(before)[op] || { total: 0, errors: 0 };
          total += delta(now.total, then.total);
          errors += delta(now.errors, then.errors);
          const h = node.latency.find(l => l.op === op);
          const hb = before.latency.find(l => l.op === op);
          if (!h) continue;
          for (const [le, count] of h.buckets) {
            const old = hb ? (hb.buckets.find(b => b[0] === le) || [le, 0])[1] : 0;
            const bound = le === '+Inf' ? Infinity : Number(le);
            merged.set(bound, (merged.get(bound) || 0) + delta(count, old));
          }
        }
        const buckets = [...merged.entries()].sort((a, b) => a[0] - b[0]);
        const points = state.trafficPoints[op];
        points.push({ at, rps: total / seconds, errors: errors / seconds, p99: quantile(buckets, 0.99) });
        if (points.length > TRAFFIC_POINTS) points.shift();
      }
    }
    state.trafficPrevious = { at, nodes: reachable };
    drawTraffic();
  }

  function polyline(points, value, max, className) {
    const width = 240; const height = 70;
    const step = width / (TRAFFIC_POINTS - 1);
    const offset = width - (points.length - 1) * step;
    const coordinates = points.map((p, i) => {
      const v = value(p);
      const y = height - 4 - (max > 0 && v !== null ? (v / max) * (height - 8) : 0);
      return `${(offset + i * step).toFixed(1)},${y.toFixed(1)}`;
    });
    return svg('polyline', { points: coordinates.join(' '), class: className });
  }

  function drawTraffic() {
    const root = $('traffic');
    root.replaceChildren();
    for (const op of OPERATIONS) {
      const points = state.trafficPoints[op];
      const last = points[points.length - 1];
      const maxRate = Math.max(1, ...points.map(p => p.rps));
      const maxP99 = Math.max(0.001, ...points.map(p => p.p99 || 0));
      const chart = svg('svg', { viewBox: '0 0 240 70', preserveAspectRatio: 'none', role: 'img', 'aria-label': op + ' traffic' });
      if (points.length > 1) {
        chart.append(polyline(points, p => p.rps, maxRate, 'series-rps'));
        chart.append(polyline(points, p => p.errors, maxRate, 'series-errors'));
        chart.append(polyline(points, p => p.p99, maxP99, 'series-p99'));
      }
      const figures = last
        ? `${last.rps.toFixed(1)} req/s · ${last.errors.toFixed(1)} errors/s · p99 ${last.p99 === null ? '—' : fmt.ms(last.p99)}`
        : 'waiting for a second scrape…';
      root.append(el('div', { class: 'chart', 'data-op': op }, el('h3', null, op), chart, el('div', { class: 'figures' }, figures)));
    }
    root.append(el('p', { class: 'muted' }, 'blue: requests/s, red: 5xx errors/s (same scale), amber: p99 latency (own scale); over the last ' +
      Math.round(TRAFFIC_POINTS * TRAFFIC_MS / 60000) + ' minutes.'));
  }

  // ---- locate ----
  async function locate(key) {
    state.locateKey = key;
    const out = $('locate-result');
    const versions = state.role === 'admin';
    try {
      state.located = await api('/v1/cluster/locate/' + encodeURIComponent(key) + (versions ? '?versions=true' : ''));
    } catch (error) {
      state.located = null;
      out.replaceChildren(el('p', { class: 'bad' }, 'Locate failed: ' + describe(error)));
      drawRing();
      drawNodes();
      return;
    }
    const located = state.located;
    const table = el('table', { class: 'copies' },
      el('thead', null, el('tr', null, el('th', null, '#'), el('th', null, 'Replica'), el('th', null, 'State'),
        el('th', null, 'Copy'), el('th', null, 'Version'), el('th', null, 'Expires'))));
    const body = el('tbody');
    located.replicas.forEach((r, i) => {
      const copy = !versions ? 'needs admin' : r.error ? r.error : r.present === false ? 'absent' : r.deleted ? 'tombstone' : 'present';
      body.append(el('tr', { 'data-node': r.id },
        el('td', null, String(i + 1)), el('td', null, swatch(r.id, false), r.id), el('td', null, statePill(r.state)),
        el('td', null, copy), el('td', null, r.version || '—'), el('td', null, r.expiresAt || '—')));
    });
    table.append(body);
    let verdict = null;
    if (versions) {
      const seen = new Set(located.replicas.map(r => r.present === false ? 'absent' : (r.version || 'unknown')));
      verdict = seen.size === 1 ? el('p', { class: 'good' }, 'All copies agree.') : el('p', { class: 'bad' }, 'Copies differ (anti-entropy or a read repairs them).');
    }
    out.replaceChildren(
      el('p', null, 'Key ', el('code', { id: 'located-key' }, located.key), ' token ', el('code', null, located.token), ` at epoch ${located.epoch}`),
      table, verdict);
    drawRing();
    drawNodes();
  }

  // ---- actions (admin) ----
  function confirmDialog(text, withForce, forceDefault) {
    const dialog = $('confirm');
    $('confirm-text').textContent = text;
    $('confirm-error').textContent = '';
    $('confirm-force-label').hidden = !withForce;
    $('confirm-force').checked = Boolean(forceDefault);
    return new Promise(resolve => {
      dialog.addEventListener('close', () => resolve({ ok: dialog.returnValue === 'ok', force: $('confirm-force').checked }), { once: true });
      dialog.returnValue = '';
      dialog.showModal();
    });
  }

  function showResult(text, bad) {
    const result = $('action-result');
    result.textContent = text;
    result.className = bad ? 'bad' : 'good';
  }

  function describe(error) {
    if (error instanceof HttpError) {
      const p = error.problem;
      return p ? `${p.title || 'Refused'} (${error.status}): ${p.detail || ''}` : `HTTP ${error.status}`;
    }
    return error && error.message ? error.message : String(error);
  }

  async function addNode() {
    const answer = await confirmDialog('Start a new node on this machine and add it to the ring? It joins in stages: its ranges are copied and verified first.', false);
    if (!answer.ok) return;
    showResult('Starting a node…', false);
    try {
      const node = await api('/v1/cluster/nodes', { method: 'POST' });
      showResult(`Node ${node.id} started (${node.state}).`, false);
    } catch (error) {
      showResult('Adding a node failed: ' + describe(error), true);
    }
  }

  async function removeNode(node) {
    const dead = node.state === 'dead' || node.state === 'suspect';
    const answer = await confirmDialog(`Remove node ${node.id} (${node.state})? A live node hands its ranges over first; a dead one needs force.`, true, dead);
    if (!answer.ok) return;
    try {
      await api('/v1/cluster/nodes/' + encodeURIComponent(node.id) + (answer.force ? '?force=true' : ''), { method: 'DELETE' });
      showResult(`Removal of ${node.id} accepted.`, false);
    } catch (error) {
      showResult(`Removing ${node.id} was refused: ` + describe(error), true);
    }
  }

  async function cancelTransfer(transfer) {
    const answer = await confirmDialog(`Cancel transfer ${transfer.id} (${transfer.reason})? Its join or decommission rolls back.`, false);
    if (!answer.ok) return;
    try {
      await api('/v1/cluster/transfers/' + encodeURIComponent(transfer.id), { method: 'DELETE' });
      showResult(`Transfer ${transfer.id} cancelled.`, false);
    } catch (error) {
      showResult(`Cancelling ${transfer.id} was refused: ` + describe(error), true);
    }
  }

  // ---- polling ----
  function setBanner(text, isError) {
    const banner = $('banner');
    banner.hidden = !text;
    banner.textContent = text || '';
    banner.className = 'banner' + (isError ? ' error' : '');
  }

  async function poll(generation) {
    if (generation !== state.generation) return;
    try {
      const [cluster, transfers, changes] = await Promise.all([
        api('/v1/cluster'), api('/v1/cluster/transfers'), api('/v1/cluster/changes')]);
      const ringStale = !state.ring || state.ring.epoch !== cluster.epoch;
      state.cluster = cluster;
      state.transfers = transfers.transfers;
      state.changes = changes.changes;
      if (ringStale || cluster.underReplicatedRanges > 0) state.ring = await api('/v1/cluster/ring');
      state.lastOk = new Date();
      state.failingSince = null;
      $('main').classList.remove('stale');
      setBanner(null);
      render();
      // Replicas' states and versions change without a new epoch: look again every few polls.
      state.polls++;
      if (state.locateKey !== null && (ringStale || state.polls % 3 === 0)) await locate(state.locateKey);
    } catch (error) {
      if (error instanceof HttpError && error.status === 401) {
        signOut('The token was refused; sign in again.');
        return;
      }
      state.failingSince ||= new Date();
      $('main').classList.add('stale');
      const last = state.lastOk ? ' Showing the data of ' + state.lastOk.toLocaleTimeString('en-GB') + '.' : '';
      setBanner(`Coordinator unreachable since ${state.failingSince.toLocaleTimeString('en-GB')} (${describe(error)}).${last} Retrying every second.`, true);
    }
    if (state.polling) setTimeout(poll, POLL_MS, generation);
  }

  async function pollTraffic(generation) {
    if (generation !== state.generation) return;
    try {
      recordTraffic(await api('/v1/cluster/traffic'));
    } catch {
      // The coordinator's banner already says it is unreachable; the charts keep their history.
    }
    if (state.polling) setTimeout(pollTraffic, TRAFFIC_MS, generation);
  }

  function render() {
    $('epoch').textContent = `epoch ${state.cluster.epoch}`;
    $('updated').textContent = 'updated ' + state.lastOk.toLocaleTimeString('en-GB');
    drawLegend();
    drawRing();
    drawNodes();
    drawHealth();
    drawMoving();
  }

  function signOut(message) {
    state.polling = false;
    state.token = null;
    state.role = null;
    sessionStorage.removeItem(TOKEN_KEY);
    $('main').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('whoami').textContent = '';
  }

  async function start() {
    let who;
    try {
      who = await api('/v1/auth/whoami');
    } catch (error) {
      if (error instanceof HttpError && error.status === 401) {
        signOut(state.token ? 'The saved token was refused.' : '');
        return;
      }
      setBanner('Coordinator unreachable (' + describe(error) + '). Retrying…', true);
      setTimeout(start, POLL_MS);
      return;
    }
    setBanner(null);
    state.role = who.role;
    $('whoami').textContent = who.authentication === 'off' ? 'authentication off' : `${who.name} (${who.role})`;
    for (const element of document.querySelectorAll('.admin-action')) element.hidden = who.role !== 'admin';
    $('login').hidden = true;
    $('main').hidden = false;
    drawTraffic();
    if (!state.polling) {
      state.polling = true;
      state.generation++;
      poll(state.generation);
      pollTraffic(state.generation);
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', event => {
      event.preventDefault();
      const token = $('token').value.trim();
      if (!token) return;
      state.token = token;
      sessionStorage.setItem(TOKEN_KEY, token);
      $('token').value = '';
      start();
    });
    $('locate-form').addEventListener('submit', event => {
      event.preventDefault();
      const key = $('locate-key').value;
      if (key.length > 0) locate(key);
    });
    $('add-node').addEventListener('click', addNode);
    start();
  });
})();
