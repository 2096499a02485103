// Short notices in a corner: new urgent tasks, results of actions.
import { h } from './dom.js';

const SHOW_MS = 6000;
const MAX_TOASTS = 5;

export function toast(text, kind = 'info', onclick = null) {
  const box = document.getElementById('toasts');
  const item = h('div', { class: `toast ${kind}${onclick ? ' clickable' : ''}`, role: 'status', onclick }, text);
  box.append(item);
  while (box.children.length > MAX_TOASTS) box.firstElementChild.remove();
  setTimeout(() => item.remove(), SHOW_MS);
}
