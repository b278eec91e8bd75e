// Shared by the staff console and the statistics page: storage that never throws
// (private modes disable it) and the UI-string lookup with a Chinese fallback.
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

  return { storageGet, storageSet, translate, loadStrings };
})();
