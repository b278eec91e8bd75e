/* The console's reported-list panel: staff add, look up and withdraw a number, address or account,
 * import a CSV list and export the fingerprints, all with the staff token of the form above. */
(function () {
  'use strict';

  const TIMEOUT_MS = 30000;
  const $ = (id) => document.getElementById(id);
  const els = {
    form: $('reported-form'),
    kind: $('reported-kind'),
    value: $('reported-value'),
    lookup: $('reported-lookup'),
    withdraw: $('reported-withdraw'),
    file: $('reported-file'),
    exportButton: $('reported-export'),
    status: $('reported-status'),
    errors: $('reported-errors'),
    token: $('token'),
  };
  let strings = {};

  // The page's language as the console's language switch last set it.
  function t(key, vars) {
    const lang = document.documentElement.lang === 'en' ? 'en' : 'zh';
    return window.PageKit.translate(strings, lang, key, vars);
  }

  function say(text) {
    els.status.textContent = text;
    els.errors.replaceChildren();
  }

  function headers(extra) {
    const token = els.token.value.trim();
    const all = Object.assign({ Accept: 'application/json' }, extra || {});
    if (token) all.Authorization = 'Bearer ' + token;
    return all;
  }

  async function call(path, options) {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), TIMEOUT_MS);
    try {
      const res = await fetch(path, Object.assign({ signal: ctrl.signal }, options));
      const isJson = (res.headers.get('content-type') || '').indexOf('application/json') === 0;
      const data = isJson ? await res.json().catch(() => null) : null;
      return { res, data };
    } finally {
      clearTimeout(timer);
    }
  }

  function failure(res, data) {
    if (res.status === 401) return t(els.token.value.trim() ? 'errorUnauthorized' : 'errorNoToken');
    return t('errorServer', { status: res.status, message: (data && (data.message || data.error)) || '' });
  }

  async function onIdentifier(path, render) {
    const value = els.value.value.trim();
    if (!value) {
      say(t('reportedEmpty'));
      els.value.focus();
      return;
    }
    say(t('reportedBusy'));
    try {
      const { res, data } = await call(path, {
        method: 'POST',
        headers: headers({ 'Content-Type': 'application/json' }),
        body: JSON.stringify({ kind: els.kind.value, value }),
      });
      say(res.ok && data ? render(data) : failure(res, data));
    } catch (e) {
      say(t('errorNetwork'));
    }
  }

  function countText(key, data) {
    return data.reported ? t(key, { reports: data.reports, last: data.last_reported_on }) : t('reportedNotFound');
  }

  async function importFile() {
    const file = els.file.files && els.file.files[0];
    if (!file) return;
    say(t('reportedBusy'));
    try {
      const { res, data } = await call('reported.csv', {
        method: 'POST', headers: headers({ 'Content-Type': 'text/csv' }), body: await file.arrayBuffer(),
      });
      if (res.ok && data) {
        say(t('reportedImported', { rows: data.rows, added: data.added, already: data.already_there }));
      } else if (res.status === 422 && data && Array.isArray(data.rows)) {
        say(t('reportedImportFailed'));
        data.rows.forEach((row) => {
          els.errors.append(Object.assign(document.createElement('li'), {
            textContent: t('reportedLine', { line: row.line, message: row.message }),
          }));
        });
      } else {
        say(failure(res, data));
      }
    } catch (e) {
      say(t('errorNetwork'));
    } finally {
      els.file.value = '';
    }
  }

  async function exportFile() {
    say(t('reportedBusy'));
    try {
      const res = await fetch('reported.csv', { headers: headers() });
      if (!res.ok) {
        say(failure(res, await res.json().catch(() => null)));
        return;
      }
      const url = URL.createObjectURL(await res.blob());
      const link = Object.assign(document.createElement('a'), { href: url, download: 'reported_identifiers.csv' });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      say(t('reportedExported'));
    } catch (e) {
      say(t('errorNetwork'));
    }
  }

  els.form.addEventListener('submit', (e) => {
    e.preventDefault();
    onIdentifier('reported', (data) => countText('reportedAdded', data));
  });
  els.lookup.addEventListener('click', () => onIdentifier('reported/lookup', (data) => countText('reportedFound', data)));
  els.withdraw.addEventListener('click', () => onIdentifier('reported/withdraw',
    (data) => t('reportedWithdrawn', { count: data.withdrawn })));
  els.file.addEventListener('change', importFile);
  els.exportButton.addEventListener('click', exportFile);
  window.PageKit.loadStrings('static/strings.json').then((loaded) => { strings = loaded; });
})();
