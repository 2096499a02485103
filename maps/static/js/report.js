// The residents' report page (/report): place on a small map or by GPS, category,
// description, a photo shrunk on the phone; then the follow-up link. The form token and
// the honeypot field are the page's spam checks (api/resident_reports.py).
import { createMap } from './basemap.js';
import { config } from './config.js';
import { h } from './dom.js';
import { applyTranslations, language, t, toggleLanguage } from './i18n.js';
import { shrinkPhoto } from './photo.js';

const main = document.getElementById('report-main');
const error = h('p', { class: 'error', role: 'alert', hidden: true });
const place = h('div', { id: 'report-map' });
const service = h('select', { id: 'report-service', name: 'service_code' },
  ...config.services.map((s) => h('option', { value: s.code }, language() === 'en' ? s.en : s.zh)));
const description = h('textarea', { id: 'report-description', rows: 4, maxlength: 2000, required: true });
const photo = h('input', { id: 'report-photo', type: 'file', accept: 'image/*' });
const phone = h('input', { id: 'report-phone', type: 'tel', maxlength: 20, autocomplete: 'tel' });
const trap = h('input', { name: 'website', tabindex: '-1', autocomplete: 'off' });
const submit = h('button', { id: 'report-submit', type: 'submit', class: 'primary' }, t('report.submit'));
const form = h('form', { id: 'report-form' },
  h('label', {}, t('report.place')), place,
  h('button', { type: 'button', id: 'report-gps', class: 'ghost', onclick: useGps }, t('report.gps')),
  h('label', { for: 'report-service' }, t('report.category')), service,
  h('label', { for: 'report-description' }, t('report.description')), description,
  h('label', { for: 'report-photo' }, t('report.photo')), photo,
  h('label', { for: 'report-phone' }, t('report.phone')), phone,
  h('div', { class: 'trap', 'aria-hidden': 'true' }, h('label', {}, 'Website'), trap),
  error, submit);
main.append(form);

const map = createMap(place);
if (config.bounds) map.fitBounds([[config.bounds[1], config.bounds[0]], [config.bounds[3], config.bounds[2]]]);
let marker = null;
function pick(latlng) {
  if (marker) marker.setLatLng(latlng);
  else marker = L.circleMarker(latlng, { radius: 9, color: '#d93025' }).addTo(map);
}
map.on('click', (event) => pick(event.latlng));
window.wangge = { map, pick: (lat, lon) => pick(L.latLng(lat, lon)) };

function useGps() {
  navigator.geolocation?.getCurrentPosition(
    (p) => { pick(L.latLng(p.coords.latitude, p.coords.longitude)); map.setView(marker.getLatLng(), 17); },
    () => show(t('report.no_gps')),
    { enableHighAccuracy: true, timeout: 10000 },
  );
}

function show(text) {
  error.textContent = text;
  error.hidden = false;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.hidden = true;
  if (!marker) return show(t('report.no_place'));
  submit.disabled = true;
  submit.textContent = t('report.sending');
  const body = new FormData();
  const { lat, lng } = marker.getLatLng();
  body.set('service_code', service.value);
  body.set('description', description.value);
  body.set('lat', lat.toFixed(7));
  body.set('long', lng.toFixed(7));
  body.set('form_token', config.form_token);
  body.set('website', trap.value);
  if (phone.value.trim()) body.set('phone', phone.value.trim());
  try {
    if (photo.files[0]) body.set('media', await shrinkPhoto(photo.files[0]), 'photo.jpg');
    // credentials: 'omit' — the report is the resident's: a staff login on this phone is
    // neither needed nor sent (its cookie would make the CSRF check ask for a token).
    const response = await fetch('/api/open311/v2/requests.json', { method: 'POST', body, credentials: 'omit' });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.detail);
    const [{ service_request_id: id, token }] = answer;
    const link = `/report/follow/${token}`;
    main.replaceChildren(h('p', { id: 'report-done' }, t('report.done', { id })),
      h('p', {}, h('a', { id: 'report-follow', href: link }, `${location.origin}${link}`)),
      h('p', {}, h('a', { href: link, class: 'primary' }, t('report.follow'))));
  } catch (failure) {
    show(t('report.failed', { detail: failure.message }));
    submit.disabled = false;
    submit.textContent = t('report.submit');
  }
});
document.getElementById('lang-toggle').addEventListener('click', () => { toggleLanguage(); location.reload(); });
applyTranslations();
document.title = t('report.title');
