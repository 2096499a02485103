// Web Push where the browser has it and a push service is reachable (not inside
// WeChat/WeCom, not from mainland China to Google's service, not on an intranet): the
// worker turns it on once under "我的"; the subscription is stored for this device session
// and the urgent ladder's first step pushes to it. Alerts never depend on it: the stream,
// WeCom/DingTalk, SMS and voice still go out.
import { api } from './net.js';

export function pushSupported() {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window && window.isSecureContext;
}

function keyBytes(base64url) {
  const raw = atob(base64url.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/** Subscribe (asking permission if need be) and tell the API: 'on' | 'off' | 'denied' | 'unavailable'. */
export async function subscribePush({ ask }) {
  if (!pushSupported()) return 'unavailable';
  const config = await api('/api/field/push');
  if (!config.enabled) return 'unavailable';
  const permission = ask ? await Notification.requestPermission() : Notification.permission;
  if (permission !== 'granted') return permission === 'denied' ? 'denied' : 'off';
  const registration = await navigator.serviceWorker.ready;
  const subscription =
    (await registration.pushManager.getSubscription()) ||
    (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(config.public_key) }));
  const { endpoint, keys } = subscription.toJSON();
  await api('/api/field/push/subscription', { method: 'POST', json: { endpoint, keys } });
  return 'on';
}
