// Hand-written and served by Cubby itself: the docs load nothing from the internet.
(async () => {
  const root = document.getElementById('ops');
  const doc = await (await fetch('/api/v1/openapi.json')).json();
  const resolve = (s) => s && s.$ref ? doc.components.schemas[s.$ref.split('/').pop()] : s;
  const text = (tag, cls, value) => { const e = document.createElement(tag); if (cls) e.className = cls; e.textContent = value; return e; };
  root.textContent = '';
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const box = document.createElement('details'); box.className = 'op';
      const head = document.createElement('summary');
      head.append(text('span', 'm ' + method, method.toUpperCase()), path + '  ', text('span', '', op.summary || ''));
      box.append(head);
      const body = document.createElement('div'); body.className = 'body';
      if (op.description) body.append(text('p', '', op.description));
      const req = op.requestBody && op.requestBody.content['application/json'];
      if (req) { body.append(text('strong', '', 'Request body')); box.append(body); box.append(text('pre', '', JSON.stringify(resolve(req.schema), null, 2))); }
      else box.append(body);
      for (const [code, res] of Object.entries(op.responses || {})) {
        box.append(text('div', 'body', code + ' — ' + (res.description || '')));
        const c = res.content && res.content['application/json'];
        if (c) box.append(text('pre', '', JSON.stringify(resolve(c.schema), null, 2)));
      }
      root.append(box);
    }
  }
})().catch((e) => { document.getElementById('ops').textContent = 'Could not load the API document: ' + e; });
