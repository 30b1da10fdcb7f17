// The operators' board: alerts in force, today's shifts and today's log,
// kept live over /ws, with the alert dialogs and the novedad form.

import { api, ApiError } from './api.js';
import { h, keepFocus } from './dom.js';
import { field, clearErrors, showFieldErrors, showBanner, hideBanner, setBusy } from './forms.js';
import { categoryLabel, civilDate, clock, longDate, roleLabel, shiftActive, slotLabel, time, when } from './format.js';
import { LiveClient, State } from './live.js';
import { Store } from './store.js';
import { brand } from './login.js';
import { openCancelAlert, openDeclareAlert, openEditAlert } from './alertform.js';

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
      params: { topics: 'alerts,shifts,log' },
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
    if (this.store.applyMessage(msg) === 'newday') {
      // Midnight passed: today's shifts and log are another day's now.
      this.load().catch((err) => this.problem(err));
    }
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
    this.alertCount = h('span', { class: 'count', id: 'alert-count' }, '');
    this.alertList = h('div', { class: 'alert-list', id: 'alert-list', 'aria-busy': 'true' },
      h('p', { class: 'empty' }, 'Cargando alertas…'));
    this.shiftDate = h('p', { class: 'panel-sub' });
    this.shiftList = h('ul', { class: 'shift-list', id: 'shift-list' });
    // It scrolls on its own, so it takes the keyboard focus to be scrolled.
    this.logList = h('ol', { class: 'log-list', id: 'log-list', tabindex: '0', 'aria-labelledby': 'log-heading' });
    this.announcer = h('p', { class: 'visually-hidden', role: 'status' });

    const header = h('header', { class: 'topbar' },
      brand(),
      h('div', { class: 'topbar-mid' }, this.connection, this.clock),
      h('div', { class: 'user' },
        h('div', { class: 'user-text' },
          h('span', { class: 'user-name', id: 'user-name' }, me.display_name || me.username),
          h('span', { class: 'user-role' }, roleLabel(me.role))),
        h('button', { type: 'button', class: 'btn btn-ghost', id: 'logout', onclick: () => this.onLogout() }, 'Cerrar sesión')));

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
    const ref = this.ref;
    const titleId = `alert-${a.id}-title`;
    const meta = (label, value) => [h('dt', {}, label), h('dd', {}, value)];
    return h('article', {
      class: `alert-card level-${a.level}${flash ? ' is-updated' : ''}`,
      dataset: { alertId: a.id, level: a.level, version: a.version },
      'aria-labelledby': titleId,
    },
    h('div', { class: 'alert-card-head' },
      h('span', { class: 'level-badge' }, ref.level(a.level)),
      h('span', { class: 'hazard' }, ref.hazard(a.hazard))),
    h('h3', { class: 'alert-title', id: titleId }, a.title),
    a.description ? h('p', { class: 'alert-desc' }, a.description) : null,
    h('dl', { class: 'alert-meta' },
      meta('Alcance', ref.scopeLines(a).map((line) => h('span', { class: 'scope-line' }, line))),
      a.resolution ? meta('Resolución', a.resolution) : null),
    h('div', { class: 'alert-foot' },
      h('p', { class: 'alert-times' },
        h('span', {}, 'Declarada ', h('time', { datetime: a.declared_at }, when(a.declared_at))),
        h('span', {}, 'Actualizada ', h('time', { datetime: a.updated_at }, when(a.updated_at))),
        h('span', {}, 'Actualizado por ', h('strong', { class: 'updated-by' }, a.updated_by || '—'))),
      this.me.can_edit
        ? h('div', { class: 'alert-actions' },
          h('button', { type: 'button', class: 'btn', dataset: { action: 'edit', focusKey: `edit-${a.id}` }, 'aria-describedby': titleId, onclick: () => this.edit(a.id) }, 'Editar'),
          h('button', { type: 'button', class: 'btn btn-quiet-danger', dataset: { action: 'cancel', focusKey: `cancel-${a.id}` }, 'aria-describedby': titleId, onclick: () => this.cancel(a.id) }, 'Cancelar alerta'))
        : null));
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
    this.shiftList.replaceChildren(...shifts.map((s) => {
      const active = shiftActive(s, now);
      return h('li', { class: `shift${active ? ' is-active' : ''}`, dataset: { slot: s.slot, version: s.version } },
        h('div', { class: 'shift-head' },
          h('span', { class: 'shift-slot' }, slotLabel(s.slot)),
          h('span', { class: 'shift-hours' }, `${s.start}–${s.end}`),
          active ? h('span', { class: 'pill pill-ok' }, 'En curso') : null),
        h('p', { class: 'shift-lead' }, h('span', { class: 'muted' }, 'Jefatura: '), s.lead || '—'),
        (s.operators || []).length ? h('p', {}, h('span', { class: 'muted' }, 'Operadores: '), s.operators.join(', ')) : null,
        s.notes ? h('p', { class: 'shift-notes' }, s.notes) : null);
    }));
  }

  renderLog(change) {
    const entries = this.store.sortedLog();
    if (!entries.length) {
      this.logList.replaceChildren(h('li', { class: 'empty' }, 'Sin novedades registradas hoy.'));
      return;
    }
    this.logList.replaceChildren(...entries.map((e) => {
      const comunas = (e.comunas || []).map((c) => this.ref.comuna(c));
      return h('li', { class: `log-entry${change.live && change.ids?.includes(e.id) ? ' is-updated' : ''}`, dataset: { entryId: e.id, version: e.version } },
        h('div', { class: 'log-head' },
          h('time', { datetime: e.at }, time(e.at)),
          h('span', { class: `cat cat-${e.category}` }, categoryLabel(e.category)),
          h('span', { class: 'log-by' }, e.by)),
        h('p', { class: 'log-text' }, e.text),
        comunas.length ? h('p', { class: 'log-comunas' }, comunas.join(', ')) : null,
        e.corrected ? h('p', { class: 'log-corrected' }, `Corregida por ${e.corrected_by || e.by}${e.reason ? `: ${e.reason}` : ''}`) : null);
    }));
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
