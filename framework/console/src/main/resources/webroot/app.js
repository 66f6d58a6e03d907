'use strict';
/*
 * The Cornerstone console page: nodes, bundles and jobs. It uses only the console's JSON API
 * (/api, described by /api/openapi.yaml) and its event stream (/api/events) for live updates;
 * charts are drawn by uPlot. Every text from the node is put into the page as text, never as
 * HTML.
 */
(function () {
  const S = {
    csrf: null,
    user: null,
    route: null,
    job: null,          // the job shown in detail: {id, status, charts, ...}
    backends: {},
    stats: {latencies: [], readyMs: null, events: 0, nodeEvents: 0, nodeLatencies: [], repositoryEvents: 0},
    nodesSince: null,
    autoRefresh: true,   // the nodes view re-reads load and memory every 5 s (joins and leaves are pushed)
    reloadTimers: {},
  };
  window.cornerstone = S; // for the browser tests: latencies, ready time

  // ---------------------------------------------------------------- helpers

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'style') el.style.cssText = v; // through the CSSOM: the CSP allows no style attributes
      else if (k.startsWith('on')) el.addEventListener(k.substring(2), v);
      else if (k === 'text') el.textContent = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  class ApiError extends Error {
    constructor(status, message, field) {
      super(message);
      this.status = status;
      this.field = field;
    }
  }

  async function api(method, path, body, raw) {
    const headers = {};
    if (method !== 'GET') headers['X-CSRF-Token'] = S.csrf;
    let payload;
    if (raw) {
      payload = body;
      headers['Content-Type'] = 'application/java-archive';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    }
    let res;
    try {
      res = await fetch(path, {method, headers, body: payload, credentials: 'same-origin'});
    } catch (e) {
      if (method !== 'GET') throw new ApiError(0, 'the node did not answer (' + e.message + ')');
      await new Promise(r => setTimeout(r, 300)); // a dropped connection: a read is tried once more
      res = await fetch(path, {method, headers, credentials: 'same-origin'});
    }
    if (res.status === 401) {
      location.replace('/public/login.html');
      throw new ApiError(401, 'signed out');
    }
    const type = res.headers.get('Content-Type') || '';
    const data = type.includes('json') ? await res.json() : await res.text();
    if (!res.ok) {
      throw new ApiError(res.status, (data && data.error) || ('HTTP ' + res.status), data && data.field);
    }
    return data;
  }

  function flash(message, info) {
    const f = document.getElementById('flash');
    f.textContent = message;
    f.className = 'flash' + (info ? ' info' : '');
    clearTimeout(flash.timer);
    flash.timer = setTimeout(() => f.classList.add('hidden'), info ? 4000 : 12000);
  }

  function bytes(n) {
    if (n === null || n === undefined || n < 0) return '–';
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return n.toFixed(i ? 1 : 0) + ' ' + u[i];
  }

  function duration(ms) {
    const s = Math.floor(ms / 1000);
    const d = Math.floor(s / 86400), hh = Math.floor(s % 86400 / 3600), mm = Math.floor(s % 3600 / 60);
    return (d ? d + 'd ' : '') + (d || hh ? hh + 'h ' : '') + mm + 'm ' + (s % 60) + 's';
  }

  function num(v, digits) {
    return typeof v === 'number' && isFinite(v) ? v.toFixed(digits) : '–';
  }

  function pct(v) {
    return typeof v === 'number' && v >= 0 ? (v * 100).toFixed(0) + '%' : '–';
  }

  function later(key, ms, fn) {
    clearTimeout(S.reloadTimers[key]);
    S.reloadTimers[key] = setTimeout(fn, ms);
  }

  const view = () => document.getElementById('view');

  function show(...children) {
    view().replaceChildren(...children.flat(Infinity).filter(c => c !== null && c !== undefined && c !== false));
  }

  // ---------------------------------------------------------------- routing

  function route() {
    const hash = location.hash || '#/nodes';
    const parts = hash.substring(2).split('/');
    destroyCharts();
    S.route = parts[0];
    document.querySelectorAll('header nav a').forEach(a =>
      a.classList.toggle('active', a.getAttribute('href') === '#/' + parts[0]));
    let p;
    if (parts[0] === 'bundles') p = bundlesView();
    else if (parts[0] === 'jobs' && parts[1]) p = jobView(decodeURIComponent(parts[1]));
    else if (parts[0] === 'jobs') p = jobsView();
    else { S.route = 'nodes'; p = nodesView(); }
    return p.catch(e => show(h('div', {class: 'card error', text: 'Could not load this view: ' + e.message})));
  }

  // ---------------------------------------------------------------- nodes

  async function nodesView() {
    const data = await api('GET', '/api/nodes');
    if (S.route !== 'nodes') return;
    const c = data.cluster || {};
    show(
      c.message ? h('div', {class: 'banner', id: 'cluster-message', text: c.message})
        : h('div', {class: 'banner info', id: 'cluster-message', text: 'Cluster \'' + c.name + '\': '
          + data.nodes.length + (data.nodes.length === 1 ? ' node' : ' nodes') + ', updated live as nodes join and leave.'}),
      h('div', {class: 'grid', id: 'nodes'}, data.nodes.map(nodeCard)));
  }

  function nodeCard(n) {
    const m = n.memory || {};
    const l = n.load || {};
    const heap = m.heap_max_bytes > 0 && m.heap_used_bytes >= 0 ? m.heap_used_bytes / m.heap_max_bytes : null;
    const phys = m.physical_total_bytes > 0 && m.physical_free_bytes >= 0
      ? 1 - m.physical_free_bytes / m.physical_total_bytes : null;
    const backends = Object.entries(n.backends || {});
    const rows = [
      ['Version', n.version], ['Host', n.host], ['Process', n.pid],
      ['Up', n.uptimeMillis !== undefined ? duration(n.uptimeMillis)
        : n.startedAt && !isNaN(Date.parse(n.startedAt)) ? duration(Date.now() - Date.parse(n.startedAt)) : n.startedAt],
      ['Cores', n.cores], ['Java', n.java],
      ['Heap', heap !== null ? bytes(m.heap_used_bytes) + ' of ' + bytes(m.heap_max_bytes) : bytes(m.heap_max_bytes)],
      ['Memory', phys !== null ? bytes(m.physical_total_bytes - m.physical_free_bytes) + ' used of '
        + bytes(m.physical_total_bytes) : bytes(m.physical_total_bytes)],
      ['Load', l.system_load_average !== undefined ? num(l.system_load_average, 2) + ' (CPU ' + pct(l.system_cpu)
        + ', this node ' + pct(l.process_cpu) + ')' : undefined],
      ['Bundles', n.self ? n.healthy + ' of ' + n.bundles + ' active' + (n.problems ? ', ' + n.problems
        + ' with problems' : '') : n.bundles],
      ['API', n.api],
    ].filter(r => r[1] !== undefined && r[1] !== null);
    return h('div', {class: 'card node', 'data-node': n.id || 'self'},
      h('div', {class: 'row'}, h('h2', {text: n.host || 'node'}), n.self ? h('span', {class: 'badge self', text: 'this node'}) : null),
      n.id ? h('div', {class: 'muted', text: n.id}) : null,
      h('dl', {class: 'kv'}, rows.map(([k, v]) => [h('dt', {text: k}), h('dd', {text: String(v)})])),
      heap !== null ? h('div', {class: 'bar', title: 'heap'}, h('span', {style: 'width:' + (heap * 100).toFixed(1) + '%'})) : null,
      h('h3', {text: 'Backends'}),
      backends.length ? h('ul', {class: 'backends'}, backends.map(([name, dev]) => h('li', {},
        h('b', {text: name}), ' ', h('span', {class: 'muted', text: dev})))) : h('p', {class: 'muted', text: 'none registered'}),
      n.bundleList && n.bundleList.length ? h('details', {},
        h('summary', {text: n.bundleList.length + ' bundles'}),
        h('ul', {}, n.bundleList.map(b => h('li', {}, b.symbolicName + ' ' + b.version + ' ',
          h('span', {class: 'badge ' + b.state, text: b.state}))))) : null,
      n.warning ? h('p', {class: 'error', text: n.warning}) : null);
  }

  // ---------------------------------------------------------------- bundles

  async function bundlesView() {
    const file = h('input', {type: 'file', id: 'bundle-file', accept: '.jar'});
    const target = h('select', {id: 'deploy-target'},
      h('option', {value: 'node'}, 'This node'), h('option', {value: 'cluster'}, 'Whole cluster'));
    const result = h('div', {id: 'deploy-result'});
    const deploy = h('button', {class: 'primary', id: 'deploy', type: 'button', onclick: async () => {
      if (!file.files.length) { result.replaceChildren(h('p', {class: 'error', text: 'Choose a bundle jar first.'})); return; }
      const f = file.files[0];
      const cluster = target.value === 'cluster';
      if (S.uploadMax && f.size > S.uploadMax) {
        result.replaceChildren(h('p', {class: 'error', id: 'deploy-outcome', text: 'Not deployed: ' + f.name + ' is '
          + bytes(f.size) + '; this console accepts at most ' + bytes(S.uploadMax) + ' (upload.max.bytes in its configuration).'}));
        return;
      }
      deploy.disabled = true;
      result.replaceChildren(h('p', {class: 'muted', text: 'Deploying ' + f.name + (cluster ? ' to the whole cluster...' : '...')}));
      try {
        if (cluster) {
          const r = await api('POST', '/api/repository?wait=60&file=' + encodeURIComponent(f.name), f, true);
          const bad = (r.nodes || []).filter(n => n.state !== 'ACTIVE');
          result.replaceChildren(h('p', {class: bad.length ? 'error' : 'ok', id: 'deploy-outcome',
            text: r.action + ' ' + r.symbolicName + ' ' + r.version + ' for the whole cluster: '
              + (r.nodes || []).map(n => shortId(n.node) + ' ' + n.state + (n.problem ? ' (' + n.problem + ')' : '')).join(', ')}));
        } else {
          const r = await api('POST', '/api/bundles?file=' + encodeURIComponent(f.name), f, true);
          const b = r.bundle || {};
          result.replaceChildren(h('p', {class: b.problem ? 'error' : 'ok', id: 'deploy-outcome',
            text: r.action + ' ' + (b.symbolicName || r.file) + ' ' + (b.version || '') + ': ' + (b.state || '?')
              + (b.problem ? ' (' + b.problem + ')' : '')}));
        }
        file.value = '';
      } catch (e) {
        result.replaceChildren(h('p', {class: 'error', id: 'deploy-outcome', text: 'Not deployed: ' + e.message}));
      } finally {
        deploy.disabled = false;
        loadBundles();
        loadCluster();
      }
    }}, 'Deploy');
    show(
      h('div', {class: 'card'}, h('h2', {text: 'Deploy a bundle'}),
        h('div', {class: 'row'}, file, h('label', {}, 'to ', target), deploy),
        h('p', {class: 'muted', text: 'This node: the jar is checked, then written into this node\'s deploy/ folder; it stays deployed across restarts. Whole cluster: the jar is stored in the cluster\'s bundle repository (Hazelcast) and every node, including one that joins later, installs it into its own deploy/. A jar with the symbolic name of a deployed bundle updates it.'}),
        result),
      h('div', {class: 'card'}, h('h2', {text: 'Cluster bundle repository'}), h('div', {id: 'repository'}, h('p', {class: 'muted', text: 'Loading...'}))),
      h('div', {class: 'card'}, h('h2', {text: 'Bundles'}), h('div', {id: 'bundles'}, h('p', {class: 'muted', text: 'Loading...'}))),
      h('div', {class: 'card'}, h('h2', {text: 'Bundles on every node'}), h('div', {id: 'cluster-bundles'}, h('p', {class: 'muted', text: 'Loading...'}))));
    await Promise.all([loadBundles(), loadCluster()]);
  }

  function shortId(id) {
    return id ? String(id).substring(0, 8) : '?';
  }

  async function loadCluster() {
    const [repo, all] = await Promise.all([api('GET', '/api/repository'), api('GET', '/api/cluster/bundles')]);
    if (S.route !== 'bundles') return;
    const rh = document.getElementById('repository');
    if (rh) {
      rh.replaceChildren(!repo.available ? h('p', {class: 'muted', id: 'repository-message', text: repo.message})
        : !repo.bundles.length ? h('p', {class: 'muted', id: 'repository-message', text: 'Empty: deploy a jar to the whole cluster to add one.'})
        : h('table', {id: 'repository-table'},
          h('thead', {}, h('tr', {}, ['Bundle', 'Version', 'SHA-256', 'Uploaded', 'On each node', ''].map(t => h('th', {text: t})))),
          h('tbody', {}, repo.bundles.map(b => h('tr', {'data-repository': b.symbolicName},
            h('td', {}, h('b', {text: b.symbolicName}), h('div', {class: 'muted', text: b.file + ', ' + bytes(b.size)})),
            h('td', {text: b.version}),
            h('td', {class: 'muted', title: b.sha256, text: b.sha256.substring(0, 12) + '…'}),
            h('td', {text: b.uploader + ', ' + b.uploadedAt}),
            h('td', {}, h('ul', {class: 'plain'}, (b.nodes || []).map(n => h('li', {'data-node': n.node},
              shortId(n.node) + (n.node === repo.nodeId ? ' (this node) ' : ' '),
              h('span', {class: 'badge ' + n.state, text: n.state}),
              n.problem ? h('span', {class: 'problem', text: ' ' + n.problem}) : null)))),
            h('td', {class: 'actions'}, h('button', {type: 'button', class: 'danger', 'data-action': 'remove',
              onclick: async ev => {
                if (!confirm('Remove ' + b.symbolicName + ' from the cluster? Every node uninstalls it.')) return;
                ev.target.disabled = true;
                try {
                  await api('DELETE', '/api/repository/' + encodeURIComponent(b.symbolicName) + '?wait=30');
                  flash('Removed ' + b.symbolicName + ' from the cluster', true);
                } catch (e) {
                  flash('Remove ' + b.symbolicName + ' failed: ' + e.message);
                } finally {
                  loadCluster();
                  loadBundles();
                }
              }}, 'Remove from cluster')))))));
    }
    const ch = document.getElementById('cluster-bundles');
    if (ch) {
      const nodes = all.nodes || [];
      ch.replaceChildren(h('table', {id: 'cluster-bundle-table'},
        h('thead', {}, h('tr', {}, h('th', {text: 'Bundle'}), nodes.map(n => h('th', {'data-node': n.id,
          text: (n.host || 'node') + ' ' + (n.id === 'self' ? '' : shortId(n.id)) + (n.self ? ' (this node)' : '')})))),
        h('tbody', {}, (all.bundles || []).map(b => h('tr', {'data-bundle': b.symbolicName},
          h('td', {text: b.symbolicName}),
          nodes.map(n => {
            const c = (b.nodes || {})[n.id];
            return h('td', {'data-node': n.id}, c ? [c.version + ' ', h('span', {class: 'badge ' + c.state, text: c.state})] : '–');
          }))))));
    }
  }

  async function loadBundles() {
    const data = await api('GET', '/api/bundles');
    S.uploadMax = data.upload_max_bytes;
    const host = document.getElementById('bundles');
    if (!host || S.route !== 'bundles') return;
    host.replaceChildren(h('table', {id: 'bundle-table'},
      h('thead', {}, h('tr', {}, ['Id', 'Bundle', 'Version', 'State', 'From', 'Problem', ''].map(t => h('th', {text: t})))),
      h('tbody', {}, data.bundles.map(bundleRow))));
  }

  function bundleRow(b) {
    const name = b.symbolicName || b.file;
    const act = (label, fn, cls) => h('button', {type: 'button', class: cls, 'data-action': label.toLowerCase(),
      onclick: async ev => {
        ev.target.disabled = true;
        try {
          await fn();
          flash(label + ' ' + name + ': done', true);
        } catch (e) {
          flash(label + ' ' + name + ' failed: ' + e.message);
        } finally {
          loadBundles();
        }
      }}, label);
    const actions = [];
    const mine = b.self || b.console_uses; // the console runs on it: not from here
    if (b.id > 0 && !b.self && !b.fragment && b.state !== 'ACTIVE') {
      actions.push(act('Start', () => api('POST', '/api/bundles/' + b.id + '/start')));
    }
    if (b.id > 0 && !mine) {
      if (!b.fragment && b.state === 'ACTIVE') actions.push(act('Stop', () => api('POST', '/api/bundles/' + b.id + '/stop')));
      const upd = h('input', {type: 'file', accept: '.jar', class: 'hidden', onchange: async () => {
        if (!upd.files.length) return;
        try {
          await api('POST', '/api/bundles/' + b.id + '/update', upd.files[0], true);
          flash('Updated ' + name, true);
        } catch (e) {
          flash('Update ' + name + ' failed: ' + e.message);
        } finally {
          loadBundles();
        }
      }});
      actions.push(b.source === 'deploy'
        ? h('span', {}, upd, h('button', {type: 'button', 'data-action': 'update', onclick: () => upd.click()}, 'Update…'))
        : act('Refresh', () => api('POST', '/api/bundles/' + b.id + '/update')));
    }
    if (b.source === 'deploy' && !mine) {
      actions.push(act('Uninstall', () => {
        if (!confirm('Remove ' + name + ' from deploy/?')) throw new Error('cancelled');
        return api('DELETE', '/api/bundles/' + encodeURIComponent(b.file || name));
      }, 'danger'));
    }
    return h('tr', {'data-bundle': name},
      h('td', {text: b.id >= 0 ? b.id : '–'}),
      h('td', {}, h('b', {text: name}), b.file && b.symbolicName ? h('div', {class: 'muted', text: b.file}) : null),
      h('td', {text: b.version || ''}),
      h('td', {}, h('span', {class: 'badge ' + b.state, text: b.state + (b.fragment ? ' (fragment)' : '')})),
      h('td', {text: b.source + (b.self ? ' (this console)' : b.console_uses ? ' (the console runs on it)' : '')}),
      h('td', {class: 'problem', text: b.problem || ''}),
      h('td', {class: 'actions'}, actions));
  }

  // ---------------------------------------------------------------- jobs

  const FORM_FIELDS = [
    ['model.n_layer', 'Layers', 'number'], ['model.n_head', 'Heads', 'number'], ['model.n_embd', 'Embedding', 'number'],
    ['model.block_size', 'Context (block_size)', 'number'], ['optimizer.name', 'Optimizer', ['adamw', 'sgd']],
    ['optimizer.lr', 'Learning rate', 'number'], ['data.path', 'Data (text file)', 'text'],
    ['data.tokenizer', 'Tokenizer', ['char', 'byte']], ['train.steps', 'Steps', 'number'],
    ['train.batch_size', 'Batch size', 'number'], ['train.log_every', 'Log every', 'number'],
    ['train.eval_every', 'Evaluate every (0: never)', 'number'], ['train.checkpoint_every', 'Checkpoint every', 'number'],
    ['train.lr_schedule', 'LR schedule', ['constant', 'cosine']], ['backend.name', 'Backend', 'backend'],
  ];

  function get(spec, key) {
    const [s, k] = key.split('.');
    return spec[s] ? spec[s][k] : undefined;
  }

  function set(spec, key, value) {
    const [s, k] = key.split('.');
    spec[s] = spec[s] || {};
    spec[s][k] = value;
  }

  async function jobsView() {
    const [def, backends] = await Promise.all([api('GET', '/api/spec/default'), api('GET', '/api/backends')]);
    if (S.route !== 'jobs') return;
    S.backends = backends.backends || {};
    const spec = def.spec;
    const idInput = h('input', {type: 'text', id: 'job-id', placeholder: 'time and model'});
    const inputs = {};
    const form = h('div', {class: 'form-grid', id: 'job-form'}, FORM_FIELDS.map(([key, label, type]) => {
      let input;
      const v = get(spec, key);
      if (Array.isArray(type) || type === 'backend') {
        const opts = type === 'backend' ? ['auto', ...Object.keys(S.backends)] : type;
        input = h('select', {'data-key': key}, opts.map(o => h('option', {value: o, selected: o === v}, o)));
      } else {
        input = h('input', {type: type === 'number' ? 'text' : 'text', inputmode: type === 'number' ? 'decimal' : null,
          'data-key': key, value: v === undefined ? '' : String(v)});
      }
      inputs[key] = input;
      return h('label', {}, label, input, h('div', {class: 'field-error', 'data-error-for': key}));
    }));
    const editor = h('textarea', {id: 'spec-editor', rows: 22, spellcheck: 'false'});
    editor.value = JSON.stringify(spec, null, 2);
    const editorError = h('div', {class: 'field-error', id: 'spec-error'});
    const formError = h('div', {class: 'field-error', id: 'form-error'});
    let mode = 'form';
    const formPane = h('div', {}, form, formError);
    const specPane = h('div', {class: 'hidden'}, h('p', {class: 'muted', text: 'The whole spec as JSON: sections model, optimizer, data, train, backend. A relative data path is read from the distribution\'s folder.'}), editor, editorError);
    const tabForm = h('button', {type: 'button', class: 'tab active', id: 'tab-form'}, 'Form');
    const tabSpec = h('button', {type: 'button', class: 'tab', id: 'tab-spec'}, 'Spec editor');
    function setMode(m) {
      if (m === 'spec' && mode === 'form') editor.value = JSON.stringify(specFromForm(spec, inputs), null, 2);
      mode = m;
      tabForm.classList.toggle('active', m === 'form');
      tabSpec.classList.toggle('active', m === 'spec');
      formPane.classList.toggle('hidden', m !== 'form');
      specPane.classList.toggle('hidden', m !== 'spec');
    }
    tabForm.onclick = () => setMode('form');
    tabSpec.onclick = () => setMode('spec');
    const submit = h('button', {type: 'button', class: 'primary', id: 'submit-job', onclick: async () => {
      clearErrors();
      let body;
      if (mode === 'spec') {
        try {
          body = {spec: JSON.parse(editor.value)};
        } catch (e) {
          editor.classList.add('invalid');
          editorError.textContent = 'Not valid JSON: ' + e.message;
          return;
        }
      } else {
        body = {spec: specFromForm(spec, inputs)};
      }
      if (idInput.value.trim()) body.id = idInput.value.trim();
      submit.disabled = true;
      try {
        const job = await api('POST', '/api/jobs', body);
        location.hash = '#/jobs/' + encodeURIComponent(job.id);
      } catch (e) {
        showSpecError(e, mode, inputs, editor, editorError, formError);
      } finally {
        submit.disabled = false;
      }
    }}, 'Start job');
    function clearErrors() {
      document.querySelectorAll('.invalid').forEach(e => e.classList.remove('invalid'));
      document.querySelectorAll('.field-error').forEach(e => { e.textContent = ''; });
    }
    show(
      h('div', {class: 'card'}, h('h2', {text: 'Jobs'}), h('div', {id: 'jobs'}, h('p', {class: 'muted', text: 'Loading...'}))),
      h('div', {class: 'card', id: 'cluster-jobs-card', hidden: true}, h('h2', {text: 'Cluster jobs'}),
        h('p', {class: 'muted', text: 'Jobs whose ranks run on several nodes of the cluster (one rank per node).'}),
        h('div', {id: 'cluster-jobs'})),
      h('div', {class: 'card'}, h('h2', {text: 'New training job'}),
        h('div', {class: 'tabs'}, tabForm, tabSpec),
        h('label', {}, 'Job id (optional)', idInput, h('div', {class: 'field-error', 'data-error-for': 'id'})),
        formPane, specPane, h('div', {class: 'row'}, submit)));
    await loadJobs();
  }

  function specFromForm(base, inputs) {
    const spec = JSON.parse(JSON.stringify(base));
    for (const [key, input] of Object.entries(inputs)) {
      let v = input.value.trim();
      if (input.tagName === 'INPUT' && v !== '' && !isNaN(Number(v)) && key !== 'data.path') v = Number(v);
      if (v === '') delete spec[key.split('.')[0]][key.split('.')[1]];
      else set(spec, key, v);
    }
    return spec;
  }

  /** A validation error from the node, shown at the field it names. */
  function showSpecError(e, mode, inputs, editor, editorError, formError) {
    const field = e.field;
    if (mode === 'form' && field && inputs[field]) {
      inputs[field].classList.add('invalid');
      document.querySelector('[data-error-for="' + field + '"]').textContent = e.message;
      inputs[field].focus();
      return;
    }
    if (mode === 'spec') {
      editor.classList.add('invalid');
      editorError.textContent = e.message;
      if (field) {
        const range = keyRange(editor.value, field);
        if (range) {
          editor.focus();
          editor.setSelectionRange(range[0], range[1]);
          const line = editor.value.substring(0, range[0]).split('\n').length;
          editorError.textContent = 'Line ' + line + ', ' + field + ': ' + e.message;
          editorError.dataset.line = line;
        }
      }
      return;
    }
    formError.textContent = e.message;
    if (e.message.startsWith('id:')) document.querySelector('[data-error-for="id"]').textContent = e.message;
  }

  /** Where "key" of section.key (or the section) sits in the JSON text. */
  function keyRange(text, field) {
    const [section, key] = field.split('.');
    const s = text.indexOf('"' + section + '"');
    if (s < 0) return null;
    if (!key) return [s, s + section.length + 2];
    const k = text.indexOf('"' + key + '"', s);
    return k < 0 ? [s, s + section.length + 2] : [k, k + key.length + 2];
  }

  async function loadJobs() {
    const data = await api('GET', '/api/jobs');
    const host = document.getElementById('jobs');
    if (!host || S.route !== 'jobs') return;
    renderClusterJobs(data.jobs.filter(j => j.cluster), data.cluster_error);
    data.jobs = data.jobs.filter(j => !j.cluster);
    if (!data.jobs.length) {
      host.replaceChildren(h('p', {class: 'muted', text: 'No jobs on this node yet.'}));
      return;
    }
    host.replaceChildren(h('table', {id: 'job-table'},
      h('thead', {}, h('tr', {}, ['Job', 'State', 'Step', 'Backend', 'Train loss', 'Val loss', 'Tokens/s'].map(t => h('th', {text: t})))),
      h('tbody', {}, data.jobs.slice().reverse().map(j => h('tr', {class: 'clickable', 'data-job': j.id,
        onclick: () => { location.hash = '#/jobs/' + encodeURIComponent(j.id); }},
      h('td', {}, h('a', {href: '#/jobs/' + encodeURIComponent(j.id), text: j.id})),
      h('td', {}, h('span', {class: 'badge ' + j.state, text: j.state})),
      h('td', {class: 'step', text: j.step + ' / ' + j.steps}),
      h('td', {text: j.backend}),
      h('td', {class: 'train-loss', text: num(j.train_loss, 4)}),
      h('td', {text: num(j.val_loss, 4)}),
      h('td', {class: 'tps', text: num(j.tokens_per_sec, 0)}))))));
  }

  /** The cluster's jobs (state, step, world, generation, losses), each with a stop button while it runs. */
  function renderClusterJobs(jobs, error) {
    const card = document.getElementById('cluster-jobs-card');
    const host = document.getElementById('cluster-jobs');
    if (!card || !host) return;
    card.hidden = !jobs.length && !error;
    const active = s => s === 'running' || s === 'stopping' || s === 'recovering';
    host.replaceChildren(...[
      error ? h('p', {class: 'error', text: 'The cluster could not list its jobs: ' + error}) : null,
      jobs.length ? h('table', {id: 'cluster-job-table'},
        h('thead', {}, h('tr', {}, ['Job', 'State', 'Step', 'World', 'Generation', 'Strategy', 'Train loss', 'Val loss', '']
          .map(t => h('th', {text: t})))),
        h('tbody', {}, jobs.slice().reverse().map(j => h('tr', {class: 'clickable', 'data-job': j.id,
          onclick: () => { location.hash = '#/jobs/' + encodeURIComponent(j.id); }},
        h('td', {}, h('a', {href: '#/jobs/' + encodeURIComponent(j.id), text: j.id})),
        h('td', {}, h('span', {class: 'badge ' + j.state, text: j.state})),
        h('td', {class: 'step', text: j.step + ' / ' + j.steps}),
        h('td', {class: 'world', title: (j.world || []).join(', '),
          text: (j.world || []).length + ' node' + ((j.world || []).length === 1 ? '' : 's') + ': '
            + (j.world || []).map(n => String(n).slice(0, 8)).join(', ')}),
        h('td', {class: 'generation', text: String(j.generation)}),
        h('td', {text: j.strategy || ''}),
        h('td', {class: 'train-loss', text: num(j.train_loss, 4)}),
        h('td', {text: num(j.val_loss, 4)}),
        h('td', {}, active(j.state) ? h('button', {type: 'button', class: 'danger stop-cluster-job', onclick: async ev => {
          ev.stopPropagation();
          ev.target.disabled = true;
          try {
            const r = await api('POST', '/api/jobs/' + encodeURIComponent(j.id) + '/stop?wait=60');
            flash('Cluster job ' + j.id + ' is ' + r.state + ' after step ' + r.step, true);
          } catch (e) {
            flash('Stop failed: ' + e.message);
          } finally {
            loadJobs().catch(() => {});
          }
        }}, 'Stop') : null))))) : null].filter(Boolean));
  }

  // ---------------------------------------------------------------- one job

  const CHARTS = [
    {id: 'loss', title: 'Loss', series: [{label: 'train', key: 'train_loss', stroke: '#2563eb'},
      {label: 'validation', key: 'val_loss', stroke: '#dc2626', points: true}]},
    {id: 'tps', title: 'Tokens per second', series: [{label: 'tokens/s', key: 'tokens_per_sec', stroke: '#15803d'}]},
    {id: 'lr', title: 'Learning rate', series: [{label: 'lr', key: 'lr', stroke: '#9333ea'}]},
  ];

  function destroyCharts() {
    if (S.job && S.job.charts) {
      if (S.job.charts.observer) S.job.charts.observer.disconnect();
      for (const c of chartList(S.job.charts)) if (c.plot) c.plot.destroy();
    }
    if (S.job && S.job.timer) clearInterval(S.job.timer);
    S.job = null;
  }

  /** Axis numbers: small ones (learning rates) in exponent form, large ones grouped. */
  function tick(v) {
    if (v === null || v === undefined) return '';
    const a = Math.abs(v);
    if (a !== 0 && a < 0.01) return v.toExponential(1);
    if (a >= 1000) return Math.round(v).toLocaleString('en-US');
    return String(Number(v.toPrecision(3)));
  }

  function makeCharts(points) {
    const charts = {};
    for (const def of CHARTS) {
      const el = h('div', {class: 'chart-body', id: 'chart-' + def.id, 'data-points': '0'});
      const data = [[], ...def.series.map(() => [])];
      const opts = {
        width: 400, height: 220,
        scales: {x: {time: false}},
        axes: [{label: 'step'}, {size: 64, values: (u, vals) => vals.map(tick)}],
        series: [{label: 'step'}, ...def.series.map(s => ({
          label: s.label, stroke: s.stroke, width: 1.5, spanGaps: true, points: {show: !!s.points, size: 5},
          value: (u, v) => tick(v)}))],
      };
      charts[def.id] = {def, el, data, opts, plot: null};
    }
    for (const p of points) addPoint(charts, p, false);
    return charts;
  }

  /** Draws the charts at the width of their cards, and again whenever the cards change size. */
  function mountCharts(charts) {
    for (const c of chartList(charts)) {
      c.opts.width = Math.max(260, c.el.clientWidth);
      c.plot = new uPlot(c.opts, c.data, c.el);
      c.el.dataset.points = String(c.data[0].length);
    }
    const observer = new ResizeObserver(() => {
      for (const c of chartList(charts)) {
        const w = Math.max(260, c.el.clientWidth);
        if (c.plot && Math.abs(c.plot.width - w) > 4) c.plot.setSize({width: w, height: 220});
      }
    });
    for (const c of chartList(charts)) observer.observe(c.el);
    charts.observer = observer;
  }

  function chartList(charts) {
    return Object.entries(charts).filter(([k]) => k !== 'observer').map(([, c]) => c);
  }

  function addPoint(charts, p, redraw) {
    for (const c of chartList(charts)) {
      c.data[0].push(p.step);
      c.def.series.forEach((s, i) => c.data[i + 1].push(typeof p[s.key] === 'number' ? p[s.key] : null));
      if (redraw && c.plot) {
        c.plot.setData(c.data);
        c.el.dataset.points = String(c.data[0].length);
      }
    }
  }

  async function jobView(id) {
    const st = await api('GET', '/api/jobs/' + encodeURIComponent(id));
    const backends = await api('GET', '/api/backends');
    if (S.route !== 'jobs') return;
    S.backends = backends.backends || {};
    const charts = makeCharts(st.points || []);
    S.job = {id, status: st, charts, lastStep: (st.points || []).reduce((m, p) => Math.max(m, p.step), 0)};
    const backendSelect = h('select', {id: 'move-to'}, Object.keys(S.backends).map(b => h('option', {value: b, selected: b === st.backend}, b)));
    const prompt = h('input', {type: 'text', id: 'sample-prompt', placeholder: 'a prompt (may be empty)'});
    const tokens = h('input', {type: 'text', id: 'sample-tokens', value: '200', size: 5});
    const temperature = h('input', {type: 'text', id: 'sample-temperature', value: '0.8', size: 4});
    const topK = h('input', {type: 'text', id: 'sample-top-k', value: '40', size: 4});
    const seed = h('input', {type: 'text', id: 'sample-seed', value: '1337', size: 6});
    const generate = h('button', {type: 'button', id: 'generate', onclick: async () => {
      generate.disabled = true;
      try {
        await api('POST', '/api/jobs/' + encodeURIComponent(id) + '/samples', {prompt: prompt.value,
          tokens: Number(tokens.value), temperature: Number(temperature.value), top_k: Number(topK.value),
          seed: Number(seed.value)});
        loadSamples(id);
      } catch (e) {
        flash('Generating failed: ' + e.message);
      } finally {
        generate.disabled = false;
      }
    }}, 'Generate');
    show(
      h('div', {class: 'card'},
        h('div', {class: 'row'}, h('a', {href: '#/jobs', text: '← Jobs'}), h('h2', {id: 'job-title', text: id}),
          h('span', {class: 'badge ' + st.state, id: 'job-state', text: st.state})),
        h('dl', {class: 'kv'},
          h('dt', {text: 'Step'}), h('dd', {}, h('span', {id: 'job-step', text: st.step + ' / ' + st.steps}), ' ',
            h('span', {class: 'progress'}, h('span', {id: 'job-progress', style: 'width:' + (100 * st.step / st.steps).toFixed(1) + '%'}))),
          h('dt', {text: 'Backend'}), h('dd', {}, h('b', {id: 'job-backend', text: st.backend}), ' ', h('span', {class: 'muted', id: 'job-device', text: st.device || ''})),
          st.cluster ? [h('dt', {text: 'Cluster job'}), h('dd', {id: 'job-cluster', text: (st.strategy || '') + ', generation '
            + st.generation + ', ' + (st.world || []).length + ' rank(s) on ' + (st.world || []).join(', ')})] : null,
          h('dt', {text: 'Train loss'}), h('dd', {id: 'job-loss', text: num(st.train_loss, 4)}),
          h('dt', {text: 'Validation loss'}), h('dd', {id: 'job-val-loss', text: num(st.val_loss, 4)}),
          h('dt', {text: 'Tokens/s'}), h('dd', {id: 'job-tps', text: num(st.tokens_per_sec, 0)}),
          st.cluster ? null : [h('dt', {text: 'Parameters'}), h('dd', {text: st.parameters})],
          h('dt', {text: 'Run folder'}), h('dd', {text: st.run}),
          st.error ? [h('dt', {text: 'Error'}), h('dd', {class: 'error', text: st.error})] : null,
          h('dt', {text: 'Stopped because'}), h('dd', {id: 'job-stop-reason', text: st.stop_reason || '–'})),
        h('div', {class: 'row', id: 'job-actions'},
          h('button', {type: 'button', class: 'danger', id: 'stop-job', onclick: async ev => {
            ev.target.disabled = true;
            try {
              const r = await api('POST', '/api/jobs/' + encodeURIComponent(id) + '/stop?wait=60');
              flash('Job ' + id + ' is ' + r.state + ' after step ' + r.step
                + (r.state === 'stopped' ? ', with a checkpoint of that step' : ''), true);
              refreshJob();
            } catch (e) {
              flash('Stop failed: ' + e.message);
            } finally {
              ev.target.disabled = false;
            }
          }}, 'Stop'),
          st.cluster ? null : h('span', {class: 'muted', text: 'Move to'}), st.cluster ? null : backendSelect,
          st.cluster ? null : h('button', {type: 'button', id: 'move-job', onclick: async ev => {
            ev.target.disabled = true;
            try {
              const r = await api('POST', '/api/jobs/' + encodeURIComponent(id) + '/backend', {backend: backendSelect.value});
              flash('Moved from ' + r.from + ' to ' + r.to + ' after step ' + r.after_step + ' (paused '
                + Math.round(r.pause_s * 1000) + ' ms)', true);
              refreshJob();
            } catch (e) {
              flash('Move failed: ' + e.message);
            } finally {
              ev.target.disabled = false;
            }
          }}, 'Move'))),
      h('div', {class: 'charts'}, CHARTS.map(def => h('div', {class: 'card chart'}, h('h3', {text: def.title}), charts[def.id].el))),
      h('div', {class: 'card'}, h('h2', {text: 'Backend moves'}), h('div', {id: 'moves'})),
      h('div', {class: 'card'}, h('h2', {text: 'Checkpoints'}), h('div', {id: 'checkpoints'}, h('p', {class: 'muted', text: 'Loading...'}))),
      h('div', {class: 'card'}, h('h2', {text: 'Samples'}),
        h('div', {class: 'row'}, prompt, h('span', {class: 'muted', text: 'tokens'}), tokens,
          h('span', {class: 'muted', text: 'temperature'}), temperature, h('span', {class: 'muted', text: 'top-k'}), topK,
          h('span', {class: 'muted', text: 'seed'}), seed, generate),
        h('p', {class: 'muted', text: 'Generated from the newest checkpoint of this job.'}),
        h('div', {id: 'samples'})));
    mountCharts(charts);
    updateJobHeader({state: st.state});
    renderMoves(st.moves || []);
    loadCheckpoints(id);
    loadSamples(id);
    S.job.timer = setInterval(() => { if (S.job && S.job.status.state === 'running') loadCheckpoints(id); }, 10000);
  }

  function renderMoves(moves) {
    const host = document.getElementById('moves');
    if (!host) return;
    host.replaceChildren(moves.length ? h('ul', {}, moves.map(m => h('li', {text: 'after step ' + m.after_step + ': '
      + m.from + ' → ' + m.to + ' (paused ' + Math.round(m.pause_s * 1000) + ' ms)'})))
      : h('p', {class: 'muted', text: 'It has stayed on one backend.'}));
  }

  async function refreshJob() {
    if (!S.job) return;
    const id = S.job.id;
    const st = await api('GET', '/api/jobs/' + encodeURIComponent(id));
    if (!S.job || S.job.id !== id) return;
    // points that arrived while the page was not listening (a reconnect) are filled in
    for (const p of st.points || []) {
      if (p.step > S.job.lastStep) {
        addPoint(S.job.charts, p, true);
        S.job.lastStep = p.step;
      }
    }
    updateJobHeader(st);
    renderMoves(st.moves || []);
    loadCheckpoints(id);
  }

  function updateJobHeader(st) {
    S.job.status = Object.assign(S.job.status, st);
    const set = (id, text) => { const e = document.getElementById(id); if (e) e.textContent = text; };
    const state = document.getElementById('job-state');
    if (state && st.state) {
      state.textContent = st.state;
      state.className = 'badge ' + st.state;
      const active = st.state === 'running' || st.state === 'stopping';
      document.querySelectorAll('#job-actions button, #job-actions select').forEach(b => { b.disabled = !active; });
    }
    if (st.step !== undefined) {
      set('job-step', st.step + ' / ' + S.job.status.steps);
      const p = document.getElementById('job-progress');
      if (p) p.style.width = (100 * st.step / S.job.status.steps).toFixed(1) + '%';
    }
    if (st.backend) set('job-backend', st.backend);
    if (st.device) set('job-device', st.device);
    if (typeof st.train_loss === 'number') set('job-loss', num(st.train_loss, 4));
    if (typeof st.val_loss === 'number') set('job-val-loss', num(st.val_loss, 4));
    if (typeof st.tokens_per_sec === 'number') set('job-tps', num(st.tokens_per_sec, 0));
    if (st.stop_reason) set('job-stop-reason', st.stop_reason);
  }

  async function loadCheckpoints(id) {
    const data = await api('GET', '/api/jobs/' + encodeURIComponent(id) + '/checkpoints');
    const host = document.getElementById('checkpoints');
    if (!host || !S.job || S.job.id !== id) return;
    host.replaceChildren(data.checkpoints.length ? h('table', {id: 'checkpoint-table'},
      h('thead', {}, h('tr', {}, ['Step', 'Size', 'Saved', 'Folder'].map(t => h('th', {text: t})))),
      h('tbody', {}, data.checkpoints.map(c => h('tr', {},
        h('td', {text: c.step}), h('td', {text: bytes(c.bytes)}), h('td', {text: new Date(c.saved_at).toLocaleString()}),
        h('td', {class: 'muted', text: c.path})))))
      : h('p', {class: 'muted', text: 'No checkpoint yet.'}));
  }

  async function loadSamples(id) {
    const data = await api('GET', '/api/jobs/' + encodeURIComponent(id) + '/samples');
    const host = document.getElementById('samples');
    if (!host || !S.job || S.job.id !== id) return;
    host.replaceChildren(...data.samples.slice().reverse().map(s => h('div', {class: 'sample-item'},
      h('div', {class: 'muted', text: 'checkpoint step ' + s.checkpoint + ', ' + s.tokens + ' tokens, temperature '
        + s.temperature + ', top-k ' + s.top_k + ', seed ' + s.seed}),
      h('pre', {class: 'sample', text: s.prompt + s.text}))));
  }

  // ---------------------------------------------------------------- live events

  function onJobEvent(ev) {
    S.stats.events++;
    if (S.route === 'jobs' && !S.job) {
      later('jobs', ev.event === 'step' ? 500 : 0, () => loadJobs().catch(() => {}));
      return;
    }
    if (!S.job || S.job.id !== ev.job) return;
    if (ev.event === 'step') {
      if (ev.step > S.job.lastStep) {
        addPoint(S.job.charts, ev, true);
        S.job.lastStep = ev.step;
        // from the node's receipt of the step to the point drawn in the chart
        S.stats.latencies.push(Date.now() - ev.t_ms);
      }
      updateJobHeader({step: ev.step, train_loss: ev.train_loss, val_loss: ev.val_loss,
        tokens_per_sec: ev.tokens_per_sec, backend: ev.backend});
    } else if (ev.event === 'move') {
      refreshJob().catch(() => {});
    } else if (ev.event === 'end' || ev.event === 'start' || ev.event === 'state') {
      refreshJob().catch(() => {});
    }
  }

  function connectEvents() {
    const live = document.getElementById('live');
    const es = new EventSource('/api/events');
    let opened = false;
    es.addEventListener('open', () => {
      live.textContent = 'live';
      live.className = 'live on';
      if (opened) route(); // reconnected: reload what is shown, so nothing is missed
      opened = true;
    });
    es.addEventListener('error', () => {
      live.textContent = 'reconnecting';
      live.className = 'live off';
      // the browser retries by itself; a session that ended sends the page to sign-in instead
      later('session-check', 3000, async () => {
        try {
          const s = await (await fetch('/api/session', {credentials: 'same-origin'})).json();
          if (!s.authenticated) location.replace('/public/login.html');
        } catch (e) {
          // the node is away; the event stream keeps trying
        }
      });
    });
    es.addEventListener('job', e => onJobEvent(JSON.parse(e.data)));
    es.addEventListener('bundle', () => {
      if (S.route === 'bundles') later('bundles', 300, () => loadBundles().catch(() => {}));
    });
    es.addEventListener('nodes', e => {
      S.stats.nodeEvents++;
      let t = null;
      try { t = JSON.parse(e.data).t_ms || null; } catch (x) { /* no time stamp */ }
      // from the cluster event on the node (a Hazelcast listener) to the nodes view redrawn with it
      if (S.route === 'nodes' && t && !S.nodesSince) S.nodesSince = t;
      if (S.route === 'nodes') later('nodes', 100, () => nodesView().then(() => {
        if (S.nodesSince) S.stats.nodeLatencies.push(Date.now() - S.nodesSince);
        S.nodesSince = null;
      }).catch(() => {}));
      if (S.route === 'bundles') later('cluster', 300, () => loadCluster().catch(() => {}));
    });
    es.addEventListener('repository', () => {
      S.stats.repositoryEvents++;
      if (S.route === 'bundles') later('cluster', 200, () => loadCluster().catch(() => {}));
    });
  }

  // ---------------------------------------------------------------- start

  async function main() {
    const s = await (await fetch('/api/session', {credentials: 'same-origin'})).json();
    if (!s.authenticated) {
      location.replace('/public/login.html');
      return;
    }
    S.csrf = s.csrf;
    S.user = s.user;
    document.getElementById('whoami').textContent = s.user;
    document.getElementById('logout').addEventListener('click', async () => {
      try { await api('POST', '/api/logout'); } finally { location.replace('/public/login.html'); }
    });
    window.addEventListener('hashchange', route);
    connectEvents();
    await route();
    performance.mark('cs-ready');
    S.stats.readyMs = performance.now();
    document.body.dataset.ready = 'true';
    setInterval(() => { if (S.route === 'nodes' && S.autoRefresh) nodesView().catch(() => {}); }, 5000);
  }

  main().catch(e => show(h('div', {class: 'card error', text: 'The console could not start: ' + e.message})));
})();
