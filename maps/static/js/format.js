// Times and deadlines for people: local time, minutes left or overdue.
import { language, t } from './i18n.js';

export function formatTime(iso) {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(language(), {
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
}

function duration(ms) {
  const minutes = Math.round(Math.abs(ms) / 60000);
  if (minutes < 60) return t('time.minutes', { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return t('time.hours', { n: hours, m: minutes % 60 });
  return t('time.days', { n: Math.floor(hours / 24) });
}

/** "剩余 25 分钟" / "超期 5 分钟", or null without a deadline. */
export function formatDue(dueAt, now = Date.now()) {
  if (!dueAt) return null;
  const left = Date.parse(dueAt) - now;
  return left >= 0 ? t('due.left', { d: duration(left) }) : t('due.over', { d: duration(left) });
}
