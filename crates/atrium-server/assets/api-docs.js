// The API docs page: renders /api/v1/openapi.json. Served as a file so the page's CSP needs no inline script.
(async () => {
  const main = document.getElementById('main');
  const esc = s => String(s ?? '').replace(/[&<>"]/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
  let spec;
  try { spec = await (await fetch('/api/v1/openapi.json')).json(); }
  catch (e) { main.textContent = 'Could not load the OpenAPI document: ' + e; return; }
  document.getElementById('desc').textContent = (spec.info.description || '') + ' Version ' + spec.info.version + '.';
  const schemas = (spec.components && spec.components.schemas) || {};
  const ref = r => r && r.$ref ? r.$ref.split('/').pop() : null;
  const show = s => {
    if (!s) return '';
    const name = ref(s) || (s.items && ref(s.items) && ref(s.items) + '[]');
    const target = schemas[ref(s) || ''] || s;
    return (name ? '<p><code>' + esc(name) + '</code></p>' : '') + '<pre>' + esc(JSON.stringify(target, null, 2)) + '</pre>';
  };
  const byTag = {};
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = (op.tags && op.tags[0]) || 'other';
      (byTag[tag] = byTag[tag] || []).push({ path, method, op });
    }
  }
  let html = '';
  for (const t of (spec.tags || []).map(t => t.name).concat(Object.keys(byTag)).filter((v, i, a) => a.indexOf(v) === i && byTag[v])) {
    html += '<section class="tag"><h2>' + esc(t) + '</h2>';
    for (const { path, method, op } of byTag[t]) {
      html += '<details><summary><span class="m ' + method + '">' + method.toUpperCase() + '</span> <code>' + esc(path) + '</code> — ' + esc(op.summary || op.description || '') + '</summary><div class="body">';
      if (op.parameters && op.parameters.length) {
        html += '<h4>Parameters</h4><table>' + op.parameters.map(p => '<tr><td><code>' + esc(p.name) + '</code></td><td>' + esc(p.in) + (p.required ? ', required' : '') + '</td><td>' + esc(p.description || '') + '</td></tr>').join('') + '</table>';
      }
      const body = op.requestBody && op.requestBody.content && op.requestBody.content['application/json'];
      if (body) html += '<h4>Request body</h4>' + show(body.schema);
      html += '<h4>Responses</h4>';
      for (const [code, r] of Object.entries(op.responses || {})) {
        const c = r.content && r.content['application/json'];
        html += '<p><strong>' + esc(code) + '</strong> ' + esc(r.description || '') + '</p>' + (c ? show(c.schema) : '');
      }
      html += '</div></details>';
    }
    html += '</section>';
  }
  main.innerHTML = html;
})();
