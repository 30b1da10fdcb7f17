// The audit page (/auditoria), for supervisors and admins: who changed what,
// newest first, from GET /api/audit. Filters by actor, stream or aggregate
// kind, event type and a time range (Santiago time, sent as RFC 3339); the
// address keeps them, so a search can be shared or reloaded. Each entry has
// its Spanish summary, a link to the stream's history and the field-level
// diff as a before → after table. "Cargar más" follows the cursor and
// "Exportar CSV" downloads the same query.

import { api, ApiError } from './api.js';
import { h } from './dom.js';
import { field, clearErrors, showFieldErrors, showBanner, showProblem, hideBanner, setBusy } from './forms.js';
import { EVENT_TYPES, STREAM_PREFIXES, categoryLabel, eventLabel, roleLabel, santiagoISO, stamp } from './format.js';
import { topbar } from './layout.js';
import { changesTable } from './views.js';

const PAGE_SIZE = 50;

// The filters as the address keeps them; from and to are datetime-local
// values in Santiago time.
const FILTERS = ['actor', 'stream', 'type', 'from', 'to'];

const FIELD_LABELS = {
  status: 'Estado', level: 'Nivel', hazard: 'Amenaza', title: 'Título', description: 'Descripción',
  region: 'Toda la región', provincias: 'Provincias', comunas: 'Comunas', resolution: 'Resolución',
  cancel_reason: 'Motivo de cancelación', declared_at: 'Declarada', id: 'Identificador',
  slot: 'Turno', date: 'Fecha', start: 'Inicio', end: 'Término', lead: 'Jefatura', operators: 'Operadores',
  notes: 'Notas', category: 'Categoría', text: 'Texto', alert_id: 'Alerta asociada', by: 'Escrita por',
  at: 'Hora', corrected: 'Corregida', reason: 'Motivo', number: 'Número', source: 'Fuente',
  issued_at: 'Emitido', summary: 'Resumen', username: 'Usuario', display_name: 'Nombre',
  role: 'Rol', disabled: 'Desactivado', created_at: 'Creado',
};
const FIELD_ORDER = Object.keys(FIELD_LABELS);
const TIME_FIELDS = new Set(['declared_at', 'at', 'issued_at', 'created_at']);

/** datetimeISO turns a datetime-local value (Santiago time) into RFC 3339. */
function datetimeISO(v) {
  const [d, t] = (v || '').split('T');
  return santiagoISO(d, t);
}

/** auditParams are /api/audit's query parameters for filters. */
export function auditParams(filters) {
  const q = new URLSearchParams();
  for (const k of ['actor', 'stream', 'type']) {
    if (filters[k]) q.set(k, filters[k]);
  }
  if (filters.from) q.set('from', datetimeISO(filters.from));
  if (filters.to) q.set('to', datetimeISO(filters.to));
  return q;
}

/** formatValue shows one side of a field's change in Spanish. */
function formatValue(name, v, ref) {
  if (v === null || v === undefined || v === '') return '';
  if (Array.isArray(v)) {
    if (!v.length) return '';
    if (name === 'comunas') return v.map((c) => ref.comuna(c)).join(', ');
    if (name === 'provincias') return v.map((c) => ref.provincia(c)).join(', ');
    return v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ');
  }
  if (typeof v === 'boolean') return v ? 'Sí' : 'No';
  if (typeof v === 'object') return JSON.stringify(v);
  const s = String(v);
  switch (name) {
    case 'level': return ref.level(s);
    case 'hazard': return ref.hazard(s);
    case 'category': return categoryLabel(s);
    case 'role': return roleLabel(s);
    case 'status': return s === 'vigente' ? 'Vigente' : s === 'cancelada' ? 'Cancelada' : s;
    default: return TIME_FIELDS.has(name) ? stamp(s) || s : s;
  }
}

/** diffRows orders a record's diff as the table shows it. */
export function diffRows(diff, ref) {
  const rank = (k) => {
    const i = FIELD_ORDER.indexOf(k);
    return i < 0 ? FIELD_ORDER.length : i;
  };
  return Object.keys(diff || {})
    .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1))
    .map((k) => ({
      field: k,
      label: FIELD_LABELS[k] || k,
      before: formatValue(k, diff[k]?.before, ref),
      after: formatValue(k, diff[k]?.after, ref),
    }));
}

export function historyHref(stream) {
  return `/historial?${new URLSearchParams({ stream })}`;
}

export class AuditPage {
  constructor(root, { me, ref, onLogout }) {
    this.root = root;
    this.me = me;
    this.ref = ref;
    this.onLogout = onLogout;
    this.filters = {};
    this.limit = PAGE_SIZE;
    this.next = '';
    this.count = 0;
    this.request = null;
    this.onPop = () => {
      this.readURL();
      this.fillForm();
      this.search(false);
    };
  }

  async start() {
    document.title = 'Auditoría · Vigía';
    this.readURL();
    this.render();
    this.fillForm();
    window.addEventListener('popstate', this.onPop);
    await this.search(false);
  }

