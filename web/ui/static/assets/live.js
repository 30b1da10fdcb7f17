// The WebSocket client for /ws (protocol: realtime/doc.go). It remembers the
// position of the last message and, after any close, reconnects with
// since=<position> so it gets exactly what it missed (or a snapshot), with
// an exponential backoff from 1 s to 30 s. It never gives up.

const MIN_DELAY = 1000;
const MAX_DELAY = 30000;
// A ping every HEARTBEAT; no message at all for SILENCE means the
// connection is dead even if the browser has not noticed yet.
const HEARTBEAT = 20000;
const SILENCE = 45000;

/** States a LiveClient reports through onState. */
export const State = Object.freeze({
  CONNECTING: 'connecting',
  LIVE: 'live',
  RECONNECTING: 'reconnecting',
});

export class LiveClient {
  /**
   * params: query parameters besides since (topics, comunas, token).
   * onMessage(msg): every server message except pong.
   * onState(state, {delay}): connection state changes.
   * onFailedOpen(): a connection closed without ever opening (handshake
   * refused or server down), e.g. to check whether the session expired.
   */
  constructor({ params = {}, onMessage, onState = () => {}, onFailedOpen = () => {} }) {
    this.params = params;
    this.onMessage = onMessage;
    this.onState = onState;
    this.onFailedOpen = onFailedOpen;
    this.position = '';
    this.delay = MIN_DELAY;
    this.ws = null;
    this.timer = 0;
    this.heartbeat = 0;
    this.stopped = true;
    this.lastSeen = 0;
    this.onOnline = () => this.reconnectNow();
  }

  /** start connects, resuming after position when given. */
  start(position = '') {
    this.position = position || '';
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    this.setState(State.CONNECTING);
    this.connect();
  }

  /** stop closes the connection for good. */
  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    clearTimeout(this.timer);
    this.drop();
  }

  /** reconnectNow skips the remaining backoff (the network came back). */
  reconnectNow() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.timer);
    this.delay = MIN_DELAY;
    this.connect();
  }

  url() {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(this.params)) {
      if (v) q.set(k, v);
    }
    if (this.position) q.set('since', this.position);
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${window.location.host}/ws?${q}`;
  }

  connect() {
    this.timer = 0;
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.addEventListener('open', () => {
      if (this.ws !== ws) return;
      opened = true;
      this.lastSeen = Date.now();
      this.setState(State.LIVE);
      this.startHeartbeat();
    });
    ws.addEventListener('message', (ev) => {
      if (this.ws !== ws) return;
      this.lastSeen = Date.now();
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (!msg || typeof msg.type !== 'string' || msg.type === 'pong') return;
      // The server is talking to us: the next failure starts from 1 s again.
      this.delay = MIN_DELAY;
      this.onMessage(msg);
      if (msg.position) this.position = msg.position;
    });
    ws.addEventListener('close', () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopHeartbeat();
      if (this.stopped) return;
      if (!opened) this.onFailedOpen();
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    if (this.stopped) return;
    const base = this.delay;
    this.delay = Math.min(MAX_DELAY, this.delay * 2);
    // A little jitter so that a room of displays does not reconnect in step.
    const wait = Math.min(MAX_DELAY, Math.round(base * (0.85 + Math.random() * 0.3)));
    this.setState(State.RECONNECTING, { delay: wait });
    this.timer = setTimeout(() => this.connect(), wait);
  }

  /** drop forgets the current socket and closes it without waiting. */
  drop() {
    const ws = this.ws;
    this.ws = null;
    this.stopHeartbeat();
    if (ws) {
      try {
        ws.close(1000, 'bye');
      } catch {
        // already closing
      }
    }
  }

  startHeartbeat() {
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => {
      const ws = this.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) return;
      if (Date.now() - this.lastSeen > SILENCE) {
        // Dead but not closed (a laptop slept, a proxy dropped the flow):
        // give up on this socket and resume on a fresh one.
        this.drop();
        this.scheduleReconnect();
        return;
      }
      ws.send('{"type":"ping"}');
    }, HEARTBEAT);
  }

  stopHeartbeat() {
    clearInterval(this.heartbeat);
    this.heartbeat = 0;
  }

  setState(state, detail = {}) {
    this.state = state;
    this.onState(state, detail);
  }
}
