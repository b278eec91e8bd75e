/* Case statistics for hotline staff: fetches "../stats" (same origin, staff token) and draws
 * the counts as inline SVG bar charts; "../stats.csv" is downloaded the same way. */
(function () {
  'use strict';

  // Shared with the console (app.js), so a token entered there is already here.
  const KEY_TOKEN = 'fz.console.token';
  const KEY_UI_LANG = 'fz.console.uiLang';
  const TIMEOUT_MS = 30000;
  const RISKS = ['critical', 'high', 'medium', 'low', 'unknown'];
  const SVG = 'http://www.w3.org/2000/svg';
  const DAY_MS = 86400000;

  const $ = (id) => document.getElementById(id);
  const els = {
    form: $('stats-form'),
    token: $('token'),
    from: $('from'),
    to: $('to'),
    load: $('load-button'),
    csv: $('csv-button'),
    error: $('stats-error'),
    status: $('stats-status'),
    result: $('stats-result'),
    total: $('stats-total'),
    reportedSummary: $('reported-summary'),
    matches: $('chart-matches'),
    day: $('chart-day'),
    type: $('chart-type'),
    risk: $('chart-risk'),
    feedback: $('feedback-section'),
    feedbackTotal: $('feedback-total'),
    feedbackSources: $('feedback-sources'),
    feedbackCorrections: $('feedback-corrections'),
    feedbackCsv: $('feedback-csv-button'),
    langToggle: $('lang-toggle'),
  };

  let strings = {};
  let uiLang = 'zh';
  let busy = false;
  let lastStats = null;
  let lastError = null;

  const { storageGet, storageSet } = window.PageKit;

  function t(key, vars) { return window.PageKit.translate(strings, uiLang, key, vars); }

  function applyStrings() {
    window.PageKit.applyPageStrings(t, uiLang, els.langToggle, null);
    if (busy) els.load.textContent = t('loading');
    if (lastStats) render(lastStats);
    if (lastError) showError(lastError);
  }

  async function loadStrings() { strings = await window.PageKit.loadStrings('static/stats-strings.json'); }

  /* ---------- dates ---------- */

  function isoDay(date) { return date.toISOString().slice(0, 10); }

  function daysBetween(from, to) {
    const days = [];
    const end = Date.parse(to);
    for (let d = Date.parse(from); d <= end && days.length < 3660; d += DAY_MS) days.push(isoDay(new Date(d)));
    return days;
  }

  /* ---------- charts (SVG built with createElementNS and textContent only) ---------- */

  function svgEl(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach((k) => node.setAttribute(k, String(attrs[k])));
    if (text != null) node.textContent = text;
    return node;
  }

  function chartFrame(container, width, height, title, entries) {
    const svg = svgEl('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img' });
    svg.setAttribute('aria-label', t('chartLabel', {
      title, items: entries.map((e) => `${e.label} ${e.count}`).join(', '),
    }));
    container.replaceChildren(svg);
    return svg;
  }

  function emptyChart(container) {
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = t('noData');
    container.replaceChildren(p);
  }

  /* One horizontal bar per category, label on the left, count on the right. */
  function horizontalBars(container, title, entries) {
    if (!entries.length) return emptyChart(container);
    const width = 520;
    const row = 26;
    const labelWidth = 210;
    const countWidth = 44;
    const height = entries.length * row + 4;
    const max = Math.max(...entries.map((e) => e.count), 1);
    const svg = chartFrame(container, width, height, title, entries);
    entries.forEach((e, i) => {
      const y = i * row + 2;
      const barWidth = Math.max(2, ((width - labelWidth - countWidth) * e.count) / max);
      svg.append(svgEl('text', { x: labelWidth - 8, y: y + row / 2 + 4, 'text-anchor': 'end' }, e.label));
      const bar = svgEl('rect', {
        x: labelWidth, y: y + 3, width: barWidth, height: row - 8, class: 'bar ' + (e.className || ''),
      });
      bar.append(svgEl('title', {}, `${e.label}: ${e.count}`));
      svg.append(bar);
      svg.append(svgEl('text', { x: labelWidth + barWidth + 6, y: y + row / 2 + 4 }, String(e.count)));
    });
  }

  /* One vertical bar per day of the period, days without cases included. */
  function dayBars(container, title, byDay, from, to) {
    const days = daysBetween(from, to);
    const entries = days.map((d) => ({ label: d, count: Number(byDay[d]) || 0 }));
    if (!entries.some((e) => e.count)) return emptyChart(container);
    const width = 960;
    const height = 220;
    const left = 36;
    const bottom = 28;
    const top = 12;
    const plot = height - bottom - top;
    const max = Math.max(...entries.map((e) => e.count), 1);
    const step = (width - left) / entries.length;
    const labelEvery = Math.ceil(entries.length / 10);
    const svg = chartFrame(container, width, height, title, entries.filter((e) => e.count));
    svg.append(svgEl('line', { x1: left, y1: top + plot, x2: width, y2: top + plot, class: 'axis' }));
    svg.append(svgEl('text', { x: left - 6, y: top + 4, 'text-anchor': 'end' }, String(max)));
    svg.append(svgEl('text', { x: left - 6, y: top + plot, 'text-anchor': 'end' }, '0'));
    entries.forEach((e, i) => {
      const x = left + i * step;
      const barHeight = (plot * e.count) / max;
      if (e.count) {
        const bar = svgEl('rect', {
          x: x + step * 0.15, y: top + plot - barHeight, width: Math.max(1, step * 0.7), height: barHeight, class: 'bar',
        });
        bar.append(svgEl('title', {}, `${e.label}: ${e.count}`));
        svg.append(bar);
      }
      if (i % labelEvery === 0) {
        svg.append(svgEl('text', { x: x + step / 2, y: height - 8, 'text-anchor': 'middle' }, e.label.slice(5)));
      }
    });
  }

  function scamLabel(id, names) {
    if (id === 'unknown') return t('scam_unknown');
    const name = names && names[id];
    if (name) return String(name[uiLang] || name.zh || id);
    return has('scam_' + id) ? t('scam_' + id) : id;
  }

  // Whether the strings name this key (a type this page does not know is shown by its id).
  function has(key) { return key in (strings[uiLang] || {}) || key in (strings.zh || {}); }

  /* Verdicts staff or people marked wrong: how many, from whom, and which type was called which. */
  function renderFeedback(feedback, names) {
    els.feedback.hidden = !feedback || typeof feedback !== 'object';
    if (els.feedback.hidden) return;
    const total = Number(feedback.total) || 0;
    const bySource = feedback.by_source || {};
    els.feedbackTotal.textContent = t('feedbackTotal', { total });
    els.feedbackSources.textContent = t('feedbackBySource', {
      person: Number(bySource.person) || 0, staff: Number(bySource.staff) || 0,
    });
    const list = els.feedbackCorrections;
    list.replaceChildren();
    const pairs = Object.entries(feedback.by_correction || {}).sort((a, b) => b[1] - a[1]);
    if (!pairs.length) {
      const li = document.createElement('li');
      li.className = 'empty';
      li.textContent = t('noFeedback');
      list.append(li);
      return;
    }
    pairs.forEach(([pair, count]) => {
      const [judged, right] = pair.split('->');
      const li = document.createElement('li');
      li.className = 'feedback-correction';
      li.dataset.correction = pair;
      const from = document.createElement('span');
      from.className = 'correction-judged';
      from.textContent = correctionLabel(judged, names);
      const to = document.createElement('span');
      to.className = 'correction-right';
      to.textContent = right === 'unknown' ? t('correction_unknown') : correctionLabel(right, names);
      // Seen as an arrow, read out as words.
      const arrow = document.createElement('span');
      arrow.className = 'correction-arrow';
      arrow.setAttribute('aria-hidden', 'true');
      arrow.textContent = ' → ';
      const spoken = document.createElement('span');
      spoken.className = 'visually-hidden';
      spoken.textContent = ' ' + t('correctionArrow') + ' ';
      const n = document.createElement('strong');
      n.className = 'correction-count';
      n.textContent = t('feedbackCount', { count: Number(count) });
      li.append(from, arrow, spoken, to, n);
      list.append(li);
    });
  }

  function correctionLabel(id, names) {
    if (id === 'none') return t('scam_none');
    return scamLabel(id || 'unknown', names);
  }

  function render(data) {
    els.total.textContent = t('total', { from: data.from, to: data.to, total: data.total });
    dayBars(els.day, t('byDay'), data.by_day || {}, data.from, data.to);
    const types = Object.entries(data.by_scam_type || {})
      .sort((a, b) => b[1] - a[1])
      .map(([id, count]) => ({ label: scamLabel(id, data.scam_names), count: Number(count) }));
    horizontalBars(els.type, t('byScamType'), types);
    const risks = RISKS.filter((r) => (data.by_risk_level || {})[r])
      .map((r) => ({ label: t('risk_' + r), count: Number(data.by_risk_level[r]), className: 'bar-' + r }));
    horizontalBars(els.risk, t('byRiskLevel'), risks);
    const reported = data.reported || {};
    const listed = Object.values(reported.reported_by_kind || {}).reduce((a, b) => a + Number(b), 0);
    els.reportedSummary.textContent = t('reportedSummary', { listed, matches: Number(reported.matches || 0) });
    const matches = Object.entries(reported.matches_by_kind || {})
      .sort((a, b) => b[1] - a[1])
      .map(([kind, count]) => ({ label: t('kind_' + kind), count: Number(count) }));
    horizontalBars(els.matches, t('matchesByKind'), matches);
    renderFeedback(data.feedback, data.scam_names);
    els.result.hidden = false;
  }

  /* ---------- errors ---------- */

  function showError(err) {
    lastError = err;
    let msg;
    if (err.kind === 'unauthorized') msg = err.noToken ? t('errorNoToken') : t('errorUnauthorized');
    else if (err.kind === 'server') msg = t('errorServer', { status: err.status, message: err.message || err.code || '' });
    else if (err.kind === 'timeout') msg = t('errorTimeout');
    else if (err.kind === 'bad-response') msg = t('errorBadResponse');
    else msg = t('errorNetwork');
    els.error.textContent = msg;
    els.error.hidden = false;
  }

  function clearError() {
    lastError = null;
    els.error.hidden = true;
    els.error.textContent = '';
  }

  /* ---------- requests ---------- */

  function query() {
    const params = new URLSearchParams();
    if (els.from.value) params.set('from', els.from.value);
    if (els.to.value) params.set('to', els.to.value);
    return params.toString() ? '?' + params : '';
  }

  /* GET ../<path> with the staff token; resolves to the Response, throws {kind, …} otherwise. */
  async function get(path) {
    const token = els.token.value.trim();
    if (!token) throw { kind: 'unauthorized', noToken: true };
    const ctrl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; ctrl.abort(); }, TIMEOUT_MS);
    try {
      let res;
      try {
        res = await fetch('../' + path + query(), { headers: { Authorization: 'Bearer ' + token }, signal: ctrl.signal });
      } catch (e) {
        throw { kind: timedOut ? 'timeout' : 'network' };
      }
      if (res.status === 401) throw { kind: 'unauthorized', noToken: false };
      if (!res.ok) {
        let data = null;
        try { data = await res.json(); } catch (e) { /* not JSON */ }
        throw { kind: 'server', status: res.status, code: data && data.error, message: data && data.message };
      }
      return res;
    } finally {
      clearTimeout(timer);
    }
  }

  function failed(err) {
    const e = err && err.kind ? err : { kind: 'network' };
    showError(e);
    if (e.kind === 'unauthorized') els.token.focus();
  }

  async function loadStats() {
    if (busy) return;
    busy = true;
    els.load.disabled = true;
    els.load.textContent = t('loading');
    clearError();
    try {
      const res = await get('stats');
      let data;
      try { data = await res.json(); } catch (e) { throw { kind: 'bad-response' }; }
      if (!data || typeof data !== 'object' || !data.from || !data.to) throw { kind: 'bad-response' };
      lastStats = data;
      els.from.value = data.from;
      els.to.value = data.to;
      render(data);
      els.status.textContent = t('doneStatus', { total: data.total });
    } catch (err) {
      lastStats = null;
      els.result.hidden = true;
      failed(err);
    } finally {
      busy = false;
      els.load.disabled = false;
      els.load.textContent = t('load');
    }
  }

  // GET ../<path> (with the dates chosen) and save it under the name the server gives it.
  async function exportCsv(path, fallbackName) {
    clearError();
    try {
      const res = await get(path);
      const disposition = res.headers.get('Content-Disposition') || '';
      const match = /filename="([^"]+)"/.exec(disposition);
      const url = URL.createObjectURL(await res.blob());
      const link = document.createElement('a');
      link.href = url;
      link.download = match ? match[1] : fallbackName;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (err) {
      failed(err);
    }
  }

  /* ---------- start-up ---------- */

  function init() {
    uiLang = storageGet('localStorage', KEY_UI_LANG) === 'en' ? 'en' : 'zh';
    const token = storageGet('sessionStorage', KEY_TOKEN);
    if (token) els.token.value = token;

    els.token.addEventListener('input', () => storageSet('sessionStorage', KEY_TOKEN, els.token.value));
    els.form.addEventListener('submit', (e) => {
      e.preventDefault();
      loadStats();
    });
    els.csv.addEventListener('click', () => exportCsv('stats.csv', 'cases.csv'));
    els.feedbackCsv.addEventListener('click', () => exportCsv('feedback.csv', 'feedback.csv'));
    els.langToggle.addEventListener('click', () => {
      uiLang = uiLang === 'zh' ? 'en' : 'zh';
      storageSet('localStorage', KEY_UI_LANG, uiLang);
      applyStrings();
    });

    loadStrings().then(() => {
      applyStrings();
      if (els.token.value) loadStats();
      else els.token.focus();
    });
  }

  init();
})();
