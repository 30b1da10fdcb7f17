// The línea de tiempo (/linea-de-tiempo), for every logged-in role: the
// board as it was at a chosen moment of a chosen day, rebuilt by the hub
// from the log (GET /api/informes/{date}?at=<RFC 3339> or ?upto=<position>),
// and the day's changes (GET /api/informes/{date}/changes), which
// "Anterior" and "Siguiente" step through one at a time, marking what each
// one changed. The address keeps the state (?date=&at= or &upto=), so a
// moment can be shared or reloaded; "Descargar PDF" prints the same one.
// The informe received by then is there too, laid out as its sections.

import { api, ApiError } from './api.js';
import { h } from './dom.js';
import { field, clearErrors, showFieldErrors, showProblem, hideBanner, setBusy } from './forms.js';
import { civilDate, dayKey, eventLabel, santiagoISO, stamp, time } from './format.js';
import { topbar } from './layout.js';
import { Store, levelRank } from './store.js';
import { alertCard, logItem, shiftItem } from './views.js';
import { documentSections, dmy } from './informedoc.js';

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const TIME_RE = /^\d{2}:\d{2}$/;
const CACHE_SIZE = 64;

/** comparePos orders two positions ("12", or "12-13" as commit-prepare); '' is before all. */
export function comparePos(a, b) {
  const parts = (p) => String(p || '').split('-').map((x) => (/^\d+$/.test(x) ? BigInt(x) : 0n));
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i += 1) {
    const p = x[i] ?? x[0] ?? 0n;
    const q = y[i] ?? y[0] ?? 0n;
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

/** changedIn lists what differs between two informes: alert ids, shift slots, log entry ids. */
export function changedIn(base, view) {
  const diff = (before, after, key) => {
    const was = new Map((before || []).map((x) => [x[key], x]));
    const now = new Map((after || []).map((x) => [x[key], x]));
    const changed = new Set();
    for (const [k, x] of now) {
      if (!was.has(k) || was.get(k).version !== x.version) changed.add(k);
    }
    const gone = [...was.values()].filter((x) => !now.has(x[key]));
    return { changed, gone };
  };
  const header = JSON.stringify(base?.header ?? null) !== JSON.stringify(view?.header ?? null);
  return {
    alerts: diff(base?.alerts, view.alerts, 'id'),
    shifts: diff(base?.shifts, view.shifts, 'slot'),
    log: diff(base?.log, view.log, 'id'),
    header: !!base && header,
  };
}

/** target is what the page shows: {date, at?, upto?} (neither: the end of the day, or now). */
function targetQuery(t) {
  const q = new URLSearchParams();
  if (t.upto) q.set('upto', t.upto);
  else if (t.at) q.set('at', t.at);
  return q;
}

export class TimelinePage {
  constructor(root, { me, ref, onLogout }) {
    this.root = root;
    this.me = me;
    this.ref = ref;
    this.onLogout = onLogout;
    this.target = { date: dayKey(new Date()) };
    this.changes = [];
    this.changesDate = '';
    this.index = -1;
    this.view = null;
    this.cache = new Map();
    this.seq = 0;
    this.onPop = () => {
      this.readURL();
      this.fillForm();
      this.show(this.target, { push: false }).catch((err) => this.problem(err));
    };
  }

  async start() {
    document.title = 'Línea de tiempo · Vigía';
    this.readURL();
    this.render();
    this.fillForm();
    window.addEventListener('popstate', this.onPop);
    await this.show(this.target, { push: false, reloadChanges: true });
  }

  destroy() {
    this.destroyed = true;
    window.removeEventListener('popstate', this.onPop);
  }

  problem(err) {
    showProblem(this.banner, err);
  }

  readURL() {
    const q = new URLSearchParams(window.location.search);
    const date = (q.get('date') || '').trim();
    this.target = { date: DATE_RE.test(date) ? date : dayKey(new Date()) };
    if (q.get('upto')) this.target.upto = q.get('upto').trim();
    else if (q.get('at')) this.target.at = q.get('at').trim();
  }

  urlFor(t) {
    const q = new URLSearchParams({ date: t.date });
    for (const [k, v] of targetQuery(t)) q.set(k, v);
    return `/linea-de-tiempo?${q}`;
  }

  render() {
    this.dateInput = h('input', { id: 'tl-date', name: 'date', type: 'date', required: true });
    this.timeInput = h('input', { id: 'tl-time', name: 'time', type: 'time', step: '60' });
    this.banner = h('div', { class: 'banner', id: 'tl-banner', hidden: true });
    this.pdf = h('a', { class: 'btn', id: 'tl-pdf', href: '#', type: 'application/pdf' }, 'Descargar PDF');
    this.form = h('form', { class: 'form tl-form', id: 'tl-form', novalidate: true },
      h('div', { class: 'tl-form-row' },
        field({ label: 'Día', control: this.dateInput, hint: 'Hoy o un día anterior.' }),
        field({ label: 'Hora', control: this.timeInput, hint: 'De Santiago. Vacía: fin del día (o ahora).' }),
        h('div', { class: 'form-actions' },
          h('button', { type: 'submit', class: 'btn btn-primary', id: 'tl-go' }, 'Ver el tablero'),
          h('button', { type: 'button', class: 'btn', id: 'tl-end', onclick: () => this.toEnd() }, 'Fin del día'),
          this.pdf)));
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });

    this.asOf = h('p', { class: 'tl-asof', id: 'tl-asof' });
    this.prev = h('button', { type: 'button', class: 'btn', id: 'tl-prev', disabled: true, onclick: () => this.step(-1) }, '◀ Anterior');
    this.next = h('button', { type: 'button', class: 'btn', id: 'tl-next', disabled: true, onclick: () => this.step(1) }, 'Siguiente ▶');
    this.stepText = h('p', { class: 'tl-step-text', id: 'tl-step', role: 'status', 'aria-live': 'polite' });
    this.changeList = h('ol', { class: 'tl-changes', id: 'tl-changes', 'aria-labelledby': 'tl-changes-heading' });
    this.changeCount = h('span', { class: 'count', id: 'tl-change-count' }, '0');

    this.alertCount = h('span', { class: 'count', id: 'alert-count' }, '');
    this.levels = h('p', { class: 'panel-sub', id: 'tl-levels' });
    this.alertList = h('div', { class: 'alert-list', id: 'alert-list' });
    this.gone = h('ul', { class: 'tl-gone', id: 'tl-gone', hidden: true });
    this.header = h('div', { class: 'tl-header', id: 'tl-header' });
    this.shiftList = h('ul', { class: 'shift-list', id: 'shift-list' });
    this.logList = h('ol', { class: 'log-list', id: 'log-list', tabindex: '0', 'aria-labelledby': 'tl-log-heading' });
    this.boardArea = h('div', { class: 'tl-board', id: 'tl-board' },
      h('section', { class: 'panel panel-alerts', 'aria-labelledby': 'tl-alerts-heading' },
        h('div', { class: 'panel-head' }, h('h2', { id: 'tl-alerts-heading' }, 'Alertas vigentes ', this.alertCount), this.levels),
        this.gone,
        this.alertList),
      h('div', { class: 'board-side' },
        h('section', { class: 'panel', 'aria-labelledby': 'tl-header-heading' },
          h('div', { class: 'panel-head' }, h('h2', { id: 'tl-header-heading' }, 'Informe del día')),
          this.header),
        h('section', { class: 'panel panel-shifts', 'aria-labelledby': 'tl-shifts-heading' },
          h('div', { class: 'panel-head' }, h('h2', { id: 'tl-shifts-heading' }, 'Turnos')),
          this.shiftList),
        h('section', { class: 'panel panel-log', 'aria-labelledby': 'tl-log-heading' },
          h('div', { class: 'panel-head' }, h('h2', { id: 'tl-log-heading' }, 'Bitácora')),
          this.logList)));

    this.root.replaceChildren(
      topbar({ me: this.me, current: '/linea-de-tiempo', onLogout: () => this.onLogout() }),
      h('main', { id: 'main', class: 'page page-timeline' },
        h('div', { class: 'page-head' },
          h('h1', {}, 'Línea de tiempo'),
          h('p', { class: 'muted' }, 'El tablero tal como estaba en un momento del día, reconstruido desde el registro de cambios.')),
        this.banner,
        h('section', { class: 'panel tl-controls', 'aria-label': 'Momento' },
          this.form,
          h('div', { class: 'tl-stepper' }, this.prev, this.stepText, this.next),
          this.asOf),
        h('div', { class: 'tl-grid' },
          h('section', { class: 'panel tl-changes-panel', 'aria-labelledby': 'tl-changes-heading' },
            h('div', { class: 'panel-head' }, h('h2', { id: 'tl-changes-heading' }, 'Cambios del día ', this.changeCount)),
            this.changeList),
          this.boardArea)));
  }

  fillForm() {
    this.dateInput.value = this.target.date;
    this.dateInput.max = dayKey(new Date());
    const at = this.target.at ? new Date(this.target.at) : null;
    this.timeInput.value = at && !Number.isNaN(at.getTime()) && dayKey(at) === this.target.date ? time(at) : '';
  }

  /** submit shows the day and time of the form. */
  async submit() {
    clearErrors(this.form);
    hideBanner(this.banner);
    const date = this.dateInput.value;
    const hm = this.timeInput.value.slice(0, 5);
    const wrong = {};
    if (!DATE_RE.test(date)) wrong.date = 'Indique el día.';
    if (hm && !TIME_RE.test(hm)) wrong.time = 'Indique la hora como HH:MM.';
    if (DATE_RE.test(date) && date > dayKey(new Date())) wrong.date = 'Ese día aún no llega.';
    if (!wrong.date && !wrong.time && hm && Date.parse(santiagoISO(date, hm)) > Date.now()) wrong.time = 'Esa hora aún no llega.';
    if (Object.keys(wrong).length) {
      showFieldErrors(this.form, wrong);
      return;
    }
    const t = { date };
    if (hm) t.at = santiagoISO(date, hm);
    await this.show(t, { push: true, reloadChanges: true, busy: true });
  }

  async toEnd() {
    this.timeInput.value = '';
    await this.submit();
  }

  /** step moves to the previous (-1) or next (+1) change of the day. */
  async step(delta) {
    const i = this.index + delta;
    if (i < -1 || i >= this.changes.length) return;
    const t = i === -1
      ? { date: this.target.date, at: santiagoISO(this.target.date, '00:00') }
      : { date: this.target.date, upto: this.changes[i].position };
    await this.show(t, { push: false });
    // The button may now be disabled at either end: keep the keyboard on the stepper.
    const btn = delta < 0 ? this.prev : this.next;
    if (btn.disabled && document.activeElement === btn) (delta < 0 ? this.next : this.prev).focus();
  }

  /** fetchView reads one informe, remembered: stepping back and forth asks once. */
  async fetchView(t) {
    const q = targetQuery(t);
    const key = `${t.date}?${q}`;
    // The end of today is still moving: never remember it.
    const cacheable = q.toString() !== '';
    if (cacheable && this.cache.has(key)) return this.cache.get(key);
    const { data } = await api.get(`/api/informes/${encodeURIComponent(t.date)}${q.toString() ? `?${q}` : ''}`);
    if (cacheable) {
      if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value);
      this.cache.set(key, data);
    }
    return data;
  }

  async loadChanges(date) {
    const { data } = await api.get(`/api/informes/${encodeURIComponent(date)}/changes`);
    this.changes = (data.changes || []).slice().sort((a, b) => comparePos(a.position, b.position));
    this.changesDate = date;
  }

  /**
   * show loads the informe of t and the one before its change, and draws
   * the board with what that change did marked. push records it in the
   * browser's history; otherwise the address is replaced.
   */
  async show(t, { push = false, reloadChanges = false, busy = false } = {}) {
    const seq = ++this.seq;
    hideBanner(this.banner);
    this.boardArea.setAttribute('aria-busy', 'true');
    if (busy) setBusy(this.form, true);
    try {
      if (reloadChanges || this.changesDate !== t.date) {
        try {
          await this.loadChanges(t.date);
        } catch (err) {
          this.changes = [];
          this.changesDate = '';
          if (seq === this.seq) showProblem(this.banner, err, 'No se pudieron cargar los cambios del día.');
        }
        if (seq !== this.seq || this.destroyed) return;
        this.renderChanges();
      }
      let view;
      try {
        view = await this.fetchView(t);
      } catch (err) {
        if (seq !== this.seq || this.destroyed) return;
        this.view = null;
        this.index = -1;
        this.target = t;
        this.renderEmpty();
        this.updateStepper();
        this.updateLinks(push);
        // A date or time the hub refuses is shown next to its input too.
        if (err instanceof ApiError && Object.keys(err.fields).length) showFieldErrors(this.form, err.fields, { at: 'time' });
        showProblem(this.banner, err, 'No se pudo reconstruir el tablero.');
        return;
      }
      if (seq !== this.seq || this.destroyed) return;
      const index = this.indexOf(t, view);
      let base = null;
      if (index >= 0) {
        const before = index > 0
          ? { date: t.date, upto: this.changes[index - 1].position }
          : { date: t.date, at: santiagoISO(t.date, '00:00') };
        base = await this.fetchView(before).catch(() => null);
        if (seq !== this.seq || this.destroyed) return;
      }
      this.target = t;
      this.view = view;
      this.index = index;
      this.renderView(view, index >= 0 ? changedIn(base, view) : null);
      this.updateStepper();
      this.updateLinks(push);
    } finally {
      if (seq === this.seq) {
        this.boardArea.removeAttribute('aria-busy');
        if (busy) setBusy(this.form, false);
      }
    }
  }

  /** indexOf is the change t shows: the one named by upto, else the last one folded into view. */
  indexOf(t, view) {
    if (t.upto) {
      const i = this.changes.findIndex((c) => c.position === t.upto);
      if (i >= 0) return i;
    }
    let index = -1;
    this.changes.forEach((c, i) => {
      if (view.position && comparePos(c.position, view.position) <= 0) index = i;
    });
    return index;
  }

  updateLinks(push) {
    const url = this.urlFor(this.target);
    if (url !== `${window.location.pathname}${window.location.search}`) {
      if (push) window.history.pushState(null, '', url);
      else window.history.replaceState(null, '', url);
    }
    const q = targetQuery(this.target).toString();
    this.pdf.href = `/api/informes/${encodeURIComponent(this.target.date)}.pdf${q ? `?${q}` : ''}`;
    this.dateInput.value = this.target.date;
    if (this.target.upto && this.view) {
      this.timeInput.value = '';
    } else {
      this.fillForm();
    }
  }

  updateStepper() {
    const n = this.changes.length;
    const i = this.index;
    this.prev.disabled = !this.view || i < 0;
    this.next.disabled = !this.view || i >= n - 1;
    this.stepText.dataset.index = String(i);
    if (!this.view) {
      this.stepText.textContent = '';
    } else if (!n) {
      this.stepText.textContent = 'No hubo cambios este día.';
    } else if (i < 0) {
      this.stepText.textContent = `Antes del primer cambio del día (${n} ${n === 1 ? 'cambio' : 'cambios'}).`;
    } else {
      const c = this.changes[i];
      this.stepText.textContent = `Cambio ${i + 1} de ${n} · ${time(c.recorded_at)} · ${c.summary || eventLabel(c.type)}`;
    }
    for (const [j, li] of [...this.changeList.children].entries()) {
      const btn = li.querySelector('button');
      if (!btn) continue;
      btn.setAttribute('aria-current', j === i ? 'step' : 'false');
      li.classList.toggle('is-current', j === i);
      li.classList.toggle('is-future', this.view && j > i);
    }
    this.revealCurrent();
  }

  /** revealCurrent scrolls the change list (only it, never the page) to the current change. */
  revealCurrent() {
    const list = this.changeList;
    const li = list.children[this.index];
    if (!li || list.scrollHeight <= list.clientHeight) return;
    if (li.offsetTop < list.scrollTop) {
      list.scrollTop = li.offsetTop;
    } else if (li.offsetTop + li.offsetHeight > list.scrollTop + list.clientHeight) {
      list.scrollTop = li.offsetTop + li.offsetHeight - list.clientHeight;
    }
  }

  renderChanges() {
    this.changeCount.textContent = String(this.changes.length);
    if (!this.changes.length) {
      this.changeList.replaceChildren(h('li', { class: 'empty' }, 'No hubo cambios este día.'));
      return;
    }
    this.changeList.replaceChildren(...this.changes.map((c, i) => h('li', { class: 'tl-change', dataset: { position: c.position, type: c.type, stream: c.stream } },
      h('button', {
        type: 'button',
        class: 'tl-change-btn',
        'aria-current': 'false',
        onclick: () => this.show({ date: this.changesDate, upto: c.position }, { push: false }),
      },
      h('span', { class: 'tl-change-head' },
        h('time', { datetime: c.recorded_at }, stamp(c.recorded_at).split(', ')[1] || time(c.recorded_at)),
        h('span', { class: 'tl-change-type' }, eventLabel(c.type)),
        h('span', { class: 'log-by' }, c.actor || '')),
      h('span', { class: 'tl-change-summary' }, c.summary || `${eventLabel(c.type)} en ${c.stream}`),
      h('span', { class: 'visually-hidden' }, `, cambio ${i + 1} de ${this.changes.length}`)))));
  }

  renderEmpty() {
    this.asOf.textContent = '';
    this.alertCount.textContent = '';
    this.levels.textContent = '';
    this.gone.hidden = true;
    this.alertList.replaceChildren(h('p', { class: 'empty' }, 'Sin datos para este momento.'));
    this.header.replaceChildren();
    this.shiftList.replaceChildren();
    this.logList.replaceChildren();
  }

  /**
   * informeSections is the latest document received by that moment, laid
   * out as its sections (folded: the board comes first), with a link to
   * the day on the Informes page.
   */
  informeSections(view) {
    const received = view.received || [];
    const r = received[received.length - 1];
    if (!r || !r.content) return null;
    const n = received.length;
    return h('details', { class: 'tl-doc', id: 'tl-doc', dataset: { edition: r.edition || '' } },
      h('summary', {}, `Secciones del informe ${r.edition || ''}${r.time ? ` de las ${r.time}` : ''}`,
        n > 1 ? h('span', { class: 'muted' }, ` (${n} documentos recibidos ese día)`) : null),
      h('p', { class: 'tl-doc-link' }, h('a', { href: `/informes?${new URLSearchParams({ date: view.date })}` }, `Ver los informes del ${dmy(view.date)}`)),
      documentSections(r.content, { headingLevel: 'h3', idPrefix: 'tl-doc' }));
  }

  /** renderView draws the informe as the board draws the present, marking what changed. */
  renderView(view, changed) {
    const ref = this.ref;
    const store = new Store();
    store.setAlerts(view.alerts || []);
    store.setShifts(view.date, view.shifts || []);
    store.setLog(view.date, view.log || []);
    const at = new Date(view.as_of);
    this.asOf.replaceChildren('Tablero del ', h('strong', {}, civilDate(view.date)), ' a las ',
      h('time', { datetime: view.as_of, id: 'tl-asof-time' }, stamp(view.as_of)),
      view.position ? h('span', { class: 'muted' }, ` · posición ${view.position}`) : null);

    const alerts = store.sortedAlerts();
    this.alertCount.textContent = String(alerts.length);
    const byLevel = new Map();
    for (const a of alerts) byLevel.set(a.level, (byLevel.get(a.level) || 0) + 1);
    this.levels.textContent = [...byLevel.entries()]
      .sort((a, b) => levelRank(b[0]) - levelRank(a[0]))
      .map(([level, n]) => `${ref.level(level)}: ${n}`).join(' · ');
    this.alertList.replaceChildren(...(alerts.length
      ? alerts.map((a) => alertCard(a, { ref, changed: !!changed?.alerts.changed.has(a.id) }))
      : [h('p', { class: 'empty' }, 'No había alertas vigentes.')]));
    const gone = changed ? changed.alerts.gone : [];
    this.gone.hidden = !gone.length;
    this.gone.replaceChildren(...gone.map((a) => h('li', { class: 'tl-gone-item', dataset: { alertId: a.id } },
      h('span', { class: 'changed-tag' }, 'Cambió aquí'), ` Dejó de estar vigente: ${a.title} (${ref.level(a.level)})`)));

    const hd = view.header;
    this.header.classList.toggle('is-changed', !!changed?.header);
    this.header.replaceChildren(...(hd
      ? [h('p', { class: 'tl-header-title' }, `Informe ${hd.number ? `N° ${hd.number}` : ''}${hd.title ? `: ${hd.title}` : ''}`),
        h('p', { class: 'muted' }, [hd.source ? `Fuente: ${hd.source}` : '', hd.issued_at ? `emitido ${stamp(hd.issued_at)}` : ''].filter(Boolean).join(' · ')),
        hd.summary ? h('p', { class: 'tl-header-summary' }, hd.summary) : null,
        this.informeSections(view)]
      : [h('p', { class: 'empty' }, 'No se había recibido un informe para este día.')]));

    const shifts = store.sortedShifts();
    const goneShifts = changed ? changed.shifts.gone : [];
    this.shiftList.replaceChildren(...(shifts.length
      ? shifts.map((s) => shiftItem(s, { at, changed: !!changed?.shifts.changed.has(s.slot) }))
      : [h('li', { class: 'empty' }, 'No había turnos asignados.')]),
    ...goneShifts.map((s) => h('li', { class: 'tl-gone-item' }, h('span', { class: 'changed-tag' }, 'Cambió aquí'), ` Turno ${s.slot} quedó vacante`)));

    const entries = store.sortedLog();
    this.logList.replaceChildren(...(entries.length
      ? entries.map((e) => logItem(e, { ref, changed: !!changed?.log.changed.has(e.id) }))
      : [h('li', { class: 'empty' }, 'Sin novedades registradas hasta ese momento.')]));
  }
}
