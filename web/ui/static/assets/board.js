// The operators' board: alerts in force, today's shifts and today's log,
// kept live over /ws, with the alert dialogs and the novedad form, and a
// banner when an informe arrives (topic informes).

import { api, ApiError } from './api.js';
import { h, keepFocus } from './dom.js';
import { field, clearErrors, showFieldErrors, showBanner, hideBanner, setBusy } from './forms.js';
import { categoryLabel, civilDate, clock, longDate } from './format.js';
import { LiveClient, State } from './live.js';
import { Store } from './store.js';
import { topbar } from './layout.js';
import { alertCard, logItem, shiftItem } from './views.js';
import { openCancelAlert, openDeclareAlert, openEditAlert } from './alertform.js';
import { dmy } from './informedoc.js';

const CONNECTION_TEXT = {
  [State.CONNECTING]: 'Conectando…',
  [State.LIVE]: 'En vivo',
  [State.RECONNECTING]: 'Reconectando…',
};

export class Board {
  constructor(root, { me, ref, onLogout }) {
    this.root = root;
    this.me = me;
    this.ref = ref;
    this.onLogout = onLogout;
    this.store = new Store();
    this.form = null; // the open alert dialog, if any
    this.timers = [];
    this.live = new LiveClient({
      params: { topics: 'alerts,shifts,log,informes' },
      onMessage: (msg) => this.onMessage(msg),
      onState: (state, detail) => this.showConnection(state, detail),
      // A refused handshake may be an expired session: /api/auth/me tells,
      // and a 401 there sends the operator back to the login form.
      onFailedOpen: () => api.get('/api/auth/me').catch(() => {}),
    });
  }

  async start() {
    document.title = 'Tablero · Vigía';
    this.render();
    this.store.subscribe((change) => this.onChange(change));
    const position = await this.loadWithRetry();
    if (position === null) return;
    this.live.start(position);
  }

  destroy() {
    this.destroyed = true;
    this.live.stop();
    for (const t of this.timers) clearInterval(t);
    this.form?.close();
  }

  /**
   * load reads the three lists. The alerts' position is read first, so the
   * shifts and log read after it are at least as new, and resuming /ws from
   * that position misses nothing (repeats are ignored by version).
   */
  async load() {
    const alerts = await api.get('/api/alerts');
    const [shifts, log] = await Promise.all([api.get('/api/shifts'), api.get('/api/log')]);
    this.store.setAlerts(alerts.data.alerts);
    this.store.setShifts(shifts.data.date, shifts.data.shifts);
    this.store.setLog(log.data.date, log.data.entries);
    return alerts.data.position || '';
  }

