// The page's one websocket: reconnects with backoff, re-sends subscriptions, queues what is sent
// while it is closed, and tells the page when it reopened (what was pushed meanwhile is lost).

export class Events {
  constructor() {
    this.handlers = {};
    this.pending = [];   // [message, onSent] waiting for the socket to open
    this.sticky = [];
    this.delay = 500;
    this.opened = 0;     // connections opened so far: a reply to a message sent on an earlier one is lost
    this.reopened = [];
    this.connect();
  }

  connect() {
    const proto = location.protocol === "https:" ? "wss://" : "ws://";
    this.ws = new WebSocket(proto + location.host + "/ws/events/");
    this.ws.onopen = () => {
      this.delay = 500;
      // Counted first: a queued message sent below belongs to this connection.
      const again = this.opened++ > 0;
      this.sticky.forEach((m) => this.ws.send(JSON.stringify(m)));
      this.pending.splice(0).forEach(([m, onSent]) => this.transmit(m, onSent));
      document.body.dataset.ws = "open";
      if (again) this.reopened.forEach((fn) => fn());
    };
    this.ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      (this.handlers[msg.type] || []).forEach((fn) => fn(msg));
    };
    this.ws.onclose = () => {
      document.body.dataset.ws = "closed";
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 10000);
    };
  }

  on(type, fn) { (this.handlers[type] = this.handlers[type] || []).push(fn); }

  // ``fn`` runs each time the socket opens again after it dropped (sticky messages already re-sent).
  onReopen(fn) { this.reopened.push(fn); }

  // Drops the connection as a failing network would; it reconnects like after any other drop.
  drop() { this.ws.close(); }

  transmit(msg, onSent) {
    if (onSent) onSent();
    this.ws.send(JSON.stringify(msg));
  }

  // A sticky message is sent again on every reconnect (subscriptions); ``onSent`` runs the moment
  // the message leaves the browser, queued or not.
  send(msg, { sticky = false, onSent = null } = {}) {
    if (sticky) this.sticky.push(msg);
    if (this.ws.readyState === WebSocket.OPEN) this.transmit(msg, onSent);
    else if (!sticky) this.pending.push([msg, onSent]);
  }
}

// Forwards the ingest events of subscribed videos as (video id, status, details).
export function watchIngest(events, onUpdate) {
  events.on("ingest.progress", (m) => onUpdate(m.video, "processing", { percent: m.percent, eta: m.eta_s, message: m.message }));
  events.on("ingest.done", (m) => onUpdate(m.video, "done", { people: m.people, warnings: m.warnings }));
  events.on("ingest.failed", (m) => onUpdate(m.video, "failed", { reason: m.reason }));
}
