// UI strings: one table for both languages (maps/static/i18n.json), Chinese first.
// The choice is kept in a cookie, so the server renders the next page in it too.
import { config } from './config.js';

const table = config.i18n;
const listeners = [];
let current = table[config.lang] ? config.lang : 'zh-CN';

export function language() {
  return current;
}

export function t(key, vars = {}) {
  const text = table[current][key] ?? table['zh-CN'][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** The label of a key family member, e.g. label('state', 'dispatched'); the raw value if unknown. */
export function label(family, value) {
  const key = `${family}.${value}`;
  return key in table[current] || key in table['zh-CN'] ? t(key) : String(value);
}

export function applyTranslations(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  document.title = t(document.body.classList.contains('login-page') ? 'login.title' : 'app.title');
}

export function onLanguageChange(listener) {
  listeners.push(listener);
}

function setLanguage(lang) {
  current = table[lang] ? lang : 'zh-CN';
  document.cookie = `${config.lang_cookie}=${current}; path=/; max-age=31536000; samesite=lax`;
  applyTranslations();
  for (const listener of listeners) listener(current);
}

export function toggleLanguage() {
  setLanguage(current === 'zh-CN' ? 'en' : 'zh-CN');
}
