// Shared by the staff console and the statistics page: storage that never throws
// (private modes disable it), the UI-string lookup with a Chinese fallback, and applying it to the page.
window.PageKit = (function () {
  'use strict';

  function storageGet(area, key) { try { return window[area].getItem(key); } catch (e) { return null; } }
  function storageSet(area, key, value) { try { window[area].setItem(key, value); } catch (e) { /* ignore */ } }

  function translate(strings, lang, key, vars) {
    const table = strings[lang] || {};
    const fallback = strings.zh || {};
    let s = key in table ? table[key] : key in fallback ? fallback[key] : key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
    return s;
  }

  // The strings file, or {} so the zh defaults already in the HTML stay.
  async function loadStrings(url) {
    try {
      const res = await fetch(url, { cache: 'no-cache' });
      if (res.ok) return await res.json();
    } catch (e) {
      // fall through
    }
    return {};
  }

  // The page's fixed texts in `lang`: html lang, title, data-i18n text, aria labels, placeholders.
  // `keep` is an element whose text the page manages itself at the moment (a busy button).
  function applyPageStrings(t, lang, langToggle, keep) {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.title = t('pageTitle');
    document.querySelectorAll('[data-i18n]').forEach((el) => {
      if (el !== keep) el.textContent = t(el.dataset.i18n);
    });
    document.querySelectorAll('[data-i18n-aria]').forEach((el) => {
      el.setAttribute('aria-label', t(el.dataset.i18nAria));
    });
    document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => {
      el.placeholder = t(el.dataset.i18nPlaceholder);
    });
    langToggle.lang = lang === 'zh' ? 'en' : 'zh-CN';
  }

  return { storageGet, storageSet, translate, loadStrings, applyPageStrings };
})();
