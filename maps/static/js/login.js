// The login page: JSON to /api/auth/login, which sets the HttpOnly cookie; then on to the map.
import { config } from './config.js';
import { applyTranslations, t, toggleLanguage } from './i18n.js';

/** Only a path on this site: never an open redirect to another host. */
function nextPath() {
  const next = config.next || '/map';
  return next.startsWith('/') && !next.startsWith('//') ? next : '/map';
}

const form = document.getElementById('login-form');
const error = document.getElementById('login-error');
const submit = document.getElementById('login-submit');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.hidden = true;
  submit.disabled = true;
  try {
    const response = await fetch('/api/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ username: form.username.value.trim(), password: form.password.value }),
    });
    if (response.ok) {
      window.location.assign(nextPath());
      return;
    }
    error.textContent = t(response.status === 401 ? 'login.wrong' : 'login.failed', { status: response.status });
  } catch {
    error.textContent = t('login.unreachable');
  } finally {
    submit.disabled = false;
  }
  error.hidden = false;
});
document.getElementById('lang-toggle').addEventListener('click', toggleLanguage);
applyTranslations();
