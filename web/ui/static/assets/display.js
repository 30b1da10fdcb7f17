// The wall display (/display?token=vgt_…[&comunas=05101,…]): read-only, no
// login. It authenticates every GET with the token as a Bearer header and
// the WebSocket with ?token=, reconnects forever, and shows a Santiago clock
// and when it last heard anything. Under the alerts (which always come
// first) it shows the latest informe's avisos meteorológicos, puertos,
// carreteras and pasos fronterizos, read again whenever an informe arrives.

import { api, ApiError, useToken } from './api.js';
import { h } from './dom.js';
import { categoryLabel, civilDate, clock, dayKey, longDate, Reference, shiftActive, slotLabel, time, when } from './format.js';
import { dmy } from './informedoc.js';
import { LiveClient, State } from './live.js';
import { comunaFilter, Store } from './store.js';

const root = document.getElementById('display');
const params = new URLSearchParams(window.location.search);
const token = (params.get('token') || '').trim();
const comunas = (params.get('comunas') || '').split(',').map((c) => c.trim()).filter((c) => /^\d{5}$/.test(c));

const CONNECTION_TEXT = {
  [State.CONNECTING]: 'Conectando…',
  [State.LIVE]: 'En vivo',
  [State.RECONNECTING]: 'Reconectando…',
};
const LOG_ITEMS = 6;
// At most this many rows of each informe section: the wall is read from
// afar, and the Informes page has the rest.
const INFORME_ROWS = 6;

function icon() {
  return h('img', { src: '/assets/icon.svg', alt: '', width: '56', height: '56' });
}

/** noToken explains how to get a display link. */
function noToken() {
  const example = `${window.location.origin}/display?token=vgt_…`;
  root.replaceChildren(h('main', { class: 'wall-help', id: 'no-token' },
    icon(),
    h('h1', {}, 'Pantalla mural de Vigía'),
    h('p', { class: 'wall-help-lead' }, 'Esta pantalla necesita un enlace con un token de pantalla; sin él no puede mostrar las alertas.'),
    h('ol', {},
      h('li', {}, 'Pida a un administrador o supervisor del centro que cree un token de pantalla, en el servidor con:',
        h('pre', {}, h('code', {}, 'hub token create --name sala-de-crisis --role display'))),
      h('li', {}, 'Abra en esta pantalla la dirección con el token:', h('pre', {}, h('code', {}, example))),
      h('li', {}, 'Opcional: agregue ', h('code', {}, '&comunas=05101,05109'), ' para mostrar solo las alertas de esas comunas (códigos CUT).')),
    h('p', { class: 'muted' }, 'El token solo permite leer; trátelo como una contraseña.')));
}

class Wall {
  constructor() {
    this.store = new Store({ alertFilter: comunaFilter(comunas) });
    this.ref = null;
    this.heardAt = null;
    this.informeDate = '';
    this.informeSeq = 0;
    this.live = new LiveClient({
      params: { token, topics: 'alerts,shifts,log,informes', comunas: comunas.join(',') },
      onMessage: (msg) => this.onMessage(msg),
      onState: (state, detail) => this.showConnection(state, detail),
      onFailedOpen: () => this.checkToken(),
    });
  }

  async start() {
    document.title = 'Pantalla mural · Vigía';
    this.render();
    this.store.subscribe((change) => this.onChange(change));
    const position = await this.loadForever();
    this.live.start(position);
  }

  async load() {
    if (!this.ref) this.ref = new Reference((await api.get('/api/reference')).data);
    const alerts = await api.get('/api/alerts');
    const [shifts, log] = await Promise.all([api.get('/api/shifts'), api.get('/api/log')]);
    this.store.setAlerts(alerts.data.alerts);
    this.store.setShifts(shifts.data.date, shifts.data.shifts);
    this.store.setLog(log.data.date, log.data.entries);
    this.heard();
    // The informe is secondary: failing to read it leaves the alerts up.
    this.loadInforme(dayKey(new Date())).catch(() => {});
    return alerts.data.position || '';
  }

