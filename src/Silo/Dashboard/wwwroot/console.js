// OrleansMQ console: vanilla JavaScript over the silo's HTTP API (/api/, see docs/console.md).
// Every value from the broker reaches the page through textContent or an attribute set by setAttribute on an
// element this script created: no innerHTML, so a message body or key can never become markup.
'use strict';

(() => {
  const REFRESH_MS = 5000;
  const KEY_SEARCH_MAX = 1000; // the most a key search returns (the API's upper limit)
  const main = document.getElementById('main');
  const errorBox = document.getElementById('error');
  const noticeBox = document.getElementById('notice');
  let refreshTimer = null;
  let refreshErrorShown = false; // the error box shows what a failed auto-refresh reported, not a user action's error
  let renderToken = 0;
  let flash = null; // a notice to show on the next page (e.g. "deleted" after leaving the deleted topic's page)

  // ---- DOM helpers ------------------------------------------------------------------------------

  /** Creates an element. attrs: class, text, on<Event> (listeners), anything else via setAttribute. */
  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = String(v);
      else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
      else if (k === 'value') e.value = v;
      else if (k === 'checked') e.checked = !!v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  /** A link inside the console; parts are URL-encoded, so a name cannot change the route. */
  function link(text, ...parts) {
    return h('a', { href: '#/' + parts.map(p => encodeURIComponent(String(p))).join('/'), text });
  }

  function fmtTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (isNaN(d)) return String(iso);
    const p = n => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }

  function timeCell(iso) {
    return h('span', { title: iso ? new Date(iso).toISOString() + ' (UTC)' : null, text: fmtTime(iso) });
  }

  function fmtNum(n) {
    return n === null || n === undefined ? '' : Number(n).toLocaleString('en-US');
  }

  function fmtBytes(n) {
    if (n === null || n === undefined) return '';
    const units = ['B', 'KiB', 'MiB', 'GiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
  }

  function fmtMs(ms) {
    if (ms === null || ms === undefined) return '';
    return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
  }

  /** A table: columns [{ title, value: row => text | Node, cls }]. */
  function table(columns, rows, options) {
    if (!rows.length) return h('div', { class: 'empty', text: (options && options.empty) || 'Nothing to show.' });
    const head = h('tr', null, columns.map(c => h('th', { class: c.cls, text: c.title })));
    const body = rows.map(r => h('tr', { class: r.__class }, columns.map(c => {
      const v = c.value(r);
      return h('td', { class: c.cls }, v instanceof Node ? v : (v === null || v === undefined ? '' : String(v)));
    })));
    // Wide tables scroll on their own; the page, its header and forms keep the window's width.
    return h('div', { class: 'table-scroll' }, h('table', null, h('thead', null, head), h('tbody', null, body)));
  }

  function badge(text, kind) { return h('span', { class: 'badge' + (kind ? ' ' + kind : ''), text }); }

  function field(label, input) { return [h('label', { text: label, for: input.id || null }), input]; }

  // ---- messages to the user ---------------------------------------------------------------------

  function showError(e) {
    refreshErrorShown = false;
    errorBox.replaceChildren();
    if (e && e.code) {
      errorBox.append(h('span', { class: 'code', text: e.code + (e.number ? ` (${e.number})` : '') }), e.message || '');
    } else {
      errorBox.append(String(e && e.message ? e.message : e));
    }
    errorBox.hidden = false;
  }

  function showNotice(text) {
    noticeBox.textContent = text;
    noticeBox.hidden = false;
  }

  function clearMessages() {
    errorBox.hidden = true;
    noticeBox.hidden = true;
  }

  // ---- API --------------------------------------------------------------------------------------

  /** Calls the API; throws { code, number, message } (the API's error JSON) on failure. */
  async function api(method, path, body) {
    let response;
    try {
      // Relative to the page without its user info: a page opened as http://user:password@host/ would make the
      // browser refuse a URL carrying those credentials; the login itself is sent from the browser's cache.
      response = await fetch(new URL('api/' + path, window.location.origin + window.location.pathname), {
        method,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch (e) {
      throw { code: 'Unreachable', message: `the silo did not answer (${e.message}); is it still running?` };
    }
    if (response.status === 204) return null;
    let data = null;
    try { data = await response.json(); } catch { /* not JSON: reported below */ }
    if (!response.ok) {
      throw data && data.code ? data : { code: `HTTP ${response.status}`, message: response.statusText };
    }
    return data;
  }

  const q = encodeURIComponent;

  // ---- routing ----------------------------------------------------------------------------------

  const pages = {
    cluster: pageCluster,
    topics: pageTopics,
    topic: pageTopic,
    groups: pageGroups,
    group: pageGroup,
    messages: pageMessages,
    message: pageMessage,
    send: pageSend,
    dlq: pageDlq,
    delay: pageDelay,
    transactions: pageTransactions,
  };

  function route() {
    const decode = p => { try { return decodeURIComponent(p); } catch { return p; } }; // a malformed %-escape stays as typed
    const parts = location.hash.replace(/^#\/?/, '').split('/').filter(p => p.length).map(decode);
    const name = parts[0] && pages[parts[0]] ? parts[0] : 'cluster';
    return { name, args: parts.slice(1) };
  }

  async function render() {
    stopRefresh();
    clearMessages();
    if (flash) { showNotice(flash); flash = null; }
    const { name, args } = route();
    const section = { topic: 'topics', group: 'groups', message: 'messages' }[name] || name;
    for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === section);
    const token = ++renderToken;
    main.replaceChildren(h('div', { class: 'muted', text: 'Loading…' }));
    try {
      await pages[name](token, ...args);
    } catch (e) {
      if (token === renderToken) {
        main.replaceChildren();
        showError(e);
      }
    }
  }

  /** Replaces the page, unless the user already moved on to another one. */
  function paint(token, ...nodes) {
    if (token !== renderToken) return false;
    main.replaceChildren(...nodes);
    return true;
  }

  /** Calls refresh every few seconds while this page is shown and the box is ticked. */
  function autoRefresh(token, refresh) {
    const box = h('input', { type: 'checkbox', id: 'auto-refresh', checked: true });
    const tick = async () => {
      if (token !== renderToken) return;
      if (box.checked && !document.hidden) {
        // A successful refresh takes away only an error an earlier refresh showed, never one of the user's actions.
        try {
          await refresh();
          if (refreshErrorShown) { errorBox.hidden = true; refreshErrorShown = false; }
        } catch (e) { showError(e); refreshErrorShown = true; }
      }
      if (token === renderToken) refreshTimer = setTimeout(tick, REFRESH_MS);
    };
    refreshTimer = setTimeout(tick, REFRESH_MS);
    return h('label', { class: 'muted' }, box, ` auto-refresh every ${REFRESH_MS / 1000} s`);
  }

  /** Shows a page; the same address again reloads it (the browser fires no hashchange then). */
  function go(hash) {
    if (location.hash === hash) render();
    else location.hash = hash;
  }

  function stopRefresh() {
    if (refreshTimer) clearTimeout(refreshTimer);
    refreshTimer = null;
  }

  /**
   * Runs an action from a button or form, showing its error or notice. One without a notice (a search, the reload
   * after an action) leaves the notice of the action before it in place.
   */
  async function act(action, notice) {
    errorBox.hidden = true;
    if (notice) noticeBox.hidden = true;
    try {
      const result = await action();
      if (notice) showNotice(typeof notice === 'function' ? notice(result) : notice);
      return result;
    } catch (e) {
      showError(e);
      return undefined;
    }
  }

  // ---- cluster ----------------------------------------------------------------------------------

  async function pageCluster(token) {
    const all = h('input', { type: 'checkbox', id: 'all-silos' });
    const holder = h('div');
    const load = async () => {
      const data = await api('GET', 'cluster' + (all.checked ? '?all=true' : ''));
      document.getElementById('where').textContent = `cluster '${data.clusterId}' · this silo ${data.self}`;
      holder.replaceChildren(table([
        { title: 'Silo', value: s => h('span', { class: 'mono' }, s.address, s.self ? ' ' : '', s.self ? badge('this silo') : '') },
        { title: 'Name', value: s => s.siloName },
        { title: 'Host', value: s => s.hostName },
        { title: 'Status', value: s => badge(s.status, s.status === 'Active' ? 'ok' : s.status === 'Dead' ? 'bad' : 'warn') },
        { title: 'Gateway', value: s => s.gateway, cls: 'mono' },
        { title: 'Started', value: s => timeCell(s.startTime) },
        { title: 'Last alive', value: s => timeCell(s.iAmAliveTime) },
        { title: 'Activations', value: s => fmtNum(s.activations), cls: 'num' },
        { title: 'Clients', value: s => fmtNum(s.clients), cls: 'num' },
        { title: 'CPU', value: s => s.cpuUsagePercent === null || s.cpuUsagePercent === undefined ? '' : `${s.cpuUsagePercent.toFixed(1)} %`, cls: 'num' },
        { title: 'Memory', value: s => fmtBytes(s.memoryUsageBytes), cls: 'num' },
        { title: 'Overloaded', value: s => s.overloaded === null || s.overloaded === undefined ? '' : s.overloaded ? badge('yes', 'bad') : 'no' },
      ], data.silos, { empty: 'No silo is active.' }));
    };
    all.addEventListener('change', () => act(load));
    await load();
    paint(token,
      h('h1', { text: 'Cluster' }),
      h('p', { class: 'muted', text: 'Silos from Orleans membership (kept in Postgres). Each silo serves this console on its own HTTP port; clients connect to any gateway.' }),
      h('div', { class: 'toolbar' }, h('label', { class: 'muted' }, all, ' include silos that left (Dead)'), autoRefresh(token, load)),
      holder);
  }

  // ---- topics -----------------------------------------------------------------------------------

  async function pageTopics(token) {
    const filter = h('input', { type: 'search', placeholder: 'filter by name', id: 'topic-filter' });
    const showSystem = h('input', { type: 'checkbox', id: 'show-system' });
    const holder = h('div');
    let topics = [];

    const draw = () => {
      const text = filter.value.trim().toLowerCase();
      const rows = topics.filter(t => (showSystem.checked || t.kind === 'normal') && t.name.toLowerCase().includes(text));
      holder.replaceChildren(table([
        { title: 'Topic', value: t => link(t.name, 'topic', t.name), cls: 'wrap' },
        { title: 'Kind', value: t => t.kind === 'normal' ? '' : badge(t.kind, 'warn') },
        { title: 'Message type', value: t => t.messageType },
        { title: 'Queues', value: t => t.queues, cls: 'num' },
        { title: 'Permission', value: t => `${t.permission} (${t.perm})` },
        { title: 'Retention', value: t => `${t.retentionHours} h`, cls: 'num' },
        { title: 'Created', value: t => timeCell(t.createdAt) },
        {
          // Only a client topic takes sends; the broker's own topics are not deleted (a group's retry and DLQ topics are).
          title: '', value: t => h('span', null,
            link('status', 'topic', t.name),
            t.kind === 'normal' ? [' · ', link('send', 'send', t.name)] : null,
            t.kind === 'system' ? null : [' · ', h('button', { class: 'small danger', text: 'delete', onclick: () => deleteTopic(t.name, load) })]),
        },
      ], rows, { empty: topics.length ? 'No topic matches.' : 'No topic yet: create one below.' }));
    };
    const load = async () => { topics = await api('GET', 'topics'); draw(); };
    filter.addEventListener('input', draw);
    showSystem.addEventListener('change', draw);

    const name = h('input', { id: 'new-topic', required: true, maxlength: 127, placeholder: 'Orders' });
    const queues = h('input', { id: 'new-queues', type: 'number', min: 1, value: 4 });
    const type = h('select', { id: 'new-type' }, ['Normal', 'Fifo', 'Delay', 'Transaction'].map(v => h('option', { value: v, text: v })));
    const perm = h('select', { id: 'new-perm' },
      [['ReadWrite', 'read and write (6)'], ['Read', 'read only (4)'], ['Write', 'write only (2)']].map(([v, t]) => h('option', { value: v, text: t })));
    const retention = h('input', { id: 'new-retention', type: 'number', min: 1, value: 72 });
    const form = h('form', { class: 'grid' },
      field('Name', name), field('Queues', queues), field('Message type', type), field('Permission', perm),
      field('Retention (hours)', retention),
      h('div', { class: 'full' }, h('button', { type: 'submit', text: 'Create topic' })));
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      const created = await act(() => api('POST', 'topics', {
        name: name.value.trim(), queues: Number(queues.value), messageType: type.value, permission: perm.value,
        retentionHours: Number(retention.value),
      }), t => `Topic '${t.name}' created with ${t.queues} queues.`);
      if (created) { name.value = ''; await act(load); }
    });

    await load();
    paint(token,
      h('h1', { text: 'Topics' }),
      h('div', { class: 'toolbar' }, filter, h('label', { class: 'muted' }, showSystem, ' show retry, dead-letter and system topics'),
        h('span', { class: 'grow' }), h('button', { class: 'secondary', text: 'Refresh', onclick: () => act(load) })),
      holder,
      h('h2', { text: 'Create a topic' }),
      h('div', { class: 'panel' }, form));
  }

  async function deleteTopic(name, after) {
    if (!confirm(`Delete topic '${name}' with all its messages and consumer offsets? This cannot be undone.`)) return;
    const done = await act(() => api('DELETE', 'topics/' + q(name)).then(() => true), `Topic '${name}' deleted.`);
    if (done && after) await act(after);
  }

  async function pageTopic(token, name) {
    const holder = h('div');
    const load = async () => {
      const [data, groups] = await Promise.all([api('GET', 'topics/' + q(name)), api('GET', `topics/${q(name)}/groups`)]);
      const t = data.topic;
      holder.replaceChildren(
        h('div', { class: 'panel' }, h('dl', { class: 'fields' },
          h('dt', { text: 'Message type' }), h('dd', { text: t.messageType }),
          h('dt', { text: 'Queues' }), h('dd', { text: t.queues }),
          h('dt', { text: 'Permission' }), h('dd', { text: `${t.permission} (${t.perm})` }),
          h('dt', { text: 'Retention' }), h('dd', { text: `${t.retentionHours} hours` }),
          h('dt', { text: 'Created' }), h('dd', null, timeCell(t.createdAt)),
          h('dt', { text: 'Messages stored' }), h('dd', { text: fmtNum(data.messages) }),
          h('dt', { text: 'Last stored' }), h('dd', null, timeCell(data.lastStoredAt)))),
        h('h2', { text: 'Queues' }),
        table([
          { title: 'Queue', value: r => r.queueId, cls: 'num' },
          { title: 'Min offset', value: r => fmtNum(r.minOffset), cls: 'num' },
          { title: 'Max offset', value: r => fmtNum(r.maxOffset), cls: 'num' },
          { title: 'Messages', value: r => fmtNum(r.maxOffset - r.minOffset), cls: 'num' },
          { title: 'Last stored', value: r => timeCell(r.lastStoredAt) },
          {
            title: '', value: r => r.maxOffset > r.minOffset
              ? link('newest message', 'message', name, r.queueId, r.maxOffset - 1) : '',
          },
        ], data.queues),
        h('h2', { text: 'Consumer groups' }),
        table([
          { title: 'Group', value: g => link(g.group, 'group', g.group), cls: 'wrap' },
          { title: 'Queues', value: g => g.queues, cls: 'num' },
          { title: 'Lag on this topic', value: g => h('span', { class: g.totalLag > 0 ? 'lag' : '', text: fmtNum(g.totalLag) }), cls: 'num' },
        ], groups, { empty: 'No known group consumes this topic.' }),
        t.kind === 'normal' ? changeForm(t) : '');
    };
    // Like mqadmin updateTopic / updateTopicPerm: only the settings that differ are sent; queues only grow.
    const changeForm = t => {
      const queues = h('input', { id: 'upd-queues', type: 'number', min: t.queues, value: t.queues });
      const type = h('select', { id: 'upd-type' }, ['Normal', 'Fifo', 'Delay', 'Transaction'].map(v => h('option', { value: v, text: v, selected: v === t.messageType })));
      const perm = h('select', { id: 'upd-perm' },
        [['ReadWrite', 'read and write (6)'], ['Read', 'read only (4): sends refused'], ['Write', 'write only (2): consumers pause']]
          .map(([v, label]) => h('option', { value: v, text: label, selected: v === t.permission })));
      const retention = h('input', { id: 'upd-retention', type: 'number', min: 1, value: t.retentionHours });
      const form = h('form', { class: 'grid' },
        field('Queues (can only grow)', queues), field('Message type', type), field('Permission', perm), field('Retention (hours)', retention),
        h('div', { class: 'full' }, h('button', { type: 'submit', text: 'Change topic' })));
      form.addEventListener('submit', async ev => {
        ev.preventDefault();
        const change = {};
        if (Number(queues.value) !== t.queues) change.queues = Number(queues.value);
        if (type.value !== t.messageType) change.messageType = type.value;
        if (perm.value !== t.permission) change.permission = perm.value;
        if (Number(retention.value) !== t.retentionHours) change.retentionHours = Number(retention.value);
        const updated = await act(() => api('PATCH', 'topics/' + q(name), change),
          u => `Topic '${u.name}' now has ${u.queues} queues, ${u.messageType}, ${u.permission}, ${u.retentionHours} h retention.`);
        if (updated) await act(load);
      });
      return h('div', null, h('h2', { text: 'Change this topic' }),
        h('p', { class: 'muted', text: 'Producers and consumers pick up new queues at their next route refresh (30 s and 20 s by default).' }),
        h('div', { class: 'panel' }, form));
    };
    await load();
    paint(token,
      h('h1', null, 'Topic ', h('span', { class: 'mono', text: name })),
      h('div', { class: 'toolbar' },
        link('← all topics', 'topics'), link('send a message', 'send', name),
        h('span', { class: 'grow' }),
        h('button', { class: 'secondary', text: 'Refresh', onclick: () => act(load) }),
        h('button', { class: 'danger', text: 'Delete topic', onclick: () => deleteTopic(name, async () => { flash = `Topic '${name}' deleted.`; go('#/topics'); }) })),
      holder);
  }

  // ---- consumer groups --------------------------------------------------------------------------

  async function pageGroups(token) {
    const holder = h('div');
    const open = h('input', { id: 'open-group', placeholder: 'group name' });
    const load = async () => {
      const groups = await api('GET', 'groups');
      holder.replaceChildren(table([
        { title: 'Group', value: g => link(g.group, 'group', g.group), cls: 'wrap' },
        { title: 'Instances', value: g => g.error ? '' : g.instances, cls: 'num' },
        { title: 'Model', value: g => g.error ? '' : g.messageModel || '' },
        { title: 'Orderly', value: g => g.orderly ? 'yes' : '' },
        { title: 'Topics', value: g => g.error ? '' : (g.topics || []).join(', '), cls: 'wrap' },
        { title: 'Total lag', value: g => g.error ? '' : h('span', { class: g.totalLag > 0 ? 'lag' : '', text: fmtNum(g.totalLag) }), cls: 'num' },
        { title: '', value: g => g.error ? h('span', { class: 'lag', text: `${g.error.code}: ${g.error.message}` }) : link('dead letters', 'dlq', g.group) },
      ], groups, { empty: 'No consumer group has committed an offset yet.' }));
    };
    const form = h('form', { class: 'inline' }, open, h('button', { type: 'submit', text: 'Open group' }));
    form.addEventListener('submit', ev => { ev.preventDefault(); if (open.value.trim()) go('#/group/' + q(open.value.trim())); });
    await load();
    paint(token,
      h('h1', { text: 'Consumer groups' }),
      h('p', { class: 'muted', text: 'Groups with committed offsets (flushed every few seconds), broadcasting offsets, orderly locks, or a retry / dead-letter topic. A group that has just started appears after its first offset flush; open it by name meanwhile.' }),
      h('div', { class: 'toolbar' }, form, h('span', { class: 'grow' }), h('button', { class: 'secondary', text: 'Refresh', onclick: () => act(load) })),
      holder);
  }

  async function pageGroup(token, group) {
    const progressHolder = h('div');
    const instancesHolder = h('div');
    const resetResult = h('div');
    const topicSelect = h('input', { id: 'reset-topic', list: 'reset-topics', placeholder: 'topic', required: true });
    const topicList = h('datalist', { id: 'reset-topics' });
    const when = h('input', { id: 'reset-time', type: 'datetime-local', step: 1, required: true });
    when.value = localInputValue(new Date(Date.now() - 3600 * 1000));

    const load = async () => {
      const [progress, instances] = await Promise.all([
        api('GET', `groups/${q(group)}/progress`),
        api('GET', `groups/${q(group)}/instances`),
      ]);
      const rows = progress.queues.slice();
      if (rows.length) rows.push({ __class: 'total', topic: 'Total', queueId: '', brokerOffset: null, consumerOffset: null, lag: progress.totalLag, total: true });
      progressHolder.replaceChildren(table([
        { title: 'Topic', value: r => r.total ? r.topic : link(r.topic, 'topic', r.topic), cls: 'wrap' },
        { title: 'Queue', value: r => r.queueId, cls: 'num' },
        { title: 'Broker offset', value: r => fmtNum(r.brokerOffset), cls: 'num' },
        { title: 'Consumer offset', value: r => r.total ? '' : r.consumerOffset < 0 ? 'none' : fmtNum(r.consumerOffset), cls: 'num' },
        { title: 'Lag', value: r => h('span', { class: r.lag > 0 ? 'lag' : '', text: fmtNum(r.lag) }), cls: 'num' },
        { title: 'Last stored', value: r => timeCell(r.lastStoredAt) },
      ], rows, { empty: 'The group consumes nothing yet (no committed offset, no live subscription).' }));
      topicList.replaceChildren(...[...new Set(progress.queues.map(r => r.topic))].map(t => h('option', { value: t })));
      instancesHolder.replaceChildren(table([
        { title: 'Client id', value: i => i.clientId, cls: 'mono wrap' },
        { title: 'Instance', value: i => i.instanceName },
        { title: 'Host', value: i => i.host },
        { title: 'Model', value: i => i.messageModel },
        { title: 'Orderly', value: i => i.orderly ? 'yes' : 'no' },
        { title: 'Strategy', value: i => i.allocateStrategy },
        { title: 'Subscriptions', value: i => i.subscriptions.map(s => `${s.topic} (${s.expression})`).join(', '), cls: 'wrap' },
        { title: 'Queues', value: i => i.queues.join(', '), cls: 'mono wrap' },
        { title: 'Locks', value: i => i.locks.join(', '), cls: 'mono wrap' },
        { title: 'Last heartbeat', value: i => timeCell(i.lastHeartbeat) },
      ], instances, { empty: 'No live instance.' }));
    };

    const form = h('form', { class: 'inline' },
      h('label', null, 'Topic', topicSelect), topicList,
      h('label', null, 'Re-read from (local time)', when),
      h('button', { type: 'submit', text: 'Reset offsets' }));
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      const time = new Date(when.value);
      if (isNaN(time)) { showError({ code: 'InvalidArgument', message: 'pick a time to reset to' }); return; }
      if (!confirm(`Move group '${group}' on topic '${topicSelect.value}' to the first message stored at or after ${fmtTime(time)}?`)) return;
      const resets = await act(() => api('POST', `groups/${q(group)}/reset-offset`, { topic: topicSelect.value.trim(), time: time.toISOString() }),
        r => `Offsets of ${r.length} queue(s) reset.`);
      if (resets) {
        resetResult.replaceChildren(table([
          { title: 'Queue', value: r => `${r.topic}:${r.queueId}`, cls: 'mono' },
          { title: 'Before', value: r => r.before < 0 ? 'none' : fmtNum(r.before), cls: 'num' },
          { title: 'After', value: r => fmtNum(r.after), cls: 'num' },
        ], resets));
        await act(load);
      }
    });

    await load();
    paint(token,
      h('h1', null, 'Consumer group ', h('span', { class: 'mono', text: group })),
      h('div', { class: 'toolbar' }, link('← all groups', 'groups'), link('dead letters', 'dlq', group),
        h('span', { class: 'grow' }), autoRefresh(token, load),
        h('button', { class: 'danger', text: 'Delete group', onclick: () => deleteGroup(group) })),
      h('h2', { text: 'Progress' }), progressHolder,
      h('h2', { text: 'Live instances' }), instancesHolder,
      h('h2', { text: 'Reset offset by time (backtracking)' }),
      h('div', { class: 'panel' },
        h('p', { class: 'muted', text: 'Stop the group\'s consumers first: the broker refuses a reset while instances are live (their next pull would overwrite it).' }),
        form, resetResult));
  }

  // mqadmin deleteSubGroup: offsets everywhere, the retry topic, and the dead letters unless the operator keeps them.
  async function deleteGroup(group) {
    if (!confirm(`Delete group '${group}': its committed offsets on every topic and its retry topic? Its consumers must be stopped.`)) return;
    // Cancel is the safe answer: it keeps the dead letters.
    const keepDlq = !confirm(`Also delete the dead-letter topic %DLQ%${group} and its messages? OK deletes them for good; Cancel keeps them.`);
    const done = await act(() => api('DELETE', `groups/${q(group)}?keepDlq=${keepDlq}`),
      d => `Group '${d.group}' deleted: ${d.offsetsRemoved} offset(s) removed${d.topicsDeleted.length ? ', ' + d.topicsDeleted.join(', ') + ' deleted' : ''}.`);
    if (done) { flash = `Group '${group}' deleted.`; go('#/groups'); }
  }

  function localInputValue(d) {
    const p = n => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }

  // ---- messages ---------------------------------------------------------------------------------

  function messageTable(messages, empty) {
    return table([
      { title: 'Message id', value: m => link(m.msgId, 'message', m.topic, m.queueId, m.queueOffset), cls: 'mono' },
      { title: 'Queue', value: m => `${m.topic}:${m.queueId}`, cls: 'mono wrap' },
      { title: 'Offset', value: m => fmtNum(m.queueOffset), cls: 'num' },
      { title: 'Tag', value: m => m.tag },
      { title: 'Keys', value: m => m.keys.join(', '), cls: 'wrap' },
      { title: 'Stored', value: m => timeCell(m.storedAt) },
      { title: 'Body', value: m => bodyPreview(m), cls: 'wrap' },
    ], messages, { empty });
  }

  function bodyPreview(m) {
    const text = m.bodyEncoding === 'utf-8' ? m.body : `(binary, ${fmtBytes(m.bodySize)})`;
    return h('span', { class: 'mono', title: `${fmtBytes(m.bodySize)}, ${m.bodyEncoding}`, text: text.length > 120 ? text.slice(0, 120) + '…' : text });
  }

  async function pageMessages(token, mode, ...args) {
    const results = h('div');
    const tabs = h('div', { class: 'tabs' });
    const formHolder = h('div', { class: 'panel' });
    const modes = { key: 'By key', id: 'By message id', offset: 'By queue offset' };
    mode = modes[mode] ? mode : 'key';

    // Moves to the search's own address (true: the page renders again there and runs it); false when already there.
    const searchIn = parts => {
      while (parts.length && parts[parts.length - 1] === '') parts.pop();
      const hash = '#/messages/' + parts.map(p => q(p === '' ? '-' : p)).join('/');
      if (location.hash === hash) return false;
      location.hash = hash;
      return true;
    };

    const run = async (path, single, max) => {
      const data = await act(() => api('GET', path));
      if (data === undefined) { results.replaceChildren(); return; }
      const list = single ? [data] : data;
      const capped = max && list.length >= max ? ` The search stops at ${max}: narrow the time range to see the others.` : '';
      results.replaceChildren(h('p', { class: 'muted', text: `${list.length} message(s).${capped}` }), messageTable(list, 'No message found.'));
    };

    const forms = {
      key: () => {
        const topic = h('input', { id: 'q-topic', required: true, placeholder: 'topic', value: args[0] || '' });
        const key = h('input', { id: 'q-key', required: true, placeholder: 'business key', value: args[1] || '' });
        const from = h('input', { id: 'q-from', type: 'datetime-local', step: 1 });
        const to = h('input', { id: 'q-to', type: 'datetime-local', step: 1 });
        const given = text => { const d = text ? new Date(text) : null; return d && !isNaN(d) ? d : null; };
        from.value = localInputValue(given(args[2]) || new Date(Date.now() - 3 * 86400 * 1000));
        if (given(args[3])) to.value = localInputValue(given(args[3]));
        to.placeholder = 'now'; // empty: up to the moment of each search
        const f = h('form', { class: 'inline' }, h('label', null, 'Topic', topic), h('label', null, 'Key', key),
          h('label', null, 'Stored from', from), h('label', null, 'to', to), h('button', { type: 'submit', text: 'Search' }));
        f.addEventListener('submit', ev => {
          ev.preventDefault();
          const params = new URLSearchParams({ topic: topic.value.trim(), key: key.value.trim() });
          if (from.value) params.set('from', new Date(from.value).toISOString());
          if (to.value) params.set('to', new Date(to.value).toISOString());
          // The search goes into the address, so Back, a reload or a shared link shows it again.
          if (searchIn(['key', params.get('topic'), params.get('key'), params.get('from') || '', params.get('to') || ''])) return;
          params.set('max', KEY_SEARCH_MAX);
          run('messages/by-key?' + params, false, KEY_SEARCH_MAX);
        });
        return f;
      },
      id: () => {
        const id = h('input', { id: 'q-id', required: true, size: 40, placeholder: 'message id', class: 'mono', value: args[0] || '' });
        const f = h('form', { class: 'inline' }, h('label', null, 'Message id', id), h('button', { type: 'submit', text: 'Search' }));
        f.addEventListener('submit', ev => {
          ev.preventDefault();
          if (searchIn(['id', id.value.trim()])) return;
          run('messages/by-id/' + q(id.value.trim()));
        });
        return f;
      },
      offset: () => {
        const topic = h('input', { id: 'q-otopic', required: true, placeholder: 'topic', value: args[0] || '' });
        const queue = h('input', { id: 'q-queue', required: true, type: 'number', min: 0, value: args[1] || 0 });
        const offset = h('input', { id: 'q-offset', required: true, type: 'number', min: 0, value: args[2] || 0 });
        const f = h('form', { class: 'inline' }, h('label', null, 'Topic', topic), h('label', null, 'Queue', queue),
          h('label', null, 'Offset', offset), h('button', { type: 'submit', text: 'Show' }));
        f.addEventListener('submit', ev => {
          ev.preventDefault();
          if (searchIn(['offset', topic.value.trim(), queue.value, offset.value])) return;
          run(`messages/by-offset?${new URLSearchParams({ topic: topic.value.trim(), queue: queue.value, offset: offset.value })}`, true);
        });
        return f;
      },
    };

    for (const [m, label] of Object.entries(modes)) {
      tabs.append(h('button', { class: m === mode ? 'active' : '', text: label, onclick: () => { location.hash = '#/messages/' + m; } }));
    }
    const form = forms[mode]();
    formHolder.append(form);
    paint(token, h('h1', { text: 'Messages' }), tabs, formHolder, results);
    // A link such as #/messages/key/Orders/order-42 runs its query at once.
    if (args.length) form.requestSubmit();
  }

  async function pageMessage(token, topic, queue, offset) {
    const where = new URLSearchParams({ topic, queue, offset });
    const [m, tracks] = await Promise.all([api('GET', `messages/by-offset?${where}`), api('GET', `messages/track?${where}`)]);
    const props = Object.entries(m.properties || {}).map(([k, v]) => ({ k, v }));
    paint(token,
      h('h1', null, 'Message ', h('span', { class: 'mono', text: m.msgId })),
      h('div', { class: 'toolbar' }, link('← messages', 'messages'), link(`topic ${m.topic}`, 'topic', m.topic)),
      h('div', { class: 'panel' }, h('dl', { class: 'fields' },
        h('dt', { text: 'Message id' }), h('dd', { class: 'mono', text: m.msgId }),
        h('dt', { text: 'Topic' }), h('dd', { text: m.topic }),
        h('dt', { text: 'Queue / offset' }), h('dd', { text: `${m.queueId} / ${m.queueOffset}` }),
        h('dt', { text: 'Tag' }), h('dd', { text: m.tag || '' }),
        h('dt', { text: 'Keys' }), h('dd', { text: m.keys.join(', ') }),
        h('dt', { text: 'Born' }), h('dd', null, timeCell(m.bornAt), m.bornHost ? ` on ${m.bornHost}` : ''),
        h('dt', { text: 'Stored' }), h('dd', null, timeCell(m.storedAt)),
        h('dt', { text: 'Reconsume times' }), h('dd', { text: m.reconsumeTimes }),
        h('dt', { text: 'Producer group' }), h('dd', { text: m.producerGroup || '' }),
        h('dt', { text: 'Body' }), h('dd', { text: `${fmtBytes(m.bodySize)}, shown as ${m.bodyEncoding === 'utf-8' ? 'UTF-8 text' : 'base64 (not valid UTF-8)'}` }))),
      h('h2', { text: 'Properties' }),
      table([{ title: 'Name', value: p => p.k, cls: 'mono' }, { title: 'Value', value: p => p.v, cls: 'mono wrap' }], props, { empty: 'No properties.' }),
      h('h2', { text: 'Consumer groups (message track)' }),
      table([
        { title: 'Group', value: t => t.status === 'Scheduled' ? t.group : link(t.group, 'group', t.group), cls: 'wrap' },
        { title: 'Status', value: t => badge(t.status, t.status === 'Consumed' ? 'ok' : t.status === 'NotOnline' ? 'bad' : 'warn') },
        { title: 'Committed offset', value: t => t.committedOffset < 0 ? '' : fmtNum(t.committedOffset), cls: 'num' },
        { title: 'Detail', value: t => t.detail, cls: 'wrap' },
        {
          // A schedule copy is no group's to resend (its track row is the schedule itself), nor are the broker's topics.
          title: '', value: t => t.status === 'Scheduled' || /^(%RETRY%|%DLQ%|RMQ_SYS_|OMQ_SYS_|rmq_sys_|SCHEDULE_TOPIC_XXXX$)/.test(m.topic) ? '' : h('button', {
            class: 'small secondary', text: 'resend to group', onclick: () => act(
              () => api('POST', 'messages/resend', { group: t.group, topic: m.topic, queueId: m.queueId, queueOffset: m.queueOffset }),
              r => `Message ${r.msgId} resent to group '${r.group}' through ${r.topic}.`),
          }),
        },
      ], tracks, { empty: 'No group has committed offsets on this topic.' }),
      h('h2', { text: 'Body' }),
      h('pre', { class: 'body', text: m.body }));
  }

  // ---- send -------------------------------------------------------------------------------------

  async function pageSend(token, presetTopic) {
    const [topics, delay] = await Promise.all([api('GET', 'topics'), api('GET', 'delay')]);
    const topic = h('input', { id: 's-topic', list: 's-topics', required: true, value: presetTopic || '' });
    const topicList = h('datalist', { id: 's-topics' }, topics.filter(t => t.kind === 'normal').map(t => h('option', { value: t.name })));
    const tag = h('input', { id: 's-tag', placeholder: 'optional, one word' });
    const keys = h('input', { id: 's-keys', placeholder: 'optional, comma-separated' });
    const group = h('input', { id: 's-group', placeholder: 'optional: ordered messages of one group go to one queue' });
    const level = h('select', { id: 's-delay' }, h('option', { value: 0, text: 'none: deliver at once' }),
      delay.levels.map(l => h('option', { value: l.level, text: `level ${l.level}: ${l.delay}` })));
    const deliverAt = h('input', { id: 's-deliver-at', type: 'datetime-local', step: 1 });
    const props = h('textarea', { id: 's-props', placeholder: 'one key=value per line', rows: 3 });
    const body = h('textarea', { id: 's-body', required: true, placeholder: 'message body (UTF-8 text)' });
    const result = h('div');
    const form = h('form', { class: 'grid' },
      field('Topic', topic), topicList, field('Tag', tag), field('Keys', keys), field('Message group', group),
      field('Delay level', level), field('or deliver at (timer)', deliverAt), field('Properties', props), field('Body', body),
      h('div', { class: 'full' }, h('button', { type: 'submit', text: 'Send' })));
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      const properties = {};
      for (const line of props.value.split('\n').map(l => l.trim()).filter(l => l)) {
        const eq = line.indexOf('=');
        if (eq <= 0) { showError({ code: 'InvalidProperties', message: `'${line}' is not key=value` }); return; }
        properties[line.slice(0, eq)] = line.slice(eq + 1);
      }
      const sent = await act(() => api('POST', 'messages', {
        topic: topic.value.trim(), body: body.value, tag: tag.value.trim() || null,
        keys: keys.value.split(',').map(k => k.trim()).filter(k => k),
        properties, delayLevel: Number(level.value) || null, messageGroup: group.value.trim() || null,
        deliverAt: deliverAt.value ? new Date(deliverAt.value).toISOString() : null,
      }), s => s.scheduledOn
        ? `Sent: ${s.msgId} waits on ${s.scheduledOn} offset ${s.queueOffset}; when due it is stored on ${s.topic}:${s.queueId}`
        : `Sent: ${s.msgId} stored at ${s.topic}:${s.queueId} offset ${s.queueOffset}`);
      if (sent) {
        result.replaceChildren(h('div', { class: 'panel' }, h('dl', { class: 'fields' },
          h('dt', { text: 'Status' }), h('dd', { text: sent.status }),
          h('dt', { text: 'Message id' }), h('dd', { class: 'mono' }, sent.scheduledOn ? sent.msgId : link(sent.msgId, 'message', sent.topic, sent.queueId, sent.queueOffset)),
          h('dt', { text: 'Queue' }), h('dd', { text: `${sent.topic}:${sent.queueId}` }),
          h('dt', { text: 'Offset' }), h('dd', { text: sent.queueOffset }),
          h('dt', { text: 'Stored' }), h('dd', null, timeCell(sent.storedAt)),
          sent.scheduledOn ? [h('dt', { text: 'Waiting on' }), h('dd', { text: sent.scheduledOn })] : null)));
      }
    });
    paint(token,
      h('h1', { text: 'Send a test message' }),
      h('p', { class: 'muted', text: 'A synchronous send (producer group orleansmq-console); the topic must exist. The result says where it was stored.' }),
      h('div', { class: 'panel' }, form), result);
  }

  // ---- dead letters -----------------------------------------------------------------------------

  async function pageDlq(token, presetGroup) {
    const groups = await api('GET', 'groups');
    const group = h('input', { id: 'd-group', list: 'd-groups', required: true, value: presetGroup || '', placeholder: 'consumer group' });
    const groupList = h('datalist', { id: 'd-groups' }, groups.map(g => h('option', { value: g.group })));
    const results = h('div');
    const form = h('form', { class: 'inline' }, h('label', null, 'Consumer group', group), groupList, h('button', { type: 'submit', text: 'List dead letters' }));

    const load = async name => {
      const letters = await api('GET', `groups/${q(name)}/dlq?max=500`);
      const boxes = new Map();
      const resend = async ids => {
        const label = ids ? `${ids.length} selected dead letter(s)` : 'every dead letter not resent yet';
        if (!confirm(`Resend ${label} of group '${name}'? They are delivered to the group again at once.`)) return;
        const done = await act(() => api('POST', `groups/${q(name)}/dlq/resend`, ids ? { msgIds: ids } : { all: true }),
          r => `Resent ${r.length} message(s) to group '${name}'.`);
        if (done) await act(() => load(name));
      };
      results.replaceChildren(
        h('div', { class: 'toolbar' },
          h('span', { class: 'muted', text: `${letters.length} message(s) in %DLQ%${name}.` }),
          h('span', { class: 'grow' }),
          h('button', { text: 'Resend selected', disabled: !letters.length, onclick: () => {
            const ids = [...boxes].filter(([, b]) => b.checked).map(([id]) => id);
            if (!ids.length) { showError({ code: 'InvalidArgument', message: 'tick the messages to resend first' }); return; }
            resend(ids);
          } }),
          h('button', { class: 'secondary', text: 'Resend all not resent', disabled: !letters.length, onclick: () => resend(null) })),
        table([
          { title: '', value: d => { const b = h('input', { type: 'checkbox' }); boxes.set(d.message.msgId, b); return b; } },
          { title: 'Message id', value: d => link(d.message.msgId, 'message', d.message.topic, d.message.queueId, d.message.queueOffset), cls: 'mono' },
          { title: 'Original topic', value: d => d.message.properties.RETRY_TOPIC || d.message.properties.REAL_TOPIC || '' },
          { title: 'Tag', value: d => d.message.tag },
          { title: 'Keys', value: d => d.message.keys.join(', '), cls: 'wrap' },
          { title: 'Reconsumed', value: d => d.message.reconsumeTimes, cls: 'num' },
          { title: 'Dead since', value: d => timeCell(d.message.storedAt) },
          { title: 'Resent', value: d => d.resentAt ? timeCell(d.resentAt) : '' },
          { title: 'Body', value: d => bodyPreview(d.message), cls: 'wrap' },
        ], letters, { empty: 'The dead-letter queue is empty.' }));
    };
    form.addEventListener('submit', ev => {
      ev.preventDefault();
      if (group.value.trim()) go('#/dlq/' + q(group.value.trim()));
    });
    if (presetGroup) await load(presetGroup);
    paint(token,
      h('h1', { text: 'Dead-letter queues' }),
      h('p', { class: 'muted', text: 'Messages a group gave up on after its maximum reconsume times (%DLQ%<group>). Resending delivers them to the group again with a fresh retry budget.' }),
      h('div', { class: 'panel' }, form), results);
  }

  // ---- delay ------------------------------------------------------------------------------------

  async function pageDelay(token) {
    const holder = h('div');
    const load = async () => {
      const data = await api('GET', 'delay');
      const levels = data.schedules.filter(s => s.kind === 'DelayLevel');
      const timers = data.schedules.filter(s => s.kind === 'Timer');
      const columns = first => [
        first,
        { title: 'Pending', value: s => fmtNum(s.pending), cls: 'num' },
        { title: 'Next due', value: s => timeCell(s.nextDueAt) },
        { title: 'Delivered', value: s => fmtNum(s.delivered), cls: 'num' },
        { title: 'Last delivered', value: s => timeCell(s.lastDeliveredAt) },
        { title: 'Lateness p50', value: s => s.lateness.samples ? fmtMs(s.lateness.p50Ms) : '', cls: 'num' },
        { title: 'p99', value: s => s.lateness.samples ? fmtMs(s.lateness.p99Ms) : '', cls: 'num' },
        { title: 'max', value: s => s.lateness.samples ? fmtMs(s.lateness.maxMs) : '', cls: 'num' },
      ];
      holder.replaceChildren(
        h('p', { class: 'muted', text: `Delay table: ${data.levels.map(l => l.delay).join(' ')} (level n waits the n-th delay; a retry uses level 3 + reconsume times).` }),
        h('h2', { text: 'Delay levels' }),
        table([{ title: 'Level', value: s => s.id, cls: 'num' }, { title: 'Delay', value: s => s.delay }].concat(columns({ title: '', value: () => '' }).slice(1)), levels),
        h('h2', { text: 'Timer queues (deliver-at messages)' }),
        table(columns({ title: 'Timer queue', value: s => s.id, cls: 'num' }), timers, { empty: 'No timer queue.' }));
    };
    await load();
    paint(token, h('h1', { text: 'Delay levels and timers' }), h('div', { class: 'toolbar' }, autoRefresh(token, load)), holder);
  }

  // ---- transactions -----------------------------------------------------------------------------

  async function pageTransactions(token, groupArg, presetState) {
    // Address: #/transactions/<group or *>/<state>; '*' (never a group name) stands for every group.
    const presetGroup = groupArg === '*' ? '' : groupArg;
    const group = h('input', { id: 't-group', value: presetGroup || '', placeholder: 'all producer groups' });
    const state = h('select', { id: 't-state' },
      ['', 'pending', 'committing', 'committed', 'rolledback', 'discarded'].map(v =>
        h('option', { value: v, text: v || 'every state', selected: v === (presetState || '') })));
    const form = h('form', { class: 'inline' }, h('label', null, 'Producer group', group), h('label', null, 'State', state),
      h('button', { type: 'submit', text: 'Show' }));
    const holder = h('div');
    const load = async () => {
      const query = [presetGroup ? `group=${q(presetGroup)}` : '', presetState ? `state=${q(presetState)}` : '', 'max=500'].filter(x => x).join('&');
      const list = await api('GET', `transactions?${query}`);
      const end = async (t, decision) => {
        const verb = decision === 'commit' ? 'Commit' : 'Roll back';
        if (!confirm(`${verb} transaction ${t.transactionId} of producer group '${t.producerGroup}'?` +
          (decision === 'commit' ? ' Its message becomes visible to consumers.' : ' Its message is never delivered.'))) return;
        const done = await act(() => api('POST', `transactions/${q(t.producerGroup)}/${q(t.transactionId)}/${decision}`),
          r => `Transaction ${r.transactionId} is now ${r.state}.`);
        if (done) await act(load);
      };
      holder.replaceChildren(
        h('p', { class: 'muted', text: `${list.length} transaction(s), newest first.` }),
        table([
          { title: 'Group', value: t => t.producerGroup },
          { title: 'Transaction id', value: t => t.transactionId, cls: 'mono' },
          { title: 'Queue', value: t => `${t.topic}:${t.queueId}` },
          { title: 'Tag', value: t => t.tag },
          { title: 'Keys', value: t => t.keys.join(', '), cls: 'wrap' },
          { title: 'State', value: t => badge(t.state, t.state === 'Pending' ? 'warn' : t.state === 'Discarded' ? 'bad' : '') },
          { title: 'Checks', value: t => t.checkTimes, cls: 'num' },
          { title: 'Created', value: t => timeCell(t.createdAt) },
          { title: 'Next check', value: t => timeCell(t.nextCheckAt) },
          { title: 'Resolved', value: t => timeCell(t.resolvedAt) },
          { title: 'By', value: t => t.resolvedBy || '' },
          { title: 'Message', value: t => t.queueOffset === null || t.queueOffset === undefined ? '' : link('offset ' + t.queueOffset, 'message', t.topic, t.queueId, t.queueOffset) },
          { title: 'Note', value: t => t.note || '', cls: 'wrap' },
          { title: '', value: t => t.state !== 'Pending' ? '' : h('span', null,
            h('button', { text: 'Commit', onclick: () => end(t, 'commit') }), ' ',
            h('button', { class: 'secondary', text: 'Roll back', onclick: () => end(t, 'rollback') })) },
        ], list, { empty: 'No transaction messages.' }));
    };
    form.addEventListener('submit', ev => {
      ev.preventDefault();
      go('#/transactions/' + q(group.value.trim() || '*') + (state.value ? '/' + q(state.value) : ''));
    });
    await load();
    paint(token,
      h('h1', { text: 'Transaction messages' }),
      h('p', { class: 'muted', text: 'Half messages of transaction producers: pending ones wait for their commit or rollback and are checked back with a live producer of their group; discarded ones stayed unknown through every check. Committing or rolling back here resolves a stuck one as an operator.' }),
      h('div', { class: 'panel' }, form), h('div', { class: 'toolbar' }, autoRefresh(token, load)), holder);
  }

  // ---- start ------------------------------------------------------------------------------------

  window.addEventListener('hashchange', render);
  api('GET', 'cluster')
    .then(c => { document.getElementById('where').textContent = `cluster '${c.clusterId}' · this silo ${c.self}`; })
    .catch(() => { /* the page itself reports it */ });
  render();
})();
