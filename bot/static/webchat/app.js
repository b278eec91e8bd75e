/* 反诈助手 web chat: plain JS, no dependencies, talks to the Rasa REST-style
 * webhook at the same origin (relative URLs "webhook" and "history"). */
(function () {
  'use strict';

  const KEY_SENDER = 'fz.webchat.sender';
  const KEY_LANG = 'fz.webchat.lang';
  const KEY_LARGE = 'fz.webchat.largeText';
  const KEY_DRAFT = 'fz.webchat.draft';
  const TIMEOUT_MS = 30000;
  const GAP_SECONDS = 5 * 60;
  const HANDOFF_POLL_MS = 2500;
  // The chat's handoff states while a hotline staff member is asked for or holds the chat.
  const HANDOFF_ACTIVE = ['waiting', 'with_staff'];
  const LANGS = ['zh', 'en'];

  const els = {
    html: document.documentElement,
    scroller: document.getElementById('scroller'),
    messages: document.getElementById('messages'),
    typing: document.getElementById('typing'),
    form: document.getElementById('composer'),
    input: document.getElementById('chat-input'),
    send: document.getElementById('send-button'),
    imageInput: document.getElementById('image-input'),
    imageButton: document.getElementById('image-button'),
    langToggle: document.getElementById('lang-toggle'),
    sizeToggle: document.getElementById('text-size-toggle'),
    newChat: document.getElementById('new-chat'),
  };

  let strings = {};
  let lang = 'zh';
  let sender = '';
  let lastTimestamp = null;
  // Requests are chained so bot replies always arrive in the order the user spoke.
  let queue = Promise.resolve();
  // Bumped by "new conversation" so late replies of the old one are dropped.
  let generation = 0;
  let pending = 0;
  let inflight = null;
  // While staff are asked for or hold the chat, the page looks for their messages in the history.
  let handoff = null; // null, 'waiting' or 'with_staff'
  let pollTimer = null;
  let polling = false;
  let pollAfter = null; // the largest timestamp seen in history responses
  let handoffStatus = null;

  // localStorage can throw (private mode, disabled storage); the chat must still work.
  const store = {
    get(key) { try { return window.localStorage.getItem(key); } catch (e) { return null; } },
    set(key, value) { try { window.localStorage.setItem(key, value); } catch (e) { /* ignore */ } },
    remove(key) { try { window.localStorage.removeItem(key); } catch (e) { /* ignore */ } },
  };

  function t(key, vars) {
    const table = strings[lang] || {};
    const fallback = strings.zh || {};
    let s = key in table ? table[key] : key in fallback ? fallback[key] : key;
    if (vars) {
      s = s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
    }
    return s;
  }

  function nowSeconds() { return Date.now() / 1000; }

  function newConversationId() {
    const c = window.crypto;
    // randomUUID exists only in secure contexts; plain-http deployments need the fallback.
    if (c && typeof c.randomUUID === 'function') return c.randomUUID();
    const bytes = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(bytes);
    else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    return hex.slice(0, 8) + '-' + hex.slice(8, 12) + '-' + hex.slice(12, 16) + '-' +
      hex.slice(16, 20) + '-' + hex.slice(20);
  }

  /* ---------- text rendering (DOM nodes only, never innerHTML) ---------- */

  const URL_RE = /https?:\/\/[^\s<>"'\u3000-\u303f\uff00-\uffef]+/gi;
  // No lookbehind: older iOS Safari cannot even parse it.
  const PHONE_RE = /(^|[^0-9])(96110|12381|110)(?![0-9])/g;

  function trimUrl(url) {
    let u = url.replace(/[.,;:!?'"]+$/, '');
    while (u.endsWith(')') && (u.match(/\(/g) || []).length < (u.match(/\)/g) || []).length) {
      u = u.slice(0, -1).replace(/[.,;:!?'"]+$/, '');
    }
    return u;
  }

  function appendPhones(frag, text) {
    PHONE_RE.lastIndex = 0;
    let last = 0;
    let m;
    while ((m = PHONE_RE.exec(text)) !== null) {
      const start = m.index + m[1].length;
      if (start > last) frag.append(text.slice(last, start));
      const a = document.createElement('a');
      a.href = 'tel:' + m[2];
      a.className = 'tel-link';
      a.textContent = m[2];
      frag.append(a);
      last = start + m[2].length;
      PHONE_RE.lastIndex = last;
    }
    if (last < text.length) frag.append(text.slice(last));
  }

  function linkify(text) {
    const frag = document.createDocumentFragment();
    const s = String(text == null ? '' : text);
    URL_RE.lastIndex = 0;
    let last = 0;
    let m;
    while ((m = URL_RE.exec(s)) !== null) {
      const url = trimUrl(m[0]);
      appendPhones(frag, s.slice(last, m.index));
      const a = document.createElement('a');
      a.href = url;
      a.target = '_blank';
      a.rel = 'noreferrer noopener';
      a.textContent = url;
      frag.append(a);
      last = m.index + url.length;
      URL_RE.lastIndex = last;
    }
    appendPhones(frag, s.slice(last));
    return frag;
  }

  /* ---------- UI chrome strings ---------- */

  function applyStrings() {
    els.html.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.title = t('pageTitle');
    document.querySelectorAll('[data-i18n]').forEach((el) => {
      el.textContent = t(el.dataset.i18n, el.dataset.i18nVars ? JSON.parse(el.dataset.i18nVars) : null);
    });
    document.querySelectorAll('[data-i18n-rich]').forEach((el) => {
      el.replaceChildren(linkify(t(el.dataset.i18nRich)));
    });
    document.querySelectorAll('[data-i18n-aria]').forEach((el) => {
      el.setAttribute('aria-label', t(el.dataset.i18nAria));
    });
    document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => {
      el.placeholder = t(el.dataset.i18nPlaceholder);
    });
    document.querySelectorAll('img.avatar[data-i18n-alt]').forEach((el) => {
      el.alt = t(el.dataset.i18nAlt);
    });
    // The toggle shows the *other* language's name, written in that language.
    els.langToggle.lang = lang === 'zh' ? 'en' : 'zh-CN';
  }

  async function loadStrings() {
    try {
      const res = await fetch('static/strings.json', { cache: 'no-cache' });
      if (res.ok) strings = await res.json();
    } catch (e) {
      // Keep the zh defaults already in the HTML.
    }
  }

  /* ---------- message list ---------- */

  function pad2(n) { return String(n).padStart(2, '0'); }

  function formatTime(ts) {
    const d = new Date(ts * 1000);
    const hm = pad2(d.getHours()) + ':' + pad2(d.getMinutes());
    const today = new Date();
    if (d.toDateString() === today.toDateString()) return hm;
    return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ' + hm;
  }

  function maybeTimeSeparator(ts) {
    if (lastTimestamp === null || ts - lastTimestamp > GAP_SECONDS) {
      const sep = document.createElement('div');
      sep.className = 'time-sep';
      const time = document.createElement('time');
      time.dateTime = new Date(ts * 1000).toISOString();
      time.textContent = formatTime(ts);
      sep.append(time);
      els.messages.append(sep);
    }
    lastTimestamp = ts;
  }

  function scrollToBottom() {
    els.scroller.scrollTop = els.scroller.scrollHeight;
  }

  function isCritical(custom) {
    if (!custom || typeof custom !== 'object') return false;
    if (custom.risk_level === 'critical') return true;
    return !!(custom.analysis && custom.analysis.risk_level === 'critical');
  }

  const SVG_NS = 'http://www.w3.org/2000/svg';

  function warningIcon() {
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', '1.2em');
    svg.setAttribute('height', '1.2em');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    svg.classList.add('warn-icon');
    const tri = document.createElementNS(SVG_NS, 'path');
    tri.setAttribute('d', 'M12 2 L23 21 H1 Z');
    tri.setAttribute('fill', 'currentColor');
    const mark = document.createElementNS(SVG_NS, 'path');
    mark.setAttribute('d', 'M11 9 h2 v6 h-2 z M11 16.5 h2 v2 h-2 z');
    mark.setAttribute('fill', '#ffffff');
    svg.append(tri, mark);
    return svg;
  }

  function markCritical(row) {
    if (row.classList.contains('msg-critical')) return;
    row.classList.add('msg-critical');
    row.setAttribute('role', 'alert');
    let bubble = row.querySelector('.bubble');
    if (!bubble) {
      bubble = document.createElement('div');
      bubble.className = 'bubble';
      row.querySelector('.msg-body').prepend(bubble);
    }
    const label = document.createElement('div');
    label.className = 'critical-label';
    const span = document.createElement('span');
    span.dataset.i18n = 'criticalLabel';
    span.textContent = t('criticalLabel');
    label.append(warningIcon(), span);
    bubble.prepend(label);
  }

  function botAvatar() {
    const img = document.createElement('img');
    img.className = 'avatar';
    img.src = 'static/avatar.svg';
    img.width = 40;
    img.height = 40;
    img.dataset.i18nAlt = 'avatarAlt';
    img.alt = t('avatarAlt');
    return img;
  }

  function safeImageUrl(url) {
    return typeof url === 'string' && (/^https?:\/\//i.test(url) || url.startsWith('/')) ? url : null;
  }

  function appendBot(msg, ts) {
    maybeTimeSeparator(ts);
    const row = document.createElement('div');
    row.className = 'msg msg-bot';
    const body = document.createElement('div');
    body.className = 'msg-body';

    const image = safeImageUrl(msg.image);
    if (msg.text || image) {
      const bubble = document.createElement('div');
      bubble.className = 'bubble';
      if (msg.text) {
        const text = document.createElement('div');
        text.className = 'bubble-text';
        text.append(linkify(msg.text));
        bubble.append(text);
      }
      if (image) {
        const img = document.createElement('img');
        img.className = 'bubble-image';
        img.src = image;
        img.alt = t('imageAlt');
        bubble.append(img);
      }
      body.append(bubble);
    }

    const buttons = Array.isArray(msg.buttons) ? msg.buttons.filter((b) => b && (b.title || b.payload)) : [];
    if (buttons.length) {
      const group = document.createElement('div');
      group.className = 'quick-replies';
      group.setAttribute('role', 'group');
      buttons.forEach((b) => {
        const title = String(b.title || b.payload);
        const payload = String(b.payload || b.title);
        const btn = document.createElement('button');
        btn.type = 'button';
        btn.className = 'quick-reply';
        btn.textContent = title;
        btn.setAttribute('aria-label', title);
        btn.dataset.payload = payload;
        btn.addEventListener('click', (ev) => {
          if (btn.disabled) return;
          btn.classList.add('chosen');
          sendMessage(payload, title);
          // detail === 0: activated from the keyboard; on touch, don't pop the keyboard up.
          if (ev.detail === 0) els.input.focus();
        });
        group.append(btn);
      });
      body.append(group);
    }

    row.append(botAvatar(), body);
    els.messages.append(row);
    scrollToBottom();
    return row;
  }

  /* A REST channel sends `custom` as its own message right after the text it belongs
   * to, so a custom-only critical message flags the bubble before it. */
  function renderBotBatch(messages, ts) {
    let prev = null;
    messages.forEach((m) => {
      if (!m || typeof m !== 'object') return;
      const critical = isCritical(m.custom);
      const hasContent = m.text || safeImageUrl(m.image) || (Array.isArray(m.buttons) && m.buttons.length);
      if (hasContent) {
        prev = appendBot(m, ts);
        if (critical) markCritical(prev);
        // A number or link the person sent is on the reported list: the note stands out.
        else if (m.custom && m.custom.reported) prev.classList.add('msg-reported');
      } else if (critical) {
        if (!prev) {
          const a = m.custom.analysis || {};
          const summary = a.risk_title || a.scam_name || m.custom.risk_title || '';
          prev = appendBot({ text: summary }, ts);
        }
        markCritical(prev);
      }
    });
    return prev;
  }

  function userAvatar() {
    const box = document.createElement('div');
    box.className = 'avatar avatar-user';
    box.setAttribute('aria-hidden', 'true');
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 40 40');
    svg.setAttribute('focusable', 'false');
    const head = document.createElementNS(SVG_NS, 'circle');
    head.setAttribute('cx', '20');
    head.setAttribute('cy', '15');
    head.setAttribute('r', '7');
    const shoulders = document.createElementNS(SVG_NS, 'path');
    shoulders.setAttribute('d', 'M6 36 C7 27 13 24 20 24 C27 24 33 27 34 36 Z');
    head.setAttribute('fill', '#ffffff');
    shoulders.setAttribute('fill', '#ffffff');
    svg.append(head, shoulders);
    box.append(svg);
    return box;
  }

  function appendUser(text, ts) {
    maybeTimeSeparator(ts);
    const row = document.createElement('div');
    row.className = 'msg msg-user';
    const avatar = userAvatar();
    const body = document.createElement('div');
    body.className = 'msg-body';
    const bubble = document.createElement('div');
    bubble.className = 'bubble';
    const span = document.createElement('div');
    span.className = 'bubble-text';
    span.append(linkify(text));
    bubble.append(span);
    body.append(bubble);
    row.append(avatar, body);
    els.messages.append(row);
    scrollToBottom();
    return row;
  }

  function staffAvatar() {
    const box = userAvatar();
    box.className = 'avatar avatar-staff';
    return box;
  }

  // A hotline staff member's message: on the other side like the assistant's, in its own colour and labelled.
  function appendStaff(msg, ts) {
    maybeTimeSeparator(ts);
    const row = document.createElement('div');
    row.className = 'msg msg-staff';
    const body = document.createElement('div');
    body.className = 'msg-body';
    const bubble = document.createElement('div');
    bubble.className = 'bubble';
    const label = document.createElement('div');
    label.className = 'staff-label';
    label.dataset.i18n = 'staffLabel';
    label.textContent = t('staffLabel');
    const text = document.createElement('div');
    text.className = 'bubble-text';
    text.append(linkify(msg.text));
    bubble.append(label, text);
    body.append(bubble);
    row.append(staffAvatar(), body);
    els.messages.append(row);
    scrollToBottom();
    return row;
  }

  function appendNote(key) {
    const note = document.createElement('div');
    note.className = 'sys-note';
    note.dataset.i18n = key;
    note.textContent = t(key);
    els.messages.append(note);
  }

  function showWelcome() {
    const row = appendBot({ text: t('welcome') }, nowSeconds());
    row.classList.add('msg-welcome');
    row.querySelector('.bubble-text').dataset.i18nRich = 'welcome';
  }

  function disableQuickReplies(scope) {
    (scope || els.messages).querySelectorAll('.quick-reply').forEach((b) => { b.disabled = true; });
  }

  /* ---------- sending ---------- */

  function setTyping(delta) {
    pending = Math.max(0, pending + delta);
    els.typing.hidden = pending === 0;
    if (pending) scrollToBottom();
  }

  function showSendError(row, payload, err) {
    const old = row.querySelector('.send-error');
    if (old) old.remove();
    row.classList.add('msg-failed');
    const box = document.createElement('div');
    box.className = 'send-error';
    box.setAttribute('role', 'alert');
    const text = document.createElement('span');
    text.className = 'send-error-text';
    if (err.kind === 'timeout') {
      text.dataset.i18n = 'errorTimeout';
    } else if (err.kind === 'server') {
      text.dataset.i18n = 'errorServer';
      text.dataset.i18nVars = JSON.stringify({ status: err.status });
    } else {
      text.dataset.i18n = 'errorNetwork';
    }
    text.textContent = t(text.dataset.i18n, err.kind === 'server' ? { status: err.status } : null);
    box.append(text);
    if (err.detail) {
      const detail = document.createElement('span');
      detail.className = 'send-error-detail';
      detail.textContent = err.detail;
      box.append(detail);
    }
    const retry = document.createElement('button');
    retry.type = 'button';
    retry.className = 'retry-button';
    retry.dataset.i18n = 'retry';
    retry.dataset.i18nAria = 'retryAria';
    retry.textContent = t('retry');
    retry.setAttribute('aria-label', t('retryAria'));
    retry.addEventListener('click', () => {
      box.remove();
      row.classList.remove('msg-failed');
      enqueue(payload, row);
      els.input.focus({ preventScroll: true });
    });
    box.append(retry);
    row.querySelector('.msg-body').append(box);
    scrollToBottom();
  }

  // A screenshot goes as the image itself; the reply names the text read from it.
  function request(payload, conversation, signal) {
    if (payload instanceof Blob) {
      const query = 'sender=' + encodeURIComponent(conversation) + '&lang=' + encodeURIComponent(lang);
      return fetch('image?' + query, {
        method: 'POST', headers: { 'Content-Type': payload.type, Accept: 'application/json' }, body: payload, signal,
      });
    }
    return fetch('webhook', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ sender: conversation, message: payload, metadata: { lang } }),
      signal,
    });
  }

  function showReadText(row, read) {
    const span = row.querySelector('.bubble-text');
    if (!span || !read || typeof read.text !== 'string') return;
    span.replaceChildren(linkify(read.text));
  }

  async function post(payload, row, gen, conversation) {
    if (gen !== generation) return;
    setTyping(1);
    const ctrl = new AbortController();
    inflight = ctrl;
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; ctrl.abort(); }, TIMEOUT_MS);
    try {
      const res = await request(payload, conversation, ctrl.signal);
      if (!res.ok) {
        let detail = '';
        try {
          const j = await res.json();
          detail = (j && (j.message || j.error)) || '';
        } catch (e) { /* not JSON */ }
        throw { kind: 'server', status: res.status, detail: String(detail) };
      }
      let data;
      try {
        data = await res.json();
      } catch (e) {
        if (timedOut) throw e;
        throw { kind: 'server', status: res.status, detail: '' };
      }
      if (gen !== generation) return;
      if (payload instanceof Blob && data && typeof data === 'object' && !Array.isArray(data)) {
        showReadText(row, data.read);
        data = data.messages;
      }
      // Staff hold the chat: the reply is empty (X-Handoff: with_staff) and they answer here themselves.
      const replies = Array.isArray(data) ? data : [];
      renderBotBatch(replies, nowSeconds());
      followHandoff(replies, res.headers.get('X-Handoff'));
    } catch (err) {
      if (gen !== generation) return;
      const kind = err && err.kind ? err.kind : timedOut ? 'timeout' : 'network';
      showSendError(row, payload, Object.assign({ kind }, err && err.kind ? err : {}));
    } finally {
      clearTimeout(timer);
      if (inflight === ctrl) inflight = null;
      if (gen === generation) setTyping(-1);
    }
  }

  function enqueue(payload, row) {
    const gen = generation;
    const conversation = sender;
    queue = queue.then(() => post(payload, row, gen, conversation));
  }

  function sendMessage(payload, displayText) {
    disableQuickReplies();
    const row = appendUser(displayText == null ? payload : displayText, nowSeconds());
    if (payload instanceof Blob) row.classList.add('msg-image');
    enqueue(payload, row);
  }

  const MAX_IMAGE_BYTES = 8 * 1024 * 1024;

  function sendImage() {
    const file = els.imageInput.files && els.imageInput.files[0];
    els.imageInput.value = '';
    if (!file) return;
    if (file.size > MAX_IMAGE_BYTES) {
      appendNote('imageTooLarge');
      return;
    }
    sendMessage(file, t('imageReading'));
  }

  /* ---------- input ---------- */

  function autosize() {
    const el = els.input;
    el.style.height = 'auto';
    const max = parseFloat(getComputedStyle(el).lineHeight) * 5 + 16;
    el.style.height = Math.min(el.scrollHeight, max || 160) + 'px';
  }

  function submitInput() {
    const text = els.input.value.trim();
    if (!text) {
      els.input.focus();
      return;
    }
    try {
      sendMessage(text);
    } catch (e) {
      // The bubble was not added: leave the text where it is.
      console.error(e);
      return;
    }
    els.input.value = '';
    store.remove(KEY_DRAFT);
    autosize();
  }

  /* ---------- history ---------- */

  async function loadHistory() {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), TIMEOUT_MS);
    const gen = generation;
    let messages;
    let state = null;
    try {
      const res = await fetch('history?sender=' + encodeURIComponent(sender), {
        headers: { Accept: 'application/json' },
        signal: ctrl.signal,
      });
      if (res.status === 404) {
        messages = [];
      } else {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        const data = await res.json();
        messages = data && Array.isArray(data.messages) ? data.messages : [];
        state = data ? data.handoff : null;
      }
    } catch (e) {
      if (gen !== generation) return;
      showWelcome();
      appendNote('historyError');
      return;
    } finally {
      clearTimeout(timer);
    }
    if (gen !== generation) return;
    noteTimestamps(messages);
    if (!messages.length) showWelcome();
    else renderHistory(messages);
    if (HANDOFF_ACTIVE.indexOf(state) >= 0) setHandoff(state);
  }

  function renderHistory(messages) {
    let batch = [];
    let batchTs = null;
    let lastBatchRows = [];
    const flush = () => {
      if (!batch.length) return;
      const start = els.messages.children.length;
      renderBotBatch(batch, batchTs);
      lastBatchRows = Array.from(els.messages.children).slice(start);
      batch = [];
    };
    messages.forEach((m) => {
      if (!m || typeof m !== 'object') return;
      const ts = typeof m.timestamp === 'number' ? m.timestamp : nowSeconds();
      if (m.role === 'staff') {
        flush();
        appendStaff(m, ts);
      } else if (m.role === 'user') {
        flush();
        const fromImage = m.source === 'image';
        // The server stores a clicked button's payload ("/affirm"); show its title instead.
        let shown = m.text == null ? '' : String(m.text);
        lastBatchRows.forEach((row) => {
          row.querySelectorAll('.quick-reply').forEach((b) => {
            if (b.dataset.payload === shown) {
              b.classList.add('chosen');
              shown = b.textContent;
            }
          });
          disableQuickReplies(row);
        });
        lastBatchRows = [];
        const row = appendUser(shown, ts);
        if (fromImage) row.classList.add('msg-image');
      } else {
        if (!batch.length) batchTs = ts;
        batch.push(m);
      }
    });
    flush();
    scrollToBottom();
  }

  /* ---------- a hotline staff member in the chat ---------- */

  function noteTimestamps(messages) {
    messages.forEach((m) => {
      const ts = m && typeof m.timestamp === 'number' ? m.timestamp : null;
      if (ts !== null && (pollAfter === null || ts > pollAfter)) pollAfter = ts;
    });
  }

  function handoffOf(m) {
    return m && typeof m === 'object' && m.custom && typeof m.custom.handoff === 'string' ? m.custom.handoff : null;
  }

  // A reply to the person's own message: "asked for staff" (waiting), or the chat is held by staff.
  function followHandoff(replies, header) {
    let state = null;
    replies.forEach((m) => { state = handoffOf(m) || state; });
    if (!state && header === 'with_staff') state = 'with_staff';
    if (state) setHandoff(state);
  }

  function setHandoff(state) {
    if (HANDOFF_ACTIVE.indexOf(state) < 0) {
      handoff = null;
      clearInterval(pollTimer);
      pollTimer = null;
      showHandoffStatus(null);
      return;
    }
    handoff = state;
    showHandoffStatus(state === 'waiting' ? 'handoffWaiting' : 'handoffWithStaff');
    if (!pollTimer) {
      pollTimer = setInterval(pollHistory, HANDOFF_POLL_MS);
      // Nothing seen yet: learn the latest timestamp now, so no staff message slips in before it.
      if (pollAfter === null) pollHistory();
    }
  }

  function showHandoffStatus(key) {
    const line = handoffStatus;
    if (!line) return;
    line.hidden = !key;
    line.dataset.state = key ? handoff : '';
    if (key) {
      line.dataset.i18n = key;
      line.textContent = t(key);
    } else {
      delete line.dataset.i18n;
      line.textContent = '';
    }
  }

  /* Only what no reply of our own brought: the staff's messages and the "staff joined / left" notes. The
   * "waiting" note came with the reply to the person's request; the first look (no `after`) shows only
   * what came after that note. */
  async function pollHistory() {
    if (polling || !handoff) return;
    polling = true;
    const gen = generation;
    const first = pollAfter === null;
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), TIMEOUT_MS);
    try {
      let url = 'history?sender=' + encodeURIComponent(sender);
      if (!first) url += '&after=' + encodeURIComponent(String(pollAfter));
      const res = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store', signal: ctrl.signal });
      if (!res.ok) return; // looked for again at the next tick
      const data = await res.json();
      if (gen !== generation || !handoff || !data || typeof data !== 'object') return;
      const messages = Array.isArray(data.messages) ? data.messages : [];
      let fresh = messages;
      if (first) {
        let asked = -1;
        messages.forEach((m, i) => { if (m && m.role === 'bot' && handoffOf(m) === 'waiting') asked = i; });
        fresh = asked >= 0 ? messages.slice(asked + 1) : [];
      }
      noteTimestamps(messages);
      let ended = false;
      fresh.forEach((m) => {
        if (!m || typeof m !== 'object') return;
        const ts = typeof m.timestamp === 'number' ? m.timestamp : nowSeconds();
        const note = handoffOf(m);
        if (m.role === 'staff') {
          appendStaff(m, ts);
        } else if (m.role === 'bot' && note && note !== 'waiting') {
          renderBotBatch([m], ts);
          if (note === 'ended') ended = true;
        }
      });
      // "ended", or the history no longer names a handoff: the assistant answers again, stop looking.
      setHandoff(ended ? null : data.handoff);
    } catch (e) {
      // Offline for a moment: looked for again at the next tick.
    } finally {
      clearTimeout(timer);
      polling = false;
    }
  }

  /* ---------- header controls ---------- */

  function setLargeText(on) {
    els.html.classList.toggle('large-text', on);
    els.sizeToggle.setAttribute('aria-pressed', on ? 'true' : 'false');
    store.set(KEY_LARGE, on ? '1' : '0');
    autosize();
    scrollToBottom();
  }

  function startNewConversation() {
    if (!window.confirm(t('confirmNewChat'))) return;
    generation++;
    if (inflight) inflight.abort();
    inflight = null;
    queue = Promise.resolve();
    pending = 0;
    setTyping(0);
    sender = newConversationId();
    store.set(KEY_SENDER, sender);
    els.messages.replaceChildren();
    lastTimestamp = null;
    setHandoff(null);
    pollAfter = null;
    showWelcome();
    els.input.focus();
  }

  /* ---------- start-up ---------- */

  function init() {
    const savedLang = store.get(KEY_LANG);
    lang = LANGS.indexOf(savedLang) >= 0 ? savedLang : 'zh';
    setLargeText(store.get(KEY_LARGE) === '1');

    sender = store.get(KEY_SENDER);
    if (!sender) {
      sender = newConversationId();
      store.set(KEY_SENDER, sender);
    }

    // The line above the composer while staff are asked for or in the chat.
    handoffStatus = document.createElement('div');
    handoffStatus.id = 'handoff-status';
    handoffStatus.className = 'handoff-status';
    handoffStatus.setAttribute('role', 'status');
    handoffStatus.hidden = true;
    els.form.before(handoffStatus);

    const draft = store.get(KEY_DRAFT);
    if (draft) els.input.value = draft;
    autosize();

    els.form.addEventListener('submit', (e) => {
      e.preventDefault();
      submitInput();
    });
    els.imageButton.addEventListener('click', () => els.imageInput.click());
    els.imageInput.addEventListener('change', sendImage);
    els.input.addEventListener('keydown', (e) => {
      // isComposing / 229: Enter confirms a pinyin IME candidate, it must not send.
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submitInput();
      }
    });
    els.input.addEventListener('input', () => {
      if (els.input.value) store.set(KEY_DRAFT, els.input.value);
      else store.remove(KEY_DRAFT);
      autosize();
    });
    els.langToggle.addEventListener('click', () => {
      lang = lang === 'zh' ? 'en' : 'zh';
      store.set(KEY_LANG, lang);
      applyStrings();
    });
    els.sizeToggle.addEventListener('click', () => {
      setLargeText(!els.html.classList.contains('large-text'));
    });
    els.newChat.addEventListener('click', startNewConversation);

    loadStrings().then(() => {
      applyStrings();
      return loadHistory();
    });
  }

  init();
})();
