/* The console's handoff desk: the on-duty switch, the queue of web chats waiting for a person, the chat
 * this console took (read, answer, hand back to the assistant), a case looked up by its code, and the
 * "verdict wrong" form under an analysis. All with the staff token of the form above. */
(function () {
  'use strict';

  const TIMEOUT_MS = 30000;
  const DUTY_MS = 20000;
  const QUEUE_MS = 3000;
  const CHAT_MS = 2000;
  const KEY_CONSOLE = 'fz.console.id'; // sessionStorage: one id per tab
  const KEY_DUTY = 'fz.console.onDuty';
  const CONSOLE_RE = /^[A-Za-z0-9_-]{16,32}$/;
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
  const RISKS = ['critical', 'high', 'medium', 'low'];
  const SCAM_TYPES = ['order_brushing', 'investment', 'fake_shopping', 'customer_service', 'fake_loan', 'fake_credit',
    'impersonate_acquaintance', 'impersonate_official', 'romance', 'game_trading', 'other'];
  const BANDS = { '<1k': 'band_lt1k', '1k-10k': 'band_1k_10k', '10k-100k': 'band_10k_100k',
    '>=100k': 'band_ge100k', '≥100k': 'band_ge100k' };
  // The server's error codes this panel explains in words of its own.
  const ERROR_KEYS = {
    already_taken: 'handoffErrAlreadyTaken', not_yours: 'handoffErrNotYours', no_such_handoff: 'handoffErrNoSuchHandoff',
    no_such_conversation: 'handoffErrNoConversation', not_with_staff: 'handoffErrNotWithStaff',
    store_unavailable: 'handoffErrStore', no_such_case: 'caseNotFound',
  };

  const $ = (id) => document.getElementById(id);
  const els = {
    token: $('token'),
    langToggle: $('lang-toggle'),
    badge: $('handoff-badge'),
    duty: $('duty-toggle'),
    dutyCount: $('duty-count'),
    error: $('handoff-error'),
    status: $('handoff-status'),
    announce: $('handoff-announce'),
    queueNote: $('handoff-queue-note'),
    queue: $('handoff-queue'),
    others: $('handoff-others'),
    mine: $('handoff-mine'),
    chat: $('handoff-chat'),
    chatHeading: $('handoff-chat-heading'),
    chatInfo: $('handoff-chat-info'),
    chatCase: $('handoff-case'),
    chatClose: $('handoff-close'),
    messages: $('handoff-messages'),
    chatForm: $('handoff-form'),
    message: $('handoff-message'),
    send: $('handoff-send'),
    release: $('handoff-release'),
    caseForm: $('case-form'),
    caseInput: $('case-code-input'),
    caseButton: $('case-lookup'),
    caseStatus: $('case-status'),
    caseSummary: $('case-summary'),
    feedbackOpen: $('feedback-open'),
    feedbackForm: $('feedback-form'),
    feedbackType: $('feedback-right-type'),
    feedbackComment: $('feedback-comment'),
    feedbackSend: $('feedback-send'),
    feedbackStatus: $('feedback-status'),
  };

  const { storageGet, storageSet } = window.PageKit;
  let strings = {};
  const consoleId = loadConsoleId();

  let dutyTimer = null;
  let dutyCount = null;
  let lastQueue = null; // the last queue reply, kept to draw it again in another language
  let queueFetchedAt = 0;
  let queueBusy = false;
  let queueProblem = null;
  let seenWaiting = null; // ids already listed, to announce only new ones
  let problem = null; // {source, …}: what #handoff-error says
  let statusKey = null; // {key, vars}: what #handoff-status says
  let chat = null; // the open conversation: {id, handoff, after, timer, busy, again, stopped}
  let lastCase = null;
  let caseMessage = null;
  let analysed = null; // {text, data}: the analysis "verdict wrong" is about
  let feedbackKey = null;
  let feedbackProblem = null;

  /* ---------- basics ---------- */

  function lang() { return document.documentElement.lang === 'en' ? 'en' : 'zh'; }

  function t(key, vars) { return window.PageKit.translate(strings, lang(), key, vars); }

  // Whether the strings name this key (a channel or type the page does not know is shown as it is).
  function has(key) { return key in (strings[lang()] || {}) || key in (strings.zh || {}); }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function newConsoleId() {
    const bytes = new Uint8Array(24);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => ALPHABET[b & 63]).join('');
  }

  function loadConsoleId() {
    const saved = storageGet('sessionStorage', KEY_CONSOLE);
    if (saved && CONSOLE_RE.test(saved)) return saved;
    const id = newConsoleId();
    storageSet('sessionStorage', KEY_CONSOLE, id);
    return id;
  }

  function token() { return els.token.value.trim(); }

  function headers(extra) {
    const all = Object.assign({ Accept: 'application/json' }, extra || {});
    if (token()) all.Authorization = 'Bearer ' + token();
    return all;
  }

  function postJson(path, body, keepalive) {
    return call(path, {
      method: 'POST', headers: headers({ 'Content-Type': 'application/json' }), body: JSON.stringify(body), keepalive,
    });
  }

  async function call(path, options) {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), TIMEOUT_MS);
    try {
      const res = await fetch(path, Object.assign({ signal: ctrl.signal, cache: 'no-store' }, options));
      const isJson = (res.headers.get('content-type') || '').indexOf('application/json') === 0;
      const data = isJson ? await res.json().catch(() => null) : null;
      return { res, data };
    } finally {
      clearTimeout(timer);
    }
  }

  // What went wrong, kept as data so it can be said again in the other language.
  function failureOf(res, data) {
    return { status: res.status, code: data && data.error, message: data && data.message, noToken: !token() };
  }

  function describe(p) {
    if (p.key) return t(p.key, p.vars);
    if (p.network) return t('errorNetwork');
    if (p.status === 401) return t(p.noToken ? 'errorNoToken' : 'errorUnauthorized');
    if (p.code && ERROR_KEYS[p.code]) return t(ERROR_KEYS[p.code]);
    if (p.status === 503) return t('handoffErrStore');
    return t('errorServer', { status: p.status, message: p.message || p.code || '' });
  }

  function setProblem(p, source) {
    problem = Object.assign({ source }, p);
    const text = describe(problem);
    if (els.error.textContent !== text) els.error.textContent = text;
    els.error.hidden = false;
  }

  // Clears what `source` said (a later success of the queue must not hide a failed send); no source: all.
  function clearProblem(source) {
    if (!problem || (source && problem.source !== source)) return;
    problem = null;
    els.error.hidden = true;
    els.error.textContent = '';
  }

  function say(key, vars) {
    statusKey = key ? { key, vars } : null;
    els.status.textContent = key ? t(key, vars) : '';
  }

  function pad2(n) { return String(n).padStart(2, '0'); }

  function mmss(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    return Math.floor(s / 60) + ':' + pad2(s % 60);
  }

  function dateTime(value) {
    const d = typeof value === 'number' ? new Date(value * 1000) : new Date(String(value || ''));
    if (isNaN(d.getTime())) return '';
    const hm = pad2(d.getHours()) + ':' + pad2(d.getMinutes());
    if (d.toDateString() === new Date().toDateString()) return hm;
    return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ' + hm;
  }

  function shownCode(code) {
    const c = String(code || '');
    return c.length === 8 ? c.slice(0, 4) + '-' + c.slice(4) : c || t('noCaseCode');
  }

  function scamName(type, names) {
    if (!type || type === 'unknown') return t('unknownType');
    const name = names && names[type];
    if (name && (name[lang()] || name.zh)) return String(name[lang()] || name.zh);
    return has('scam_' + type) ? t('scam_' + type) : String(type);
  }

  function riskOf(level) { return RISKS.indexOf(level) >= 0 ? level : 'unknown'; }

  function riskBadge(level) {
    const risk = riskOf(level);
    const badge = el('span', 'risk-badge risk-' + risk + ' handoff-risk', t('risk_' + risk));
    badge.dataset.risk = risk;
    return badge;
  }

  function named(prefix, value) {
    if (value == null || value === '') return t('caseUnknown');
    return has(prefix + value) ? t(prefix + value) : String(value);
  }

  function languageName(code) {
    if (code === 'zh') return t('langZh');
    if (code === 'en') return t('langEn');
    return code ? String(code) : t('caseUnknown');
  }

  function bandText(band) { return BANDS[band] ? t(BANDS[band]) : String(band); }

  function minutesText(minutes) {
    const m = Math.round(minutes);
    return m >= 120 ? t('factHours', { n: Math.round(m / 60) }) : t('factMinutes', { n: m });
  }

  // The triage facts in words: what the staff member needs before saying hello.
  function factTexts(facts) {
    const f = facts && typeof facts === 'object' ? facts : {};
    const out = [];
    if (f.money_sent === true) out.push(t('fact_money_sent_true'));
    else if (f.money_sent === false) out.push(t('fact_money_sent_false'));
    if (f.amount_band) out.push(t('factAmount', { band: bandText(f.amount_band) }));
    const minutes = Number(f.minutes_since_transfer);
    if (f.minutes_since_transfer != null && f.minutes_since_transfer !== '' && isFinite(minutes) && minutes >= 0) {
      out.push(minutesText(minutes));
    }
    if (f.credentials_shared === true) out.push(t('fact_credentials_true'));
    else if (f.credentials_shared === false) out.push(t('fact_credentials_false'));
    return out;
  }

  function factList(facts) {
    const list = el('ul', 'handoff-facts');
    factTexts(facts).forEach((text) => list.append(el('li', null, text)));
    return list;
  }

  /* ---------- on duty ---------- */

  async function dutyBeat(on) {
    if (!token()) {
      if (on) {
        setProblem({ status: 401, noToken: true }, 'duty');
        setDuty(false);
      }
      return;
    }
    try {
      const { res, data } = await postJson('handoffs/duty', { console: consoleId, on });
      if (res.ok && data) {
        clearProblem('duty');
        showDutyCount(data.on_duty);
      } else {
        setProblem(failureOf(res, data), 'duty');
        if (on && res.status === 401) setDuty(false);
      }
    } catch (e) {
      if (on) setProblem({ network: true }, 'duty'); // still on: the next beat tries again
    }
  }

  function setDuty(on) {
    els.duty.checked = on;
    storageSet('sessionStorage', KEY_DUTY, on ? '1' : '0');
    clearInterval(dutyTimer);
    dutyTimer = null;
    if (on) dutyTimer = setInterval(() => dutyBeat(true), DUTY_MS);
  }

  function showDutyCount(n) {
    if (Number.isFinite(Number(n))) dutyCount = Number(n);
    els.dutyCount.textContent = dutyCount === null ? '' : t('dutyCount', { n: dutyCount });
  }

  /* ---------- the queue ---------- */

  async function pollQueue() {
    if (queueBusy) return;
    if (!token()) {
      lastQueue = null;
      queueProblem = { key: 'handoffNeedToken' };
      renderQueue();
      return;
    }
    queueBusy = true;
    try {
      const { res, data } = await call('handoffs', { headers: headers() });
      if (res.ok && data && Array.isArray(data.waiting)) {
        lastQueue = data;
        queueFetchedAt = Date.now();
        queueProblem = null;
        showDutyCount(data.on_duty);
        announceNew(data.waiting);
      } else {
        queueProblem = Object.assign({ error: true }, failureOf(res, data));
      }
    } catch (e) {
      queueProblem = { error: true, network: true };
    } finally {
      queueBusy = false;
    }
    renderQueue();
  }

  function announceNew(waiting) {
    const ids = new Set(waiting.map((h) => String(h.id)));
    if (seenWaiting) {
      const fresh = waiting.filter((h) => !seenWaiting.has(String(h.id)));
      if (fresh.length) els.announce.textContent = t('handoffNewAnnounce', { code: fresh.map((h) => shownCode(h.case_code)).join(', ') });
    }
    seenWaiting = ids;
  }

  function renderQueue() {
    const note = queueProblem ? describe(queueProblem) : '';
    if (els.queueNote.textContent !== note) els.queueNote.textContent = note;
    els.queueNote.classList.toggle('is-error', !!(queueProblem && queueProblem.error));
    els.queueNote.setAttribute('role', queueProblem && queueProblem.error ? 'alert' : 'status');
    if (!lastQueue) {
      els.queue.replaceChildren();
      els.mine.replaceChildren();
      els.others.textContent = '';
      els.badge.hidden = true;
      return;
    }
    const names = lastQueue.scam_names || {};
    const waiting = lastQueue.waiting.filter((h) => h && h.id != null);
    const taken = (Array.isArray(lastQueue.taken) ? lastQueue.taken : []).filter((h) => h && h.id != null);
    const mine = taken.filter((h) => h.console_id === consoleId);
    reconcile(els.queue, waiting, (h) => makeItem(h, 'handoff-item', 'handoffTake', 'handoff-take', take),
      (li, h) => fillWaiting(li, h, names), 'handoffNoWaiting');
    reconcile(els.mine, mine, (h) => makeItem(h, 'handoff-mine-item', 'handoffOpen', 'handoff-open', openChat),
      (li, h) => fillMine(li, h, names), 'handoffNoMine');
    const others = taken.length - mine.length;
    els.others.textContent = others > 0 ? t('handoffOthers', { n: others }) : '';
    els.badge.hidden = !waiting.length;
    els.badge.textContent = t('handoffBadge', { n: waiting.length });
    els.badge.classList.toggle('handoff-badge-critical', waiting.some((h) => h.risk_level === 'critical'));
    tick();
  }

  /* Updates the list in place, so a button keeps its focus while the list is redrawn every few seconds. */
  function reconcile(list, items, make, fill, emptyKey) {
    const existing = new Map();
    Array.from(list.children).forEach((li) => {
      if (li.dataset.handoffId) existing.set(li.dataset.handoffId, li);
      else li.remove();
    });
    const wanted = items.map((h) => {
      const id = String(h.id);
      let li = existing.get(id);
      if (li) existing.delete(id);
      else li = make(h);
      fill(li, h);
      return li;
    });
    existing.forEach((li) => li.remove());
    wanted.forEach((li, i) => {
      if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
    });
    if (!items.length) list.append(el('li', 'empty', t(emptyKey)));
  }

  function makeItem(h, className, buttonKey, buttonClass, action) {
    const li = el('li', className);
    li.dataset.handoffId = String(h.id);
    const info = el('div', 'handoff-info');
    const button = el('button', 'btn ' + buttonClass, t(buttonKey));
    button.type = 'button';
    button.addEventListener('click', () => action(Number(li.dataset.handoffId), button));
    li.append(info, button);
    return li;
  }

  function headLine(h, names) {
    const line = el('div', 'handoff-line');
    line.append(el('strong', 'handoff-code', shownCode(h.case_code)), ' ', riskBadge(h.risk_level), ' ',
      el('span', 'handoff-type', scamName(h.scam_type, names)));
    return line;
  }

  function metaLine(h) {
    const meta = el('div', 'handoff-line handoff-meta');
    const parts = [];
    if (h.channel) parts.push(named('channel_', h.channel));
    if (h.language) parts.push(languageName(h.language));
    return { meta, parts };
  }

  function fillWaiting(li, h, names) {
    const risk = riskOf(h.risk_level);
    li.dataset.risk = risk;
    li.classList.toggle('handoff-critical', risk === 'critical');
    // The server's whole seconds and the trip here only make the start look later: keep the earliest seen,
    // so the clock never steps back when a poll lands.
    const fresh = Date.now() - (Number(h.waited_seconds) || 0) * 1000;
    const before = Number(li.dataset.since);
    const since = before && before < fresh ? before : fresh;
    li.dataset.since = String(since);
    const { meta, parts } = metaLine(h);
    const wait = el('span', 'handoff-wait');
    wait.dataset.since = String(since);
    meta.append(wait);
    parts.forEach((p) => meta.append(' · ', el('span', null, p)));
    li.querySelector('.handoff-info').replaceChildren(headLine(h, names), meta, factList(h.facts));
    const button = li.querySelector('.handoff-take');
    button.textContent = t('handoffTake');
    button.setAttribute('aria-label', t('handoffTakeAria', { code: shownCode(h.case_code) }));
  }

  function fillMine(li, h, names) {
    const open = !!(chat && chat.id === Number(h.id));
    li.classList.toggle('is-open', open);
    const { meta, parts } = metaLine(h);
    if (h.taken_at) parts.unshift(t('handoffTakenAt', { time: dateTime(h.taken_at) }));
    parts.forEach((p, i) => meta.append(i ? ' · ' : '', el('span', null, p)));
    li.querySelector('.handoff-info').replaceChildren(headLine(h, names), meta, factList(h.facts));
    const button = li.querySelector('.handoff-open');
    button.textContent = t(open ? 'handoffOpenNow' : 'handoffOpen');
    button.setAttribute('aria-label', t('handoffOpenAria', { code: shownCode(h.case_code) }));
    if (open) button.setAttribute('aria-current', 'true');
    else button.removeAttribute('aria-current');
  }

  // The waiting times count up between two polls.
  function tick() {
    const now = Date.now();
    els.queue.querySelectorAll('.handoff-wait[data-since]').forEach((span) => {
      const seconds = Math.max(0, (now - Number(span.dataset.since)) / 1000);
      const text = t('handoffWaited', { time: mmss(seconds) });
      if (span.textContent !== text) span.textContent = text;
      span.setAttribute('aria-label', t('handoffWaitedAria', { m: Math.floor(seconds / 60), s: Math.floor(seconds % 60) }));
    });
  }

  async function take(id, button) {
    clearProblem();
    say(null);
    button.disabled = true;
    try {
      const { res, data } = await postJson('handoffs/' + id + '/take', { console: consoleId });
      if (res.ok) {
        const h = data && data.id != null ? data : { id };
        say('handoffTakenStatus', { code: shownCode(h.case_code) });
        openChat(id, null, h);
      } else {
        setProblem(failureOf(res, data), 'take');
      }
    } catch (e) {
      setProblem({ network: true }, 'take');
    } finally {
      button.disabled = false;
      pollQueue();
    }
  }

  /* ---------- the conversation ---------- */

  function findHandoff(id) {
    if (!lastQueue) return null;
    return (lastQueue.taken || []).concat(lastQueue.waiting || []).find((h) => h && Number(h.id) === id) || null;
  }

  function openChat(id, button, handoff) {
    if (chat && chat.id === id) {
      els.message.focus();
      return;
    }
    closeChat();
    chat = { id, handoff: handoff || findHandoff(id), after: null, timer: null, busy: false, again: false, stopped: false };
    els.messages.replaceChildren(el('p', 'empty chat-empty', t('chatNoMessages')));
    els.message.value = '';
    setChatEnabled(true);
    renderChatHead();
    els.chat.hidden = false;
    chat.timer = setInterval(pollChat, CHAT_MS);
    pollChat();
    renderQueue();
    els.message.focus();
  }

  function closeChat() {
    if (!chat) return;
    clearInterval(chat.timer);
    chat = null;
    els.chat.hidden = true;
    els.messages.replaceChildren();
    els.chatInfo.replaceChildren();
    clearProblem('chat');
    renderQueue();
  }

  function stopChat(current) {
    clearInterval(current.timer);
    current.stopped = true;
    setChatEnabled(false);
  }

  function setChatEnabled(on) {
    els.message.disabled = !on;
    els.send.disabled = !on;
    els.release.disabled = !on;
  }

  function renderChatHead() {
    if (!chat) return;
    const h = chat.handoff || { id: chat.id };
    const names = (lastQueue && lastQueue.scam_names) || {};
    els.chatHeading.textContent = t('chatHeading', { code: shownCode(h.case_code) });
    els.chatCase.hidden = !h.case_code;
    const line = el('p', 'handoff-line');
    line.append(riskBadge(h.risk_level), ' ', el('span', 'handoff-type', scamName(h.scam_type, names)));
    els.chatInfo.replaceChildren(line, factList(h.facts));
  }

  async function pollChat() {
    const current = chat;
    if (!current || current.stopped) return;
    if (current.busy) {
      current.again = true;
      return;
    }
    if (!token()) return;
    current.busy = true;
    try {
      let path = 'handoffs/' + current.id + '/messages?console=' + encodeURIComponent(consoleId);
      if (current.after !== null) path += '&after=' + encodeURIComponent(String(current.after));
      const { res, data } = await call(path, { headers: headers() });
      if (chat !== current) return;
      if (res.ok && data && Array.isArray(data.messages)) {
        clearProblem('chat');
        if (data.handoff && typeof data.handoff === 'object') {
          current.handoff = data.handoff;
          renderChatHead();
        }
        appendMessages(data.messages, current);
      } else {
        setProblem(failureOf(res, data), 'chat');
        // Handed back, taken elsewhere, or gone: nothing more to read or write here.
        if (res.status === 404 || res.status === 409) stopChat(current);
      }
    } catch (e) {
      if (chat === current) setProblem({ network: true }, 'chat');
    } finally {
      current.busy = false;
      if (current.again && chat === current) {
        current.again = false;
        pollChat();
      }
    }
  }

  function appendMessages(messages, current) {
    const fresh = messages.filter((m) => m && typeof m === 'object' &&
      (current.after === null || !(Number(m.timestamp) <= current.after)));
    if (!fresh.length) return;
    const placeholder = els.messages.querySelector('.chat-empty');
    if (placeholder) placeholder.remove();
    // Follow the conversation unless the staff member scrolled up to read something earlier.
    const follow = current.after === null ||
      els.messages.scrollHeight - els.messages.scrollTop - els.messages.clientHeight < 40;
    fresh.forEach((m) => {
      els.messages.append(bubble(m));
      const ts = Number(m.timestamp);
      if (isFinite(ts) && (current.after === null || ts > current.after)) current.after = ts;
    });
    if (follow) els.messages.scrollTop = els.messages.scrollHeight;
  }

  function isCritical(custom) {
    if (!custom || typeof custom !== 'object') return false;
    return custom.risk_level === 'critical' || !!(custom.analysis && custom.analysis.risk_level === 'critical');
  }

  const ROLE_KEYS = { user: 'roleUser', bot: 'roleBot', staff: 'roleStaff' };

  function bubble(m) {
    const role = ROLE_KEYS[m.role] ? m.role : 'bot';
    const row = el('div', 'chat-msg chat-msg-' + role);
    row.dataset.role = role;
    const label = el('div', 'chat-label');
    const who = el('span', 'chat-who', t(ROLE_KEYS[role]));
    who.dataset.i18n = ROLE_KEYS[role];
    label.append(who);
    if (m.source === 'image') {
      const image = el('span', 'chat-source', t('fromImage'));
      image.dataset.i18n = 'fromImage';
      label.append(' · ', image);
    }
    const when = dateTime(Number(m.timestamp));
    if (when) {
      const time = el('time', 'chat-time', when);
      time.dateTime = new Date(Number(m.timestamp) * 1000).toISOString();
      label.append(' ', time);
    }
    row.append(label);
    if (m.text) row.append(el('div', 'chat-text', String(m.text)));
    const custom = m.custom && typeof m.custom === 'object' ? m.custom : null;
    if (custom && custom.handoff) row.classList.add('chat-msg-announce');
    if (isCritical(custom)) row.classList.add('chat-msg-critical');
    const buttons = Array.isArray(m.buttons) ? m.buttons.filter((b) => b && (b.title || b.payload)) : [];
    if (buttons.length) {
      const offered = el('div', 'chat-buttons');
      const caption = el('span', 'chat-buttons-label', t('chatButtons'));
      caption.dataset.i18n = 'chatButtons';
      offered.append(caption);
      buttons.forEach((b) => offered.append(' ', el('span', 'chat-button', String(b.title || b.payload))));
      row.append(offered);
    }
    return row;
  }

  async function sendMessage() {
    const current = chat;
    if (!current || current.stopped) return;
    const text = els.message.value.trim();
    if (!text) {
      setProblem({ key: 'handoffEmpty' }, 'send');
      els.message.focus();
      return;
    }
    clearProblem();
    els.send.disabled = true;
    els.send.textContent = t('handoffSending');
    try {
      const { res, data } = await postJson('handoffs/' + current.id + '/messages', { console: consoleId, text });
      if (res.ok) {
        if (chat === current) els.message.value = '';
        pollChat();
      } else {
        setProblem(failureOf(res, data), 'send');
        if (res.status === 404 || (res.status === 409 && data && data.error === 'not_yours')) stopChat(current);
      }
    } catch (e) {
      setProblem({ network: true }, 'send');
    } finally {
      els.send.textContent = t('handoffSend');
      if (chat === current && !current.stopped) els.send.disabled = false;
    }
  }

  async function release() {
    const current = chat;
    if (!current || current.stopped) return;
    clearProblem();
    els.release.disabled = true;
    try {
      const { res, data } = await postJson('handoffs/' + current.id + '/release', { console: consoleId });
      if (res.ok) {
        if (chat === current) closeChat();
        say('handoffReleased');
        els.queue.focus();
      } else {
        setProblem(failureOf(res, data), 'release');
      }
    } catch (e) {
      setProblem({ network: true }, 'release');
    } finally {
      if (chat === current && !current.stopped) els.release.disabled = false;
      pollQueue();
    }
  }

  /* ---------- a case by its code ---------- */

  async function lookupCase(code) {
    const wanted = String(code == null ? els.caseInput.value : code).replace(/\s+/g, '');
    if (code != null) els.caseInput.value = shownCode(wanted);
    if (!wanted) {
      caseSay({ key: 'caseEmpty' });
      els.caseInput.focus();
      return;
    }
    caseSay({ key: 'caseBusy' });
    els.caseButton.disabled = true;
    try {
      const { res, data } = await call('cases/' + encodeURIComponent(wanted), { headers: headers() });
      if (res.ok && data && typeof data === 'object') {
        lastCase = data;
        caseSay(null);
        renderCase();
      } else {
        lastCase = null;
        els.caseSummary.hidden = true;
        caseSay(Object.assign({ error: true }, failureOf(res, data)));
      }
    } catch (e) {
      caseSay({ error: true, network: true });
    } finally {
      els.caseButton.disabled = false;
    }
  }

  function caseSay(p) {
    caseMessage = p;
    els.caseStatus.textContent = p ? describe(p) : '';
    els.caseStatus.classList.toggle('is-error', !!(p && p.error));
  }

  function yesNo(value, yesKey, noKey) {
    if (value === true) return t(yesKey);
    if (value === false) return t(noKey);
    return t('caseUnknown');
  }

  function renderCase() {
    const c = lastCase;
    if (!c) return;
    const card = els.caseSummary;
    const minutes = Number(c.minutes_since_transfer);
    const rows = [
      ['caseType', scamName(c.scam_type, c.scam_names)],
      ['caseRisk', riskBadge(c.risk_level)],
      ['caseMoneySent', yesNo(c.money_sent, 'fact_money_sent_true', 'fact_money_sent_false')],
      ['caseAmount', c.amount_band ? bandText(c.amount_band) : t('caseUnknown')],
      ['caseMinutes', c.minutes_since_transfer != null && isFinite(minutes) ? minutesText(minutes) : t('caseUnknown')],
      ['caseCredentials', yesNo(c.credentials_shared, 'fact_credentials_true', 'fact_credentials_false')],
      ['caseChannel', named('channel_', c.channel)],
      ['caseLanguage', languageName(c.language)],
      ['caseCreated', dateTime(c.created_at) || t('caseUnknown')],
      ['caseUpdated', dateTime(c.updated_at) || t('caseUnknown')],
    ];
    const title = el('h4', 'case-title', t('caseTitle', { code: shownCode(c.case_code) }));
    const list = el('dl', 'case-fields');
    rows.forEach(([key, value]) => {
      const dd = el('dd');
      dd.append(value);
      list.append(el('dt', null, t(key)), dd);
    });
    const notesHeading = el('h4', 'case-notes-heading', t('caseNotes'));
    const notes = el('ul', 'case-notes');
    notes.id = 'case-notes';
    const items = Array.isArray(c.notes) ? c.notes.filter((n) => n && n.text) : [];
    if (!items.length) notes.append(el('li', 'empty', t('caseNoNotes')));
    items.forEach((n) => {
      const li = el('li', 'case-note');
      li.dataset.source = String(n.source || '');
      const label = el('div', 'chat-label');
      label.append(el('span', 'chat-who', named('source_', n.source)), ' ', el('time', 'chat-time', dateTime(n.added_at)));
      li.append(label, el('div', 'chat-text', String(n.text)));
      notes.append(li);
    });
    card.dataset.caseCode = String(c.case_code || '');
    card.replaceChildren(title, list, notesHeading, notes);
    card.hidden = false;
  }

  /* ---------- "verdict wrong" under an analysis ---------- */

  function onResult(result) {
    analysed = result && result.data && typeof result.text === 'string' ? result : null;
    els.feedbackForm.hidden = true;
    els.feedbackOpen.setAttribute('aria-expanded', 'false');
    els.feedbackOpen.disabled = !analysed;
    els.feedbackType.value = '';
    els.feedbackComment.value = '';
    feedbackSay(null);
  }

  function feedbackSay(key, p) {
    feedbackKey = key;
    feedbackProblem = p || null;
    els.feedbackStatus.textContent = p ? describe(p) : key ? t(key) : '';
    els.feedbackStatus.classList.toggle('is-error', !!p);
  }

  function judgedType(data) {
    if (data.verdict === 'none') return 'none';
    return SCAM_TYPES.indexOf(data.scam_type) >= 0 ? data.scam_type : 'none';
  }

  async function sendFeedback() {
    if (!analysed) return;
    const body = {
      text: analysed.text,
      judged_type: judgedType(analysed.data),
      right_type: els.feedbackType.value || null,
      comment: els.feedbackComment.value.trim() || null,
    };
    els.feedbackSend.disabled = true;
    els.feedbackSend.textContent = t('feedbackSending');
    try {
      const { res, data } = await postJson('feedback', body);
      if (res.ok) {
        els.feedbackForm.hidden = true;
        els.feedbackOpen.setAttribute('aria-expanded', 'false');
        els.feedbackOpen.disabled = true; // once per analysis
        feedbackSay('feedbackSent');
      } else {
        feedbackSay(null, failureOf(res, data));
      }
    } catch (e) {
      feedbackSay(null, { network: true });
    } finally {
      els.feedbackSend.disabled = false;
      els.feedbackSend.textContent = t('feedbackSend');
    }
  }

  /* ---------- language switch ---------- */

  function redraw() {
    if (problem) setProblem(problem, problem.source);
    if (statusKey) say(statusKey.key, statusKey.vars);
    showDutyCount(dutyCount);
    renderQueue();
    renderChatHead();
    if (lastCase) renderCase();
    if (caseMessage) caseSay(caseMessage);
    if (feedbackKey || feedbackProblem) feedbackSay(feedbackKey, feedbackProblem);
  }

  /* ---------- start-up ---------- */

  function init() {
    els.duty.addEventListener('change', () => {
      const on = els.duty.checked;
      setDuty(on);
      if (!on) clearProblem('duty');
      dutyBeat(on);
    });
    // Going away (closing the tab, reloading): off duty now, not a minute later.
    window.addEventListener('pagehide', () => {
      if (els.duty.checked && token()) postJson('handoffs/duty', { console: consoleId, on: false }, true).catch(() => {});
    });
    window.addEventListener('pageshow', (e) => {
      if (e.persisted && els.duty.checked) dutyBeat(true);
    });
    let tokenTimer = null;
    els.token.addEventListener('input', () => {
      clearTimeout(tokenTimer);
      tokenTimer = setTimeout(() => {
        pollQueue();
        if (els.duty.checked) dutyBeat(true);
      }, 400);
    });

    els.chatForm.addEventListener('submit', (e) => {
      e.preventDefault();
      sendMessage();
    });
    els.message.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        sendMessage();
      }
    });
    els.release.addEventListener('click', release);
    els.chatClose.addEventListener('click', () => {
      const id = chat && chat.id;
      closeChat();
      const button = id && els.mine.querySelector('[data-handoff-id="' + id + '"] .handoff-open');
      if (button) button.focus();
    });
    els.chatCase.addEventListener('click', () => {
      const h = chat && chat.handoff;
      if (h && h.case_code) lookupCase(h.case_code);
    });
    els.queue.tabIndex = -1;

    els.caseForm.addEventListener('submit', (e) => {
      e.preventDefault();
      lookupCase();
    });

    els.feedbackOpen.disabled = true;
    els.feedbackOpen.addEventListener('click', () => {
      const open = els.feedbackForm.hidden;
      els.feedbackForm.hidden = !open;
      els.feedbackOpen.setAttribute('aria-expanded', open ? 'true' : 'false');
      if (open) els.feedbackType.focus();
    });
    els.feedbackForm.addEventListener('submit', (e) => {
      e.preventDefault();
      sendFeedback();
    });
    document.addEventListener('console:result', (e) => onResult(e.detail));
    // app.js switches the language on the same click, before this runs.
    els.langToggle.addEventListener('click', redraw);

    window.PageKit.loadStrings('static/strings.json').then((loaded) => {
      strings = loaded;
      if (storageGet('sessionStorage', KEY_DUTY) === '1' && token()) {
        setDuty(true);
        dutyBeat(true);
      }
      pollQueue();
      setInterval(pollQueue, QUEUE_MS);
      setInterval(tick, 1000);
    });
  }

  init();
})();
