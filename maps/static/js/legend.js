// The legend: what the colours mean, and which base layer is showing.
import { config } from './config.js';
import { fill, h } from './dom.js';
import { label, onLanguageChange, t } from './i18n.js';
import { GRID_STATES } from './grids.js';

function item(swatch, text) {
  return h('li', {}, h('span', { class: `swatch ${swatch}` }), h('span', {}, text));
}

export function addLegend(map) {
  const control = L.control({ position: 'bottomleft' });
  const element = h('div', { class: 'legend' });
  const render = () =>
    fill(element,
      h('h4', {}, t('legend.grids')),
      h('ul', {}, ...GRID_STATES.map((state) => item(`grid-${state}`, label('grid', state)))),
      h('h4', {}, t('legend.tasks')),
      h('ul', {}, item('task urgent', label('urgency', 'urgent')), item('task normal', label('urgency', 'normal'))),
      h('h4', {}, t('legend.devices')),
      h('ul', {}, item('device online', t('device.online')), item('device offline', t('device.offline'))),
      h('p', { class: 'legend-note' }, t('legend.buildings', { zoom: config.buildings_min_zoom })),
    );
  control.onAdd = () => {
    render();
    L.DomEvent.disableClickPropagation(element);
    return element;
  };
  onLanguageChange(render);
  control.addTo(map);
  const notice = document.getElementById('base-notice');
  const renderNotice = () => {
    notice.textContent = t(config.base.notice);
    notice.dataset.base = config.base.kind;
  };
  renderNotice();
  onLanguageChange(renderNotice);
}
