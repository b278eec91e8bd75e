/* Hotline script-aid console: sends the caller's words to "analyze" (same origin)
 * and shows the classification, red flags and the script to read out. */
(function () {
  'use strict';

  const KEY_TOKEN = 'fz.console.token'; // sessionStorage only
  const KEY_UI_LANG = 'fz.console.uiLang';
  const TIMEOUT_MS = 30000;
  const RISKS = ['critical', 'high', 'medium', 'low'];

  const $ = (id) => document.getElementById(id);
  const els = {
    form: $('analyze-form'),
    token: $('token'),
    langSelect: $('lang-select'),
    text: $('caller-text'),
    analyze: $('analyze-button'),
    clear: $('clear-button'),
    error: $('console-error'),
    status: $('console-status'),
    result: $('result'),
    scamType: $('scam-type'),
    confBar: $('confidence-bar'),
    confValue: $('confidence-value'),
    alternatives: $('alternatives'),
    risk: $('risk-level'),
    riskTitle: $('risk-title'),
    detectedLang: $('detected-lang'),
    highlighted: $('highlighted-text'),
    redFlags: $('red-flags'),
    mentioned: $('mentioned'),
    identifiers: $('identifiers'),
    reportedMatches: $('reported-matches'),
    nextQuestions: $('next-questions'),
    script: $('script'),
    copy: $('copy-script'),
    copyStatus: $('copy-status'),
    doNow: $('do-now'),
    reportSteps: $('report-steps'),
    langToggle: $('lang-toggle'),
    imageInput: $('image-input'),
  };

  let strings = {};
  let uiLang = 'zh';
  let busy = false;
  // Kept so a UI-language switch can re-render them in the new language.
  let lastResult = null;
  let lastError = null;

  const { storageGet, storageSet } = window.PageKit;

  function t(key, vars) { return window.PageKit.translate(strings, uiLang, key, vars); }

  function applyStrings() {
    window.PageKit.applyPageStrings(t, uiLang, els.langToggle, busy ? els.analyze : null);
    if (busy) els.analyze.textContent = t('analyzing');
    if (lastResult) renderResult(lastResult.data, lastResult.text);
    if (lastError) showError(lastError);
  }

  async function loadStrings() { strings = await window.PageKit.loadStrings('static/strings.json'); }

  // Tells the other panels (handoff.js: "verdict wrong") which text was analysed and what was found; null: none now.
  function announceResult(result) {
    document.dispatchEvent(new CustomEvent('console:result', { detail: result }));
  }

  /* ---------- rendering helpers (textContent only) ---------- */

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function fillList(list, items) {
    const clean = Array.isArray(items) ? items.filter((x) => x != null && String(x).trim() !== '') : [];
    list.replaceChildren();
    if (!clean.length) {
      list.append(el('li', 'empty', t('none')));
      return;
    }
    clean.forEach((item) => list.append(el('li', null, String(item))));
  }

  function percent(x) {
    const n = Number(x);
    if (!isFinite(n)) return null;
    return Math.max(0, Math.min(100, n * 100));
  }

  function percentText(x) {
    const p = percent(x);
    if (p === null) return '—';
    if (p > 0 && p < 1) return '<1%';
    return Math.round(p) + '%';
  }

  /* Python indexes code points, JS strings index UTF-16 units: they differ only
   * after an astral character (emoji, rare CJK), so map code point -> UTF-16. */
  function codePointToUtf16Map(text) {
    const map = [];
    let u = 0;
    for (const ch of text) {
      map.push(u);
      u += ch.length;
    }
    map.push(u);
    return map;
  }

  function locateFlag(text, map, flag) {
    const phrase = typeof flag.phrase === 'string' ? flag.phrase : '';
    const s = flag.start;
    const e = flag.end;
    if (Number.isInteger(s) && Number.isInteger(e) && s >= 0 && e > s && e < map.length) {
      const a = map[s];
      const b = map[e];
      if (!phrase || text.slice(a, b) === phrase) return [a, b];
    }
    // Offsets that don't match the phrase (e.g. the server normalised the text):
    // fall back to raw UTF-16 offsets, then to the first occurrence of the phrase.
    if (phrase) {
      if (Number.isInteger(s) && text.slice(s, s + phrase.length) === phrase) return [s, s + phrase.length];
      const k = text.indexOf(phrase);
      if (k >= 0) return [k, k + phrase.length];
    }
    return null;
  }

  function renderHighlighted(text, flags) {
    const map = codePointToUtf16Map(text);
    const spans = [];
    flags.forEach((flag, i) => {
      const range = locateFlag(text, map, flag);
      if (range) spans.push({ start: range[0], end: range[1], flag, n: i + 1 });
    });
    spans.sort((a, b) => a.start - b.start || b.end - a.end);

    const frag = document.createDocumentFragment();
    let pos = 0;
    spans.forEach((sp) => {
      if (sp.start < pos) return; // overlapping flag: already covered by the earlier mark
      if (sp.start > pos) frag.append(text.slice(pos, sp.start));
      const mark = el('mark', 'flag', text.slice(sp.start, sp.end));
      if (sp.flag.why) mark.title = String(sp.flag.why);
      if (sp.flag.id) mark.dataset.flagId = String(sp.flag.id);
      mark.setAttribute('aria-describedby', 'flag-' + sp.n);
      frag.append(mark);
      frag.append(el('sup', 'flag-num', String(sp.n)));
      pos = sp.end;
    });
    if (pos < text.length) frag.append(text.slice(pos));
    els.highlighted.replaceChildren(frag);
  }

  function renderRedFlags(flags) {
    els.redFlags.replaceChildren();
    if (!flags.length) {
      els.redFlags.append(el('li', 'empty', t('noRedFlags')));
      return;
    }
    flags.forEach((flag, i) => {
      const li = el('li');
      li.id = 'flag-' + (i + 1);
      if (flag.id) li.dataset.flagId = String(flag.id);
      li.append(el('strong', 'flag-phrase', String(flag.phrase || '')));
      if (flag.why) li.append(' — ', el('span', 'flag-why', String(flag.why)));
      if (flag.id) li.append(' ', el('code', 'flag-id', String(flag.id)));
      els.redFlags.append(li);
    });
  }

  function renderMentioned(items) {
    const clean = Array.isArray(items) ? items.filter((m) => m && typeof m === 'object' && m.value) : [];
    els.mentioned.replaceChildren();
    if (!clean.length) {
      els.mentioned.append(el('li', 'empty', t('noMentioned')));
      return;
    }
    clean.forEach((m) => {
      const li = el('li');
      li.dataset.kind = String(m.kind || '');
      li.append(el('span', 'mentioned-kind', t('kind_' + String(m.kind || ''))), ' ', el('strong', null, String(m.value)));
      els.mentioned.append(li);
    });
  }

  // Each link and number with its status (official / warning / caution) and the reasons.
  function renderIdentifiers(items) {
    const clean = Array.isArray(items) ? items.filter((c) => c && typeof c === 'object' && c.value) : [];
    els.identifiers.replaceChildren();
    if (!clean.length) {
      els.identifiers.append(el('li', 'empty', t('noIdentifiers')));
      return;
    }
    clean.forEach((c) => {
      const status = ['official', 'warning', 'caution'].indexOf(c.status) >= 0 ? c.status : 'unknown';
      const li = el('li', 'identifier identifier-' + status);
      li.dataset.status = status;
      li.append(el('span', 'identifier-status', t('status_' + status)), ' ', el('strong', null, String(c.value)));
      const reasons = el('ul', 'identifier-findings');
      (Array.isArray(c.findings) ? c.findings : []).forEach((f) => {
        if (f && f.why) reasons.append(el('li', null, String(f.why)));
      });
      li.append(reasons);
      els.identifiers.append(li);
    });
  }

  function renderReported(items) {
    const clean = Array.isArray(items) ? items.filter((r) => r && typeof r === 'object' && r.value) : [];
    els.reportedMatches.replaceChildren();
    if (!clean.length) {
      els.reportedMatches.append(el('li', 'empty', t('noReportedMatches')));
      return;
    }
    clean.forEach((r) => {
      const li = el('li', 'reported-match');
      li.append(el('strong', null, String(r.value)), ' ', el('span', null, String(r.why || '')));
      els.reportedMatches.append(li);
    });
  }

  function scamLabel(data) {
    if (data.verdict === 'unsure') return t('unsureLabel', { type: String(data.scam_name || data.scam_type || '') });
    return data.scam_name ? String(data.scam_name) : data.scam_type === 'none' || !data.scam_type ? t('noScam') : '';
  }

  function riskLabel(level) {
    return RISKS.indexOf(level) >= 0 ? t('risk_' + level) : t('risk_unknown');
  }

  function renderResult(data, text) {
    const type = String(data.scam_type || 'none');
    els.scamType.dataset.scamType = type;
    els.scamType.dataset.verdict = String(data.verdict || '');
    els.scamType.replaceChildren(el('span', 'scam-name', scamLabel(data)), ' ', el('code', 'scam-id', type));

    const p = percent(data.scam_probability);
    els.confBar.setAttribute('aria-valuenow', String(Math.round(p || 0)));
    els.confBar.setAttribute('aria-valuetext', percentText(data.scam_probability));
    els.confBar.firstElementChild.style.width = (p || 0) + '%';
    els.confValue.textContent = percentText(data.scam_probability);

    els.alternatives.replaceChildren();
    const alts = Array.isArray(data.alternatives) ? data.alternatives : [];
    if (!alts.length) els.alternatives.append(el('li', 'empty', t('none')));
    alts.forEach((alt) => {
      const li = el('li');
      li.dataset.scamType = String(alt.scam_type || '');
      li.append(el('span', null, String(alt.scam_name || alt.scam_type || '')), ' ',
        el('code', null, String(alt.scam_type || '')), ' ',
        el('span', 'alt-score', percentText(alt.score)));
      els.alternatives.append(li);
    });

    const level = RISKS.indexOf(data.risk_level) >= 0 ? data.risk_level : 'unknown';
    els.risk.dataset.risk = level;
    els.risk.className = 'risk-badge risk-' + level;
    els.risk.textContent = riskLabel(level);
    els.riskTitle.textContent = data.risk_title ? String(data.risk_title) : '';
    els.detectedLang.textContent = data.lang ? t('detectedLang', { lang: data.lang }) : '';

    const flags = Array.isArray(data.red_flags) ? data.red_flags.filter((f) => f && typeof f === 'object') : [];
    renderHighlighted(text, flags);
    renderRedFlags(flags);
    renderMentioned(data.mentioned);
    renderIdentifiers(data.identifiers);
    renderReported(data.reported);

    fillList(els.nextQuestions, data.next_questions);
    els.script.textContent = data.script ? String(data.script) : t('none');
    els.copy.disabled = !data.script;
    els.copyStatus.textContent = '';
    fillList(els.doNow, data.do_now);
    fillList(els.reportSteps, data.report_steps);
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
    else if (err.kind === 'local') msg = t(err.key);
    else msg = t('errorNetwork');
    els.error.textContent = msg;
    els.error.hidden = false;
  }

  function clearError() {
    lastError = null;
    els.error.hidden = true;
    els.error.textContent = '';
  }

  /* ---------- analyze ---------- */

  function setBusy(on) {
    busy = on;
    els.analyze.disabled = on;
    els.analyze.setAttribute('aria-busy', on ? 'true' : 'false');
    els.analyze.textContent = on ? t('analyzing') : t('analyze');
    els.form.setAttribute('aria-busy', on ? 'true' : 'false');
  }

  // `image`: a pasted, dropped or chosen screenshot, read by the server; otherwise the typed words.
  async function analyze(image) {
    if (busy) return;
    let text = els.text.value;
    if (!image && !text.trim()) {
      showError({ kind: 'local', key: 'errorEmpty' });
      els.text.focus();
      return;
    }
    const token = els.token.value.trim();
    const chosenLang = els.langSelect.value !== 'auto' ? els.langSelect.value : null;
    const headers = { Accept: 'application/json' };
    let url = 'analyze';
    let payload;
    if (image) {
      headers['Content-Type'] = image.type;
      if (chosenLang) url += '?lang=' + chosenLang;
      payload = image;
    } else {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(chosenLang ? { text, lang: chosenLang } : { text });
    }
    if (token) headers.Authorization = 'Bearer ' + token;

    clearError();
    setBusy(true);
    els.status.textContent = t('analyzing');
    const ctrl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; ctrl.abort(); }, TIMEOUT_MS);
    try {
      let res;
      try {
        res = await fetch(url, { method: 'POST', headers, body: payload, signal: ctrl.signal });
      } catch (e) {
        throw { kind: timedOut ? 'timeout' : 'network' };
      }
      let data = null;
      try {
        data = await res.json();
      } catch (e) {
        if (timedOut) throw { kind: 'timeout' };
        if (res.ok) throw { kind: 'bad-response' };
      }
      if (res.status === 401) throw { kind: 'unauthorized', noToken: !token };
      if (!res.ok) {
        throw { kind: 'server', status: res.status, code: data && data.error, message: data && data.message };
      }
      if (!data || typeof data !== 'object') throw { kind: 'bad-response' };
      if (image && data.ocr && typeof data.ocr.text === 'string') {
        // What was read from the screenshot, where staff can correct it and analyse again.
        text = data.ocr.text;
        els.text.value = text;
      }
      lastResult = { data, text };
      renderResult(data, text);
      announceResult(lastResult);
      els.status.textContent = t('doneStatus', { type: scamLabel(data) || data.scam_type, risk: riskLabel(data.risk_level) });
    } catch (err) {
      const e = err && err.kind ? err : { kind: 'network' };
      lastResult = null;
      announceResult(null);
      els.result.hidden = true;
      els.status.textContent = '';
      showError(e);
      if (e.kind === 'unauthorized') {
        els.token.focus();
        els.token.select();
      }
    } finally {
      clearTimeout(timer);
      setBusy(false);
    }
  }

  /* ---------- copy ---------- */

  async function copyScript() {
    const text = els.script.textContent;
    let ok = false;
    // The async clipboard API exists only in secure contexts (https / localhost).
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        ok = true;
      } catch (e) { /* fall through */ }
    }
    if (!ok) {
      const ta = el('textarea');
      ta.value = text;
      ta.setAttribute('readonly', '');
      ta.style.position = 'fixed';
      ta.style.opacity = '0';
      document.body.append(ta);
      ta.select();
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      ta.remove();
      els.copy.focus();
    }
    els.copyStatus.textContent = ok ? t('copied') : t('copyFailed');
    els.copyStatus.classList.toggle('copy-failed', !ok);
    clearTimeout(copyScript.timer);
    copyScript.timer = setTimeout(() => { els.copyStatus.textContent = ''; }, 4000);
  }

  /* ---------- start-up ---------- */

  function init() {
    const saved = storageGet('localStorage', KEY_UI_LANG);
    uiLang = saved === 'en' ? 'en' : 'zh';
    const token = storageGet('sessionStorage', KEY_TOKEN);
    if (token) els.token.value = token;

    els.token.addEventListener('input', () => storageSet('sessionStorage', KEY_TOKEN, els.token.value));
    els.form.addEventListener('submit', (e) => {
      e.preventDefault();
      analyze();
    });
    els.form.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        analyze();
      }
    });
    els.clear.addEventListener('click', () => {
      els.text.value = '';
      lastResult = null;
      announceResult(null);
      els.result.hidden = true;
      clearError();
      els.text.focus();
    });
    els.copy.addEventListener('click', copyScript);
    const imageOf = (items) => Array.from(items || []).find((f) => f && /^image\//.test(f.type));
    els.text.addEventListener('paste', (e) => {
      const item = Array.from((e.clipboardData && e.clipboardData.items) || []).find((i) => /^image\//.test(i.type));
      if (!item) return;
      e.preventDefault();
      analyze(item.getAsFile());
    });
    els.text.addEventListener('dragover', (e) => e.preventDefault());
    els.text.addEventListener('drop', (e) => {
      const file = imageOf(e.dataTransfer && e.dataTransfer.files);
      if (!file) return;
      e.preventDefault();
      analyze(file);
    });
    els.imageInput.addEventListener('change', () => {
      const file = imageOf(els.imageInput.files);
      els.imageInput.value = '';
      if (file) analyze(file);
    });
    els.langToggle.addEventListener('click', () => {
      uiLang = uiLang === 'zh' ? 'en' : 'zh';
      storageSet('localStorage', KEY_UI_LANG, uiLang);
      applyStrings();
    });

    loadStrings().then(applyStrings);
    (els.token.value ? els.text : els.token).focus();
  }

  init();
})();