  destroy() {
    this.destroyed = true;
    this.request?.abort();
    window.removeEventListener('popstate', this.onPop);
  }

  problem(err) {
    showProblem(this.banner, err);
  }

  /** readURL takes the filters (and the page size, limit) from the address. */
  readURL() {
    const q = new URLSearchParams(window.location.search);
    this.filters = {};
    for (const k of FILTERS) this.filters[k] = (q.get(k) || '').trim();
    const n = Number.parseInt(q.get('limit') || '', 10);
    this.limit = Number.isFinite(n) && n >= 1 && n <= 1000 ? n : PAGE_SIZE;
  }

  urlFor(filters) {
    const q = new URLSearchParams();
    for (const k of FILTERS) {
      if (filters[k]) q.set(k, filters[k]);
    }
    if (this.limit !== PAGE_SIZE) q.set('limit', String(this.limit));
    const s = q.toString();
    return s ? `/auditoria?${s}` : '/auditoria';
  }

  render() {
    const input = (id, name, type, attrs = {}) => h('input', { id, name, type, autocomplete: 'off', spellcheck: 'false', ...attrs });
    // Only admins see users in the audit (the server answers 403 to anyone
    // else who asks for user- streams or user.* events), so only they are
    // offered those filters.
    const admin = this.me && this.me.role === 'admin';
    this.inputs = {
      actor: input('audit-actor', 'actor', 'text', { autocapitalize: 'none', placeholder: 'p. ej. mjara' }),
      stream: input('audit-stream', 'stream', 'text', { list: 'audit-stream-kinds', autocapitalize: 'none', placeholder: 'alert- o alert-0193…' }),
      type: h('select', { id: 'audit-type', name: 'type' },
        h('option', { value: '' }, 'Todos'),
        EVENT_TYPES.filter((t) => admin || !t.startsWith('user.')).map((t) => h('option', { value: t }, `${eventLabel(t)} (${t})`))),
      from: input('audit-from', 'from', 'datetime-local'),
      to: input('audit-to', 'to', 'datetime-local'),
    };
    this.banner = h('div', { class: 'banner', id: 'audit-banner', hidden: true });
    this.csv = h('a', { class: 'btn', id: 'audit-csv', href: '/api/audit?format=csv', download: 'auditoria.csv' }, 'Exportar CSV');
    this.form = h('form', { class: 'form filters', id: 'audit-form', novalidate: true, 'aria-labelledby': 'audit-filters-heading' },
      h('h2', { id: 'audit-filters-heading', class: 'visually-hidden' }, 'Filtros'),
      h('div', { class: 'filters-grid' },
        field({ label: 'Actor (usuario)', control: this.inputs.actor }),
        field({ label: 'Stream o agregado', control: this.inputs.stream, hint: 'Un stream, o un tipo terminado en «-»' }),
        field({ label: 'Tipo de evento', control: this.inputs.type }),
        field({ label: 'Desde', control: this.inputs.from, hint: 'Hora de Santiago' }),
        field({ label: 'Hasta', control: this.inputs.to, hint: 'Hora de Santiago, sin incluir' })),
      h('datalist', { id: 'audit-stream-kinds' },
        STREAM_PREFIXES.filter((p) => admin || p.prefix !== 'user-').map((p) => h('option', { value: p.prefix }, `${p.label}: todos`))),
      h('div', { class: 'form-actions' },
        h('button', { type: 'submit', class: 'btn btn-primary', id: 'audit-search' }, 'Buscar'),
        h('button', { type: 'button', class: 'btn', id: 'audit-clear', onclick: () => this.clear() }, 'Limpiar filtros'),
        this.csv));
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.search(true);
    });

    this.status = h('p', { class: 'panel-sub', id: 'audit-count', role: 'status' });
    this.list = h('ol', { class: 'audit-list', id: 'audit-list', 'aria-labelledby': 'audit-heading' });
    this.more = h('button', { type: 'button', class: 'btn', id: 'audit-more', hidden: true, onclick: () => this.loadMore() }, 'Cargar más');

    this.root.replaceChildren(
      topbar({ me: this.me, current: '/auditoria', onLogout: () => this.onLogout() }),
      h('main', { id: 'main', class: 'page page-audit' },
        h('div', { class: 'page-head' },
          h('h1', { id: 'audit-heading' }, 'Auditoría'),
          h('p', { class: 'muted' }, 'Quién cambió qué y cuándo, con el detalle de cada campo. Lo más reciente primero.')),
        this.banner,
        h('section', { class: 'panel' }, this.form),
        h('section', { class: 'panel', 'aria-labelledby': 'audit-results-heading' },
          h('div', { class: 'panel-head' }, h('h2', { id: 'audit-results-heading' }, 'Cambios'), this.status),
          this.list,
          h('div', { class: 'list-more' }, this.more))));
  }

  fillForm() {
    for (const k of FILTERS) this.inputs[k].value = this.filters[k] || '';
    this.updateCSV();
  }

  readForm() {
    const f = {};
    for (const k of FILTERS) f[k] = this.inputs[k].value.trim();
    return f;
  }

  updateCSV() {
    const q = auditParams(this.filters);
    q.set('format', 'csv');
    this.csv.href = `/api/audit?${q}`;
  }

  clear() {
    for (const k of FILTERS) this.inputs[k].value = '';
    this.search(true);
  }

  /** search runs the form's query from its first page; push records it in the history. */
  async search(push) {
    clearErrors(this.form);
    hideBanner(this.banner);
    const f = push ? this.readForm() : { ...this.filters };
    const wrong = {};
    if (f.from && !datetimeISO(f.from)) wrong.from = 'Indique fecha y hora.';
    if (f.to && !datetimeISO(f.to)) wrong.to = 'Indique fecha y hora.';
    if (!wrong.from && !wrong.to && f.from && f.to && Date.parse(datetimeISO(f.from)) >= Date.parse(datetimeISO(f.to))) {
      wrong.to = '«Hasta» debe ser posterior a «Desde».';
    }
    if (Object.keys(wrong).length) {
      showFieldErrors(this.form, wrong);
      return;
    }
    this.filters = f;
    if (push) {
      const url = this.urlFor(f);
      if (url !== `${window.location.pathname}${window.location.search}`) window.history.pushState(null, '', url);
    }
    this.updateCSV();
    this.next = '';
    this.count = 0;
    this.list.replaceChildren();
    await this.loadPage();
  }

  async loadMore() {
    if (!this.next) return;
    const first = this.list.children.length;
    await this.loadPage();
    // The keyboard goes on from the first new entry.
    this.list.children[first]?.focus();
  }

  async loadPage() {
    this.request?.abort();
    const request = new AbortController();
    this.request = request;
    const q = auditParams(this.filters);
    q.set('limit', String(this.limit));
    if (this.next) q.set('cursor', this.next);
    this.list.setAttribute('aria-busy', 'true');
    this.more.disabled = true;
    setBusy(this.form, true);
    try {
      const { data } = await api.get(`/api/audit?${q}`, { signal: request.signal });
      if (this.destroyed || request.signal.aborted) return;
      const entries = data.entries || [];
      this.list.append(...entries.map((r) => this.entry(r)));
      this.count += entries.length;
      this.next = data.next || '';
      this.showStatus();
    } catch (err) {
      if (err.name === 'AbortError' || this.destroyed) return;
      this.next = '';
      this.showStatus(true);
      if (err instanceof ApiError && err.status === 400 && Object.keys(err.fields).length) {
        const rest = showFieldErrors(this.form, err.fields);
        showBanner(this.banner, err, 'error', rest);
      } else if (err instanceof ApiError && err.status === 403) {
        showBanner(this.banner, `${err.summary} La auditoría es solo para supervisores y administradores.`);
      } else {
        showProblem(this.banner, err);
      }
    } finally {
      if (this.request === request) {
        this.request = null;
        this.list.removeAttribute('aria-busy');
        this.more.disabled = false;
        setBusy(this.form, false);
      }
    }
  }

  showStatus(failed = false) {
    this.more.hidden = !this.next;
    if (failed) {
      this.status.textContent = '';
      return;
    }
    if (!this.count) {
      this.status.textContent = 'Ningún cambio coincide con los filtros.';
      return;
    }
    const n = this.count === 1 ? '1 cambio' : `${this.count} cambios`;
    this.status.textContent = this.next ? `${n} mostrados; hay más.` : `${n}${this.count === 1 ? ' mostrado' : ' mostrados'}; no hay más.`;
  }

  entry(r) {
    const actor = r.actor || {};
    const rows = diffRows(r.diff, this.ref);
    return h('li', {
      class: 'audit-entry',
      tabindex: '-1',
      dataset: { position: r.position, type: r.type, actor: actor.username || '', stream: r.stream, version: r.version },
    },
    h('div', { class: 'audit-head' },
      h('time', { class: 'audit-time', datetime: r.recorded_at }, stamp(r.recorded_at)),
      h('span', { class: 'audit-actor' }, h('strong', {}, actor.username || 'sistema'), actor.role ? h('span', { class: 'muted' }, ` · ${roleLabel(actor.role)}`) : null),
      h('span', { class: 'audit-type' }, eventLabel(r.type), ' ', h('code', {}, r.type))),
    h('p', { class: 'audit-summary' }, r.summary || `${eventLabel(r.type)} en ${r.stream}`),
    h('p', { class: 'audit-where' },
      h('a', { class: 'audit-stream', href: historyHref(r.stream), title: 'Ver el historial completo de este stream' }, r.stream),
      h('span', { class: 'muted' }, ` · versión ${r.version}`)),
    rows.length
      ? changesTable(rows, 'Cambios campo por campo', { afterLabel: 'Después', className: 'audit-diff' })
      : h('p', { class: 'muted audit-nodiff' }, 'Sin cambios de campos visibles.'));
  }
}