  async loadWithRetry() {
    for (let delay = 1000; !this.destroyed; delay = Math.min(30000, delay * 2)) {
      try {
        const position = await this.load();
        hideBanner(this.banner);
        return position;
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) return null;
        this.problem(err, ` Nuevo intento en ${Math.round(delay / 1000)} s.`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    return null;
  }

  onMessage(msg) {
    if (msg.type === 'informe.received') this.informeArrived(msg.data || {});
    if (this.store.applyMessage(msg) === 'newday') {
      // Midnight passed: today's shifts and log are another day's now.
      this.load().catch((err) => this.problem(err));
    }
  }

  /**
   * informeArrived shows "Llegó el informe AM del 11-06-2025 — Ver" with a
   * link to the informe's day on the Informes page, until dismissed or
   * replaced by the next one. header is the informe.received notice's data.
   */
  informeArrived(header) {
    const edition = (/\b(AM|PM)\b/.exec(header.title || '') || [])[1] || '';
    const text = `Llegó el informe ${edition ? `${edition} ` : ''}del ${dmy(header.date || '')}`;
    this.informeBanner.replaceChildren(
      h('p', {}, `${text} — `, h('a', { href: `/informes?${new URLSearchParams({ date: header.date || '' })}`, id: 'informe-banner-link' }, 'Ver')),
      h('button', { type: 'button', class: 'btn btn-ghost dialog-x', id: 'informe-banner-close', 'aria-label': 'Cerrar aviso', onclick: () => { this.informeBanner.hidden = true; } }, '×'));
    this.informeBanner.hidden = false;
    this.announce(`${text}.`);
  }

  /** problem shows a failed request in the board's banner. */
  problem(err, suffix = '') {
    showBanner(this.banner, err instanceof ApiError ? `${err.summary}${suffix}` : `${String(err)}${suffix}`);
  }

  render() {
    const me = this.me;
    this.connection = h('p', { class: 'conn', id: 'connection', role: 'status', dataset: { state: State.CONNECTING } }, CONNECTION_TEXT[State.CONNECTING]);
    this.clock = h('p', { class: 'topbar-clock', 'aria-hidden': 'true' });
    const tick = () => {
      this.clock.textContent = `${longDate()} · ${clock().slice(0, 5)}`;
    };
    tick();
    this.timers.push(setInterval(tick, 1000));

    this.banner = h('div', { class: 'banner', id: 'board-banner', hidden: true });
    this.informeBanner = h('div', { class: 'banner banner-info informe-banner', id: 'informe-banner', role: 'status', hidden: true });
    this.alertCount = h('span', { class: 'count', id: 'alert-count' }, '');
    this.alertList = h('div', { class: 'alert-list', id: 'alert-list', 'aria-busy': 'true' },
      h('p', { class: 'empty' }, 'Cargando alertas…'));
    this.shiftDate = h('p', { class: 'panel-sub' });
    this.shiftList = h('ul', { class: 'shift-list', id: 'shift-list' });
    // It scrolls on its own, so it takes the keyboard focus to be scrolled.
    this.logList = h('ol', { class: 'log-list', id: 'log-list', tabindex: '0', 'aria-labelledby': 'log-heading' });
    this.announcer = h('p', { class: 'visually-hidden', role: 'status' });

    const header = topbar({ me, current: '/', middle: [this.connection, this.clock], onLogout: () => this.onLogout() });

    const alertsPanel = h('section', { class: 'panel panel-alerts', 'aria-labelledby': 'alerts-heading' },
      h('div', { class: 'panel-head' },
        h('h1', { id: 'alerts-heading' }, 'Alertas vigentes ', this.alertCount),
        me.can_edit ? h('button', { type: 'button', class: 'btn btn-primary', id: 'declare', onclick: () => this.declare() }, 'Declarar alerta') : null),
      this.alertList);

    const shiftsPanel = h('section', { class: 'panel panel-shifts', 'aria-labelledby': 'shifts-heading' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'shifts-heading' }, 'Turnos de hoy'), this.shiftDate),
      this.shiftList);

    const logPanel = h('section', { class: 'panel panel-log', 'aria-labelledby': 'log-heading' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'log-heading' }, 'Bitácora de hoy')),
      me.can_edit ? this.logForm() : null,
      this.logList);

    this.root.replaceChildren(header,
      h('main', { id: 'main', class: 'board' },
        this.banner,
        this.informeBanner,
        h('div', { class: 'board-grid' }, alertsPanel, h('div', { class: 'board-side' }, shiftsPanel, logPanel))),
      this.announcer);
  }

  showConnection(state, { delay } = {}) {
    this.connection.dataset.state = state;
    this.connection.textContent = CONNECTION_TEXT[state] || state;
    this.connection.title = state === State.RECONNECTING && delay ? `Nuevo intento en ${Math.ceil(delay / 1000)} s` : '';
  }

  onChange(change) {
    if (change.kind === 'alerts') this.renderAlerts(change);
    if (change.kind === 'shifts') this.renderShifts();
    if (change.kind === 'log') this.renderLog(change);
    if (change.kind === 'alerts' && change.row && this.form?.alertId === change.row.id) this.form.remoteChanged(change.row);
  }

  renderAlerts(change) {
    const alerts = this.store.sortedAlerts();
    this.alertCount.textContent = String(alerts.length);
    this.alertList.removeAttribute('aria-busy');
    keepFocus(this.alertList, () => {
      this.alertList.replaceChildren(...(alerts.length
        ? alerts.map((a) => this.alertCard(a, change.live && change.ids?.includes(a.id)))
        : [h('p', { class: 'empty' }, 'No hay alertas vigentes.')]));
    });
    if (change.live && change.row) {
      const a = change.row;
      this.announce(a.status === 'vigente'
        ? `${this.ref.level(a.level)}: ${a.title} (actualizada por ${a.updated_by})`
        : `Alerta cancelada: ${a.title}`);
    }
  }

  alertCard(a, flash) {
    const titleId = `alert-${a.id}-title`;
    return alertCard(a, {
      ref: this.ref,
      flash,
      actions: this.me.can_edit
        ? h('div', { class: 'alert-actions' },
          h('button', { type: 'button', class: 'btn', dataset: { action: 'edit', focusKey: `edit-${a.id}` }, 'aria-describedby': titleId, onclick: () => this.edit(a.id) }, 'Editar'),
          h('button', { type: 'button', class: 'btn btn-quiet-danger', dataset: { action: 'cancel', focusKey: `cancel-${a.id}` }, 'aria-describedby': titleId, onclick: () => this.cancel(a.id) }, 'Cancelar alerta'))
        : null,
    });
  }

  edit(id) {
    const alert = this.store.alerts.get(id);
    if (!alert || this.form) return;
    this.form = openEditAlert({
      alert,
      ref: this.ref,
      onSaved: (row) => this.saved(row, `Alerta actualizada (versión ${row.version}).`),
      onClose: () => this.closed(`edit-${id}`),
    });
  }

  cancel(id) {
    const alert = this.store.alerts.get(id);
    if (!alert || this.form) return;
    this.form = openCancelAlert({
      alert,
      ref: this.ref,
      onSaved: (row) => this.saved(row, 'Alerta cancelada.'),
      onClose: () => this.closed(`cancel-${id}`),
    });
  }

  declare() {
    if (this.form) return;
    this.form = openDeclareAlert({
      ref: this.ref,
      onSaved: (row) => this.saved(row, 'Alerta declarada.'),
      onClose: () => this.closed('', document.getElementById('declare')),
    });
  }

  saved(row, message) {
    this.store.applyAlert(row);
    this.announce(message);
  }

  /** closed gives the focus back to the button that opened the dialog. */
  closed(focusKey, fallback) {
    this.form = null;
    const el = (focusKey && this.alertList.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`)) || fallback || document.getElementById('declare');
    el?.focus();
  }

  renderShifts() {
    const date = this.store.shiftsDate;
    this.shiftDate.textContent = date ? civilDate(date) : '';
    const shifts = this.store.sortedShifts();
    if (!shifts.length) {
      this.shiftList.replaceChildren(h('li', { class: 'empty' }, 'No hay turnos asignados para hoy.'));
      return;
    }
    const now = new Date();
    this.shiftList.replaceChildren(...shifts.map((s) => shiftItem(s, { at: now })));
  }

  renderLog(change) {
    const entries = this.store.sortedLog();
    if (!entries.length) {
      this.logList.replaceChildren(h('li', { class: 'empty' }, 'Sin novedades registradas hoy.'));
      return;
    }
    this.logList.replaceChildren(...entries.map((e) => logItem(e, { ref: this.ref, flash: change.live && change.ids?.includes(e.id) })));
  }

  logForm() {
    const text = h('textarea', { id: 'log-text', name: 'text', rows: 3, maxlength: 4000, required: true, placeholder: 'Qué pasó, dónde y quién informa' });
    const category = h('select', { id: 'log-category', name: 'category' },
      this.ref.categories.map((c) => h('option', { value: c }, categoryLabel(c))));
    const banner = h('div', { class: 'banner', hidden: true });
    const form = h('form', { class: 'form log-form', id: 'log-form', novalidate: true },
      banner,
      field({ label: 'Nueva novedad', control: text }),
      h('div', { class: 'log-form-row' },
        field({ label: 'Categoría', control: category }),
        h('button', { type: 'submit', class: 'btn btn-primary', id: 'log-submit' }, 'Registrar novedad')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      hideBanner(banner);
      if (!text.value.trim()) {
        showFieldErrors(form, { text: 'Escriba la novedad.' });
        return;
      }
      setBusy(form, true);
      try {
        const { data } = await api.post('/api/log', { text: text.value.trim(), category: category.value });
        this.store.applyLog(data);
        text.value = '';
        this.announce('Novedad registrada.');
      } catch (err) {
        if ((err.status === 422 || err.status === 400) && Object.keys(err.fields).length) {
          showBanner(banner, err, 'error', showFieldErrors(form, err.fields));
        } else {
          showBanner(banner, err);
        }
      } finally {
        setBusy(form, false);
      }
    });
    return form;
  }

  announce(message) {
    this.announcer.textContent = message;
  }
}
