/*
 * The dashboard's query box: sends one read-only SQL query over the job's committed state and its
 * windows' last results to GET /api/query (the page's token cookie goes with it) and shows the
 * rows as a table, or the server's error. The server decides what is allowed (one SELECT, no file access).
 */
(function queryBox() {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const form = $('query-form');
  const text = $('query-text');
  const status = $('query-status');
  const table = $('query-result');

  function show(message, isError) {
    status.textContent = message;
    status.classList.toggle('query-error', isError);
  }
  function format(value) {
    if (value === null || value === undefined) return 'NULL';
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  function draw(result) {
    const head = document.createElement('tr');
    for (const column of result.columns) {
      const th = document.createElement('th');
      th.textContent = column.name;
      th.title = column.type;
      head.appendChild(th);
    }
    table.tHead.replaceChildren(head);
    table.tBodies[0].replaceChildren(...result.rows.map((row) => {
      const tr = document.createElement('tr');
      for (const column of result.columns) {
        const td = document.createElement('td');
        td.textContent = format(row[column.name]);
        tr.appendChild(td);
      }
      return tr;
    }));
    const at = result.batchId === null || result.batchId === undefined ? '' : ` as of batch ${result.batchId}`;
    show(`${result.rows.length} ${result.rows.length === 1 ? 'row' : 'rows'}${at}`, false);
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const query = text.value.trim();
    if (query === '') return;
    show('running…', false);
    try {
      const response = await fetch(`api/query?sql=${encodeURIComponent(query)}`, { credentials: 'same-origin' });
      const body = await response.json();
      if (!response.ok) {
        table.tHead.replaceChildren();
        table.tBodies[0].replaceChildren();
        show(body.error ?? `HTTP ${response.status}`, true);
        return;
      }
      draw(body);
    } catch (error) {
      show(`The monitor could not be reached: ${error.message}`, true);
    }
  });
})();
