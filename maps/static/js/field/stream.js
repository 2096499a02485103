// The live stream (GET /api/stream, Server-Sent Events) read with fetch, so the bearer
// token can travel in a header (EventSource cannot send one). After any break the app
// reloads its tasks (resync): messages sent meanwhile are gone.
import { authHeaders } from './net.js';

const REOPEN_MS = 3000;

export class FieldStream {
  constructor({ onMessage, onResync, onState }) {
    this.onMessage = onMessage;
    this.onResync = onResync;
    this.onState = onState;
    this.stopped = false;
    this.controller = null;
  }

  async start() {
    let first = true;
    while (!this.stopped) {
      try {
        this.controller = new AbortController();
        const response = await fetch('/api/stream', {
          headers: authHeaders(),
          cache: 'no-store',
          credentials: 'omit',
          signal: this.controller.signal,
        });
        if (response.status === 401) {
          this.onState('offline');
          return;
        }
        if (!response.ok) throw new Error(`stream ${response.status}`);
        this.onState('live');
        if (!first) this.onResync();
        first = false;
        await this.read(response.body);
      } catch {
        // offline, or the link broke: try again below
      }
      first = false;
      if (this.stopped) return;
      this.onState(navigator.onLine ? 'reconnecting' : 'offline');
      await new Promise((resolve) => setTimeout(resolve, REOPEN_MS));
    }
  }

  stop() {
    this.stopped = true;
    this.controller?.abort();
  }

  /** Break the connection now (the network came back: do not wait for a timeout). */
  reconnect() {
    this.controller?.abort();
  }

  async read(body) {
    // TextDecoder rather than TextDecoderStream: older WebViews (WeChat's X5) lack the latter.
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        this.dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
      }
    }
  }

  dispatch(block) {
    let kind = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) kind = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    }
    if (kind === 'resync') this.onResync();
    else if (data.length) this.onMessage(kind, JSON.parse(data.join('\n')));
  }
}