  /**
   * loadInforme reads a day's informe as of now (an informe of an earlier
   * day received today included) and shows its latest document, unless a
   * later day's is already shown.
   */
  async loadInforme(date) {
    if (!date || (this.informeDate && date < this.informeDate)) return;
    const seq = ++this.informeSeq;
    const path = `/api/informes/${encodeURIComponent(date)}`;
    let view;
    try {
      view = (await api.get(`${path}?${new URLSearchParams({ at: new Date().toISOString() })}`)).data;
    } catch (err) {
      // This screen's clock ahead of the hub's: "now" is in the future.
      if (!(err instanceof ApiError && err.status === 422)) throw err;
      view = (await api.get(path)).data;
    }
    if (seq !== this.informeSeq) return;
    const received = view.received || [];
    const latest = received[received.length - 1];
    if (!latest || !latest.content) {
      if (!this.informeDate) this.renderInforme(null, date);
      return;
    }
    this.informeDate = date;
    this.renderInforme(latest, date);
    this.layoutAlerts();
  }

  /** loadForever retries the first load with backoff until it works. */
  async loadForever() {
    for (let delay = 1000; ; delay = Math.min(30000, delay * 2)) {
      try {
        const position = await this.load();
        this.notice.hidden = true;
        return position;
      } catch (err) {
        this.showProblem(err);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async checkToken() {
    try {
      await api.get('/api/auth/me');
      this.notice.hidden = true;
    } catch (err) {
      this.showProblem(err);
    }
  }

  showProblem(err) {
    const text = err instanceof ApiError && err.status === 401
      ? 'El token de esta pantalla no es válido o fue revocado. Pida un enlace nuevo (hub token create --role display).'
      : `Sin conexión con Vigía: ${err instanceof ApiError ? err.summary : String(err)} Reintentando…`;
    this.notice.textContent = text;
    this.notice.hidden = false;
  }

  onMessage(msg) {
    this.heard();
    if (msg.type === 'informe.received' && msg.data?.date) {
      this.loadInforme(msg.data.date).catch((err) => this.showProblem(err));
    }
    if (this.store.applyMessage(msg) === 'newday') {
      this.load().catch((err) => this.showProblem(err));
    }
  }

  heard() {
    this.heardAt = new Date();
    this.lastUpdate.textContent = clock(this.heardAt);
    this.lastUpdate.dateTime = this.heardAt.toISOString();
  }

  render() {
    this.time = h('time', { class: 'wall-time', id: 'wall-clock' });
    this.date = h('p', { class: 'wall-date', id: 'wall-date' });
    this.connection = h('span', { class: 'conn', id: 'connection', role: 'status', dataset: { state: State.CONNECTING } }, CONNECTION_TEXT[State.CONNECTING]);
    this.lastUpdate = h('time', { id: 'last-update' }, '—');
    this.notice = h('p', { class: 'wall-notice', id: 'wall-notice', role: 'alert', hidden: true });
    this.count = h('span', { class: 'wall-count', id: 'alert-count' });
    this.alerts = h('div', { class: 'wall-alerts', id: 'alert-list' });
    this.shifts = h('ul', { class: 'wall-shifts', id: 'shift-list' });
    this.log = h('ol', { class: 'wall-log', id: 'log-list' });
    this.informeTitle = h('h2', { id: 'wall-informe-h' }, 'Informe de situación');
    this.informe = h('div', { class: 'wall-informe-body', id: 'wall-informe-body' }, h('p', { class: 'wall-empty-small' }, 'Cargando informe…'));
    const filter = comunas.length ? h('span', { class: 'wall-filter' }, 'Filtro: ', comunas.join(', ')) : null;

    root.replaceChildren(
      h('header', { class: 'wall-top' },
        h('div', { class: 'wall-brand' }, icon(),
          h('div', {},
            h('p', { class: 'wall-org' }, 'SENAPRED Valparaíso'),
            h('p', { class: 'wall-sub' }, 'Centro de Alerta Temprana Regional · Vigía'))),
        h('div', { class: 'wall-clock' }, this.time, this.date)),
      this.notice,
      h('main', { class: 'wall-main' },
        h('div', { class: 'wall-left' },
          h('section', { class: 'wall-panel wall-panel-alerts', 'aria-labelledby': 'wall-alerts-h' },
            h('h1', { id: 'wall-alerts-h' }, 'Alertas vigentes ', this.count),
            this.alerts),
          h('section', { class: 'wall-panel wall-informe', id: 'wall-informe', 'aria-labelledby': 'wall-informe-h' },
            this.informeTitle, this.informe)),
        h('aside', { class: 'wall-side' },
          h('section', { class: 'wall-panel', 'aria-labelledby': 'wall-shifts-h' },
            h('h2', { id: 'wall-shifts-h' }, 'Turnos de hoy'), this.shifts),
          h('section', { class: 'wall-panel', 'aria-labelledby': 'wall-log-h' },
            h('h2', { id: 'wall-log-h' }, 'Últimas novedades'), this.log))),
      h('footer', { class: 'wall-foot' },
        this.connection,
        h('span', {}, 'Última actualización: ', this.lastUpdate),
        filter));

    const tick = () => {
      const now = new Date();
      this.time.textContent = clock(now);
      this.time.dateTime = now.toISOString();
      this.date.textContent = longDate(now);
    };
    tick();
    // Align the clock on the second.
    setTimeout(() => {
      tick();
      setInterval(tick, 1000);
    }, 1000 - (Date.now() % 1000));
  }

  showConnection(state) {
    this.connection.dataset.state = state;
    this.connection.textContent = CONNECTION_TEXT[state] || state;
    if (state === State.LIVE) this.notice.hidden = true;
  }

  onChange(change) {
    if (!this.ref) return;
    if (change.kind === 'alerts') this.renderAlerts(change);
    if (change.kind === 'shifts') this.renderShifts();
    if (change.kind === 'log') this.renderLog();
  }

  renderAlerts(change) {
    const ref = this.ref;
    const alerts = this.store.sortedAlerts();
    this.count.textContent = String(alerts.length);
    this.layoutAlerts();
    if (!alerts.length) {
      this.alerts.replaceChildren(h('p', { class: 'wall-empty' }, 'Sin alertas vigentes'));
      return;
    }
    this.alerts.replaceChildren(...alerts.map((a) => h('article', {
      class: `wall-alert level-${a.level}${change.live && change.ids?.includes(a.id) ? ' is-updated' : ''}`,
      dataset: { alertId: a.id, level: a.level, version: a.version },
      'aria-labelledby': `wall-alert-${a.id}`,
    },
    h('div', { class: 'wall-alert-band' },
      h('span', { class: 'wall-level' }, ref.level(a.level)),
      h('span', { class: 'wall-hazard' }, ref.hazard(a.hazard))),
    h('div', { class: 'wall-alert-body' },
      h('h2', { class: 'wall-alert-title', id: `wall-alert-${a.id}` }, a.title),
      h('p', { class: 'wall-scope' }, ref.scopeText(a)),
      h('p', { class: 'wall-meta' }, `Declarada ${when(a.declared_at)} · actualizada ${when(a.updated_at)}`)))));
  }

  /**
   * layoutAlerts puts the alerts in two columns when they are many, or
   * when three would leave the informe under them no room.
   */
  layoutAlerts() {
    const n = this.store.alerts.size;
    this.alerts.classList.toggle('is-many', n > 3 || (n === 3 && this.informeDate !== ''));
  }

  /**
   * renderInforme shows four sections of one received document; r null:
   * none received for date yet.
   */
  renderInforme(r, date) {
    if (!r) {
      this.informeTitle.textContent = 'Informe de situación';
      this.informe.replaceChildren(h('p', { class: 'wall-empty-small' }, `Sin informe recibido del ${dmy(date)}.`));
      return;
    }
    const c = r.content;
    this.informeTitle.textContent = `Informe ${r.edition || ''} del ${dmy(date)}${r.time ? ` · ${r.time} h` : ''}`;
    this.informe.dataset.edition = r.edition || '';
    this.informe.dataset.date = date;
    const block = (key, title, rows, line, empty) => h('section', { class: 'wall-inf-block', dataset: { section: key } },
      h('h3', {}, title),
      rows && rows.length
        ? h('ul', {}, rows.slice(0, INFORME_ROWS).map((x) => h('li', {}, line(x))),
          rows.length > INFORME_ROWS ? h('li', { class: 'wall-inf-more' }, `y ${rows.length - INFORME_ROWS} más`) : null)
        : h('p', { class: 'wall-empty-small' }, empty));
    this.informe.replaceChildren(h('div', { class: 'wall-inf-grid' },
      block('avisos', 'Avisos meteorológicos', c.avisos, (x) => [h('strong', {}, x.aviso), h('span', { class: 'wall-inf-text' }, x.descripcion), h('span', { class: 'wall-inf-sub' }, x.cobertura)], 'Sin avisos'),
      block('puertos', 'Puertos', c.puertos, (x) => [h('strong', {}, `${x.puerto}: ${x.condicion}`), h('span', { class: 'wall-inf-text' }, x.estado)], 'Sin información'),
      block('carreteras', 'Carreteras', c.carreteras, (x) => [h('strong', {}, `${x.ruta}: ${x.condicion}`), h('span', { class: 'wall-inf-text' }, x.estado)], 'Sin novedades'),
      block('pasos', 'Pasos fronterizos', c.pasos, (x) => [h('strong', {}, `${x.paso}: ${x.condicion}`), x.observaciones ? h('span', { class: 'wall-inf-text' }, x.observaciones) : null], 'Sin información')));
  }

  renderShifts() {
    const shifts = this.store.sortedShifts();
    if (!shifts.length) {
      this.shifts.replaceChildren(h('li', { class: 'wall-empty-small' }, 'Sin turnos asignados'));
      return;
    }
    const now = new Date();
    this.shifts.replaceChildren(...shifts.map((s) => {
      const active = shiftActive(s, now);
      return h('li', { class: `wall-shift${active ? ' is-active' : ''}`, dataset: { slot: s.slot } },
        h('div', { class: 'wall-shift-head' },
          h('span', { class: 'wall-shift-slot' }, slotLabel(s.slot)),
          h('span', { class: 'wall-shift-hours' }, `${s.start}–${s.end}`),
          active ? h('span', { class: 'wall-pill' }, 'En curso') : null),
        h('p', { class: 'wall-shift-lead' }, s.lead || '—'),
        (s.operators || []).length ? h('p', { class: 'wall-shift-ops' }, s.operators.join(', ')) : null);
    }));
    if (this.store.shiftsDate) this.shifts.setAttribute('aria-label', `Turnos del ${civilDate(this.store.shiftsDate)}`);
  }

  renderLog() {
    const entries = this.store.sortedLog().slice(0, LOG_ITEMS);
    if (!entries.length) {
      this.log.replaceChildren(h('li', { class: 'wall-empty-small' }, 'Sin novedades hoy'));
      return;
    }
    this.log.replaceChildren(...entries.map((e) => h('li', { class: 'wall-log-entry', dataset: { entryId: e.id } },
      h('div', { class: 'wall-log-head' },
        h('time', { datetime: e.at }, time(e.at)),
        h('span', { class: `wall-cat cat-${e.category}` }, categoryLabel(e.category))),
      h('p', { class: 'wall-log-text' }, e.text))));
  }
}

if (!token) {
  noToken();
} else {
  useToken(token);
  new Wall().start();
}
