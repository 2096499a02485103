// The live stream (Server-Sent Events at /api/stream) with its connection indicator.
// Messages are handed over in batches of up to 100 ms, so a burst of a thousand updates
// costs a few redraws instead of a thousand, well inside the one-second promise. After any interruption the page reloads its data, since
// messages sent in between are gone.
import { getJSON } from './api.js';
import { onLanguageChange, t } from './i18n.js';

const KINDS = ['task', 'grid', 'incident', 'event', 'device', 'resync'];
const BATCH_MS = 100;
const REOPEN_MS = 3000;

export class LiveStream {
  constructor({ onMessages, onReconnected }) {
    this.onMessages = onMessages;
    this.onReconnected = onReconnected;
    this.element = document.getElementById('live-status');
    this.queue = [];
    this.timer = null;
    this.interrupted = false;
    this.received = 0;
    this.state = 'connecting';
    onLanguageChange(() => this.setState(this.state));
  }

  start() {
    const source = new EventSource('/api/stream');
    this.source = source;
    source.onopen = () => {
      this.setState('live');
      if (this.interrupted) {
        this.interrupted = false;
        this.onReconnected();
      }
    };
    source.onerror = () => {
      this.interrupted = true;
      if (source.readyState === EventSource.CLOSED) {
        this.setState('offline');
        setTimeout(() => this.restart(), REOPEN_MS);
      } else {
        this.setState('reconnecting');
      }
    };
    for (const kind of KINDS) source.addEventListener(kind, (event) => this.receive(kind, event.data));
  }

  /** The server refused the stream: if the session ended, api.js sends the user to log in. */
  async restart() {
    try {
      await getJSON('/api/auth/me');
    } catch {
      setTimeout(() => this.restart(), REOPEN_MS);
      return;
    }
    this.start();
  }

  receive(kind, data) {
    this.received += 1;
    this.queue.push({ kind, message: JSON.parse(data) });
    this.timer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  flush() {
    const batch = this.queue;
    this.queue = [];
    this.timer = null;
    this.onMessages(batch);
  }

  setState(state) {
    this.state = state;
    this.element.dataset.state = state;
    this.element.querySelector('.live-text').textContent = t(`live.${state}`);
  }
}
