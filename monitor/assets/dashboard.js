// The Sluice monitor's dashboard: follows /events (server-sent events) and draws the last batches
// with uPlot. Written by hand, no framework, no build step. Every text from the job goes through
// textContent, never innerHTML.
'use strict';

(function dashboard() {
  const MAX_BATCHES = 100;
  const $ = (id) => document.getElementById(id);
  const view = { status: 'connecting', batches: [], intervalMs: 0, uptimeMs: 0, uptimeAt: 0, error: undefined, expanded: new Set() };

  // ---- formatting ----
  const ms = (v) => (v === undefined || v === null ? '–' : v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(v < 10000 ? 2 : 1)} s`);
  const num = (v) => (v === undefined || v === null ? '–' : Intl.NumberFormat().format(v));
  const time = (t) => (t === undefined || t === null ? '–' : new Date(t).toISOString().replace('T', ' ').slice(0, 23));
  const span = (t) => {
    const s = Math.floor(t / 1000);
    const parts = [[Math.floor(s / 86400), 'd'], [Math.floor(s / 3600) % 24, 'h'], [Math.floor(s / 60) % 60, 'm'], [s % 60, 's']];
    const first = parts.findIndex(([n]) => n > 0);
    return parts.slice(first < 0 ? 3 : first, (first < 0 ? 3 : first) + 2).map(([n, u]) => `${n}${u}`).join(' ');
  };

  // ---- charts ----
  const PALETTE = ['#2f6fdf', '#e8590c', '#2b8a3e', '#9c36b5', '#c92a2a', '#0b7285', '#5f3dc4', '#a07a00'];
  const charts = {};
  function chartSpecs() {
    const seconds = (b) => b.batchTime / 1000;
    const interval = view.intervalMs / 1000 || 1;
    const sources = names(view.batches, (b) => b.sources.map((s) => s.source));
    const streams = names(view.batches, (b) => b.eventTime.map((e) => e.stream));
    const stateful = names(view.batches, (b) => b.operators.filter((o) => o.stateRows !== undefined).map((o) => o.operator));
    const find = (list, key, name) => list.find((x) => x[key] === name);
    return {
      'chart-input': { x: seconds, series: sources.map((n) => [n, (b) => { const s = find(b.sources, 'source', n); return s === undefined ? null : s.inputRecords / interval; }]) },
      'chart-processing': { x: seconds, series: [['processing time', (b) => b.processingTimeMs], ['batch interval', () => view.intervalMs, { dash: [6, 4], stroke: '#c0392b' }]] },
      'chart-delay': { x: seconds, series: [['scheduling delay', (b) => b.schedulingDelayMs], ['total delay', (b) => b.totalDelayMs]] },
      'chart-watermark': { x: seconds, series: streams.map((n) => [n, (b) => { const e = find(b.eventTime, 'stream', n); return e === undefined || e.watermark === undefined ? null : Math.max(0, b.batchTime - e.watermark) / 1000; }]) },
      'chart-state': { x: seconds, series: stateful.map((n) => [n, (b) => { const o = find(b.operators, 'operator', n); return o === undefined || o.stateRows === undefined ? null : o.stateRows; }]) },
      'chart-late': { x: seconds, series: [['late', (b) => b.lateRecordsDropped], ['bad', (b) => b.numBadRecords], ['skipped', (b) => b.numSkippedRecords], ['dead-lettered', (b) => b.numDeadLetteredRecords]] },
    };
  }
  function names(batches, of) {
    const seen = new Set();
    for (const b of batches) for (const n of of(b)) seen.add(n);
    return [...seen];
  }
  function drawCharts() {
    for (const [id, spec] of Object.entries(chartSpecs())) {
      const el = $(id);
      const data = [view.batches.map(spec.x), ...spec.series.map(([, f]) => view.batches.map(f))];
      const key = spec.series.map(([n]) => n).join('\u0000');
      const chart = charts[id];
      if (chart !== undefined && chart.key === key) {
        chart.plot.setData(data);
        continue;
      }
      if (chart !== undefined) chart.plot.destroy();
      const series = [{}, ...spec.series.map(([label, , extra], i) => ({ label, stroke: PALETTE[i % PALETTE.length], width: 1.6, spanGaps: true, ...extra }))];
      const opts = { width: Math.max(200, el.clientWidth), height: 170, series, scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(max, 1) * 1.1] } }, legend: { live: false } };
      charts[id] = { key, plot: new uPlot(opts, data, el) };
    }
  }
  window.addEventListener('resize', () => {
    for (const [id, chart] of Object.entries(charts)) chart.plot.setSize({ width: Math.max(200, $(id).clientWidth), height: 170 });
  });

  // ---- header, error and table ----
  function drawHeader() {
    const status = $('status');
    status.textContent = view.status;
    status.className = `status status-${view.status}`;
    status.dataset.status = view.status;
    $('interval').textContent = view.intervalMs ? ms(view.intervalMs) : '–';
    const last = view.batches[view.batches.length - 1];
    $('last-batch').textContent = last === undefined ? '–' : `#${last.batchId} at ${time(last.batchTime).slice(11, 19)}`;
    $('last-records').textContent = last === undefined ? '–' : num(last.numInputRecords);
    $('last-processing').textContent = last === undefined ? '–' : ms(last.processingTimeMs);
    $('last-delay').textContent = last === undefined ? '–' : ms(last.schedulingDelayMs);
    $('last-watermark').textContent = last === undefined || last.watermark === undefined ? '–' : time(last.watermark);
    const error = view.error;
    $('error').hidden = error === undefined;
    if (error !== undefined) {
      const where = [error.batchId === undefined ? undefined : `batch ${error.batchId}`, error.operator === undefined ? undefined : `operator ${error.operator}`, error.source === undefined ? undefined : `source ${error.source}`].filter(Boolean);
      $('error-where').textContent = `${error.code}${where.length ? ` in ${where.join(', ')}` : ''}`;
      $('error-message').textContent = error.message;
    }
  }
  function drawUptime() {
    const running = view.status === 'running';
    $('uptime').textContent = view.status === 'connecting' ? '–' : span(view.uptimeMs + (running ? Date.now() - view.uptimeAt : 0));
  }
  setInterval(drawUptime, 1000);

  function cell(row, text) {
    const td = document.createElement('td');
    td.textContent = text;
    row.appendChild(td);
  }
  function drawTable() {
    const body = $('batches').tBodies[0];
    const rows = [];
    for (const b of view.batches.slice().reverse()) {
      const tr = document.createElement('tr');
      tr.className = `batch${b.processingTimeMs > view.intervalMs ? ' slow' : ''}`;
      tr.dataset.batchId = String(b.batchId);
      for (const text of [`#${b.batchId}`, time(b.batchTime), num(b.numInputRecords), ms(b.processingTimeMs), ms(b.schedulingDelayMs), ms(b.totalDelayMs), b.watermark === undefined ? '–' : time(b.watermark)]) cell(tr, text);
      tr.addEventListener('click', () => {
        if (!view.expanded.delete(b.batchId)) view.expanded.add(b.batchId);
        drawTable();
      });
      rows.push(tr);
      if (view.expanded.has(b.batchId)) rows.push(operatorRow(b));
    }
    body.replaceChildren(...rows);
  }
  function smallTable(headers, lines) {
    const table = document.createElement('table');
    const head = document.createElement('tr');
    for (const h of headers) {
      const th = document.createElement('th');
      th.textContent = h;
      head.appendChild(th);
    }
    table.appendChild(head);
    for (const line of lines) {
      const row = document.createElement('tr');
      for (const text of line) cell(row, text);
      table.appendChild(row);
    }
    return table;
  }
  function operatorRow(b) {
    const tr = document.createElement('tr');
    tr.className = 'operators';
    const td = document.createElement('td');
    td.colSpan = 7;
    td.appendChild(smallTable(['source', 'records read', 'bad records', 'retries'], b.sources.map((s) => [s.source, num(s.inputRecords), num(s.badRecords), num(s.retries)])));
    td.appendChild(
      smallTable(
        ['operator', 'state rows', 'state bytes', 'late', 'skipped', 'dead-lettered', 'written'],
        b.operators.map((o) => [o.operator, num(o.stateRows), num(o.stateBytes), num(o.lateRecordsDropped), num(o.skippedRecords), num(o.deadLetteredRecords), num(o.recordsWritten)]),
      ),
    );
    tr.appendChild(td);
    return tr;
  }

  function drawAll() {
    drawHeader();
    drawUptime();
    drawTable();
    drawCharts();
  }

  // ---- the event stream ----
  function connect() {
    const events = new EventSource('events');
    events.addEventListener('snapshot', (e) => {
      const s = JSON.parse(e.data);
      Object.assign(view, { status: s.status, batches: s.batches, intervalMs: s.batchIntervalMs, uptimeMs: s.uptimeMs, uptimeAt: Date.now(), error: s.error ?? undefined });
      $('connection').hidden = true;
      drawAll();
    });
    events.addEventListener('batch', (e) => {
      view.batches.push(JSON.parse(e.data));
      if (view.batches.length > MAX_BATCHES) view.batches.shift();
      drawAll();
    });
    events.addEventListener('started', () => {
      Object.assign(view, { status: 'running', uptimeMs: 0, uptimeAt: Date.now() });
      drawHeader();
    });
    events.addEventListener('failed', (e) => {
      view.error = JSON.parse(e.data);
      drawHeader();
    });
    events.addEventListener('stopped', (e) => {
      const s = JSON.parse(e.data);
      Object.assign(view, { status: s.status, uptimeMs: s.uptimeMs, uptimeAt: Date.now(), error: s.error ?? view.error });
      drawHeader();
      drawUptime();
    });
    events.onerror = () => {
      $('connection').hidden = false;
      // The browser retries a dropped stream itself; one it gave up on (an HTTP error) is opened again here.
      if (events.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
    };
  }
  connect();
})();
