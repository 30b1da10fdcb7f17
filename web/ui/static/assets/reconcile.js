// @ts-check
// The reconciliation of a day's informe with the board (GET
// /api/informes/{date}/reconciliation): what the informe's "Resumen de
// alertas vigentes" says that the board does not, or says otherwise, one
// item each, which an operator accepts (the hub applies the proposal to
// the board) or dismisses with a reason. The hub decides what an item
// proposes and whether it can be applied; this module only shows it.

import { api, ApiError } from './api.js';
import { h } from './dom.js';
import { field, clearErrors, showFieldErrors, showProblem, hideBanner, openDialog, setBusy } from './forms.js';
import { stamp } from './format.js';

/** @typedef {import('./format.js').Reference} Reference */
/** @typedef {{region: boolean, provincias: string[], comunas: string[]}} Scope */
/**
 * @typedef {{row: number, level: string, hazard: string, hazard_text: string, title: string,
 *   scope: Scope, problems: string[]}} Proposal
 */
/** @typedef {{id: string, level: string, hazard: string, title: string, version: number, scope: Scope}} BoardAlert */
/** @typedef {{by: string, at: string, reason: string, alert_id: string}} Decision */
/**
 * @typedef {{id: string, kind: 'missing'|'level'|'scope'|'extra'|'unreadable', summary: string,
 *   actionable: boolean, status: 'open'|'accepted'|'dismissed', decision: Decision|null,
 *   proposal: Proposal|null, alert: BoardAlert|null}} Item
 */
/**
 * @typedef {{date: string, informe: {edition: string, time: string, sha256: string, filename: string,
 *   received_at: string}|null, items: Item[]}} Reconciliation
 */

/** @type {Record<string, string>} */
const KIND_LABELS = {
  missing: 'Falta en el tablero',
  level: 'Nivel distinto',
  scope: 'Cobertura distinta',
  extra: 'Solo en el tablero',
  unreadable: 'Fila ilegible',
};

/** @type {Record<string, string>} */
const STATUS_LABELS = {
  open: 'Pendiente',
  accepted: 'Aceptada',
  dismissed: 'Descartada',
};

/** Kinds whose acceptance changes an existing alert: they send its version. */
const NEEDS_VERSION = new Set(['level', 'scope', 'extra']);

/**
 * kindLabel names an item's kind in Spanish.
 * @param {string} kind
 */
export function kindLabel(kind) {
  return KIND_LABELS[kind] || kind;
}

export class ReconcileList {
  /**
   * @param {{me: {can_edit: boolean}, ref: Reference, banner: HTMLElement,
   *   announce: (msg: string) => void}} opts
   */
  constructor({ me, ref, banner, announce }) {
    this.me = me;
    this.ref = ref;
    this.banner = banner;
    this.announce = announce;
    this.date = '';
    this.seq = 0;
    /** @type {Reconciliation|null} */
    this.data = null;
    /** @type {{close: () => void}|null} */
    this.dialog = null;
    this.count = h('span', { class: 'count', id: 'rc-count' }, '');
    this.sub = h('p', { class: 'panel-sub', id: 'rc-sub' });
    this.list = h('ol', { class: 'rc-list', id: 'rc-list', 'aria-labelledby': 'rc-heading' });
    this.el = h('section', { class: 'panel rc-panel', id: 'rc-panel', 'aria-labelledby': 'rc-heading' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'rc-heading' }, 'Conciliación con el tablero ', this.count), this.sub),
      this.list);
  }

  destroy() {
    this.dialog?.close();
  }

  /**
   * load reads and shows the reconciliation of date.
   * @param {string} date
   */
  async load(date) {
    const seq = ++this.seq;
    this.date = date;
    this.list.setAttribute('aria-busy', 'true');
    try {
      const { data } = await api.get(`/api/informes/${encodeURIComponent(date)}/reconciliation`);
      if (seq !== this.seq) return;
      this.data = data;
      this.render();
    } catch (err) {
      if (seq !== this.seq) return;
      this.data = null;
      this.count.textContent = '';
      this.sub.textContent = '';
      const missing = err instanceof ApiError && err.status === 404;
      this.list.replaceChildren(h('li', { class: 'empty' }, missing
        ? 'La conciliación no está disponible para este día.'
        : 'No se pudo cargar la conciliación.'));
      if (!missing) showProblem(this.banner, err, 'No se pudo cargar la conciliación.');
    } finally {
      if (seq === this.seq) this.list.removeAttribute('aria-busy');
    }
  }

  render() {
    const data = this.data;
    if (!data) return;
    const items = data.items || [];
    const open = items.filter((i) => i.status === 'open').length;
    this.count.textContent = String(open);
    this.count.title = `${open} pendientes de ${items.length}`;
    this.sub.textContent = data.informe
      ? `Según la edición ${data.informe.edition}${data.informe.time ? ` de las ${data.informe.time}` : ''} (${data.informe.filename || 'sin nombre'})`
      : '';
    if (!data.informe) {
      this.list.replaceChildren(h('li', { class: 'empty' }, 'No hay informe de este día con qué comparar el tablero.'));
      return;
    }
    if (!items.length) {
      this.list.replaceChildren(h('li', { class: 'empty' }, 'El tablero coincide con el informe: no hay diferencias.'));
      return;
    }
    this.list.replaceChildren(...items.map((item) => this.itemView(item)));
  }

  /**
   * scopeText describes a proposal's or an alert's territory.
   * @param {Scope|undefined} scope
   */
  scopeText(scope) {
    if (!scope) return '—';
    return this.ref.scopeText({ region: scope.region, provincias: scope.provincias || [], comunas: scope.comunas || [] });
  }

  /**
   * itemView renders one item with its decision or its buttons.
   * @param {Item} item
   * @returns {HTMLElement}
   */
  itemView(item) {
    const ref = this.ref;
    const sumId = `rc-${item.id}-summary`;
    const meta = (/** @type {string} */ label, /** @type {string|Node} */ value) => [h('dt', {}, label), h('dd', {}, value)];
    const p = item.proposal;
    const a = item.alert;
    const d = item.decision;
    let decision = null;
    if (item.status === 'accepted' && d) {
      decision = h('p', { class: 'rc-decision' }, `Aceptada por ${d.by} el ${stamp(d.at)}.`);
    } else if (item.status === 'dismissed' && d) {
      decision = h('p', { class: 'rc-decision' }, `Descartada por ${d.by} el ${stamp(d.at)}: `, h('q', {}, d.reason || '—'));
    }
    const editable = item.status === 'open' && this.me.can_edit;
    return h('li', { class: `rc-item is-${item.status}`, dataset: { itemId: item.id, kind: item.kind, status: item.status } },
      h('div', { class: 'rc-head' },
        h('span', { class: `rc-kind rc-kind-${item.kind}` }, kindLabel(item.kind)),
        h('span', { class: `rc-status rc-status-${item.status}` }, STATUS_LABELS[item.status] || item.status)),
      h('p', { class: 'rc-summary', id: sumId }, item.summary),
      (p || a) ? h('dl', { class: 'rc-meta' },
        p ? meta('Informe', `${ref.level(p.level)} · ${p.hazard ? ref.hazard(p.hazard) : p.hazard_text || '—'} · ${this.scopeText(p.scope)}`) : null,
        a ? meta('Tablero', `${ref.level(a.level)} · ${a.title} · ${this.scopeText(a.scope)}`) : null) : null,
      p && (p.problems || []).length ? h('ul', { class: 'rc-problems' }, p.problems.map((x) => h('li', {}, x))) : null,
      decision,
      editable ? h('div', { class: 'rc-actions' },
        item.actionable ? h('button', { type: 'button', class: 'btn btn-primary', dataset: { action: 'accept' }, 'aria-describedby': sumId, onclick: (/** @type {Event} */ ev) => this.accept(item, /** @type {HTMLButtonElement} */ (ev.currentTarget)) }, 'Aceptar') : null,
        h('button', { type: 'button', class: 'btn', dataset: { action: 'dismiss' }, 'aria-describedby': sumId, onclick: () => this.dismiss(item) }, 'Descartar')) : null);
  }

  /**
   * accept applies an item's proposal to the board.
   * @param {Item} item
   * @param {HTMLButtonElement} button
   */
  async accept(item, button) {
    hideBanner(this.banner);
    button.disabled = true;
    const version = NEEDS_VERSION.has(item.kind) ? item.alert?.version : undefined;
    try {
      await api.post(`/api/informes/${encodeURIComponent(this.date)}/reconciliation/${encodeURIComponent(item.id)}/accept`, {}, { ifMatch: version });
      this.announce(`Aceptada: ${item.summary}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) {
        showProblem(this.banner, 'Mientras revisaba, otra persona modificó esta alerta: la lista se actualizó. Revise la diferencia de nuevo.');
      } else {
        showProblem(this.banner, err, 'No se pudo aceptar la propuesta.');
      }
    }
    await this.load(this.date);
  }

  /**
   * dismiss asks for a reason in a dialog and records it.
   * @param {Item} item
   */
  dismiss(item) {
    if (this.dialog) return;
    const reason = h('textarea', { id: 'rc-dismiss-reason', name: 'reason', rows: 3, maxlength: 500, required: true, placeholder: 'p. ej. la alerta ya fue cancelada por resolución' });
    const banner = h('div', { class: 'banner', hidden: true });
    const form = h('form', { class: 'form', id: 'rc-dismiss-form', novalidate: true },
      banner,
      h('p', { class: 'form-lead' }, item.summary),
      field({ label: 'Motivo', control: reason, hint: 'Queda en la auditoría con su nombre.' }),
      h('div', { class: 'form-actions' },
        h('button', { type: 'submit', class: 'btn btn-primary', id: 'rc-dismiss-confirm' }, 'Descartar'),
        h('button', { type: 'button', class: 'btn', onclick: () => this.dialog?.close() }, 'Volver')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      hideBanner(banner);
      const text = /** @type {HTMLTextAreaElement} */ (reason).value.trim();
      if (!text) {
        showFieldErrors(form, { reason: 'Indique por qué se descarta.' });
        return;
      }
      setBusy(form, true);
      try {
        await api.post(`/api/informes/${encodeURIComponent(this.date)}/reconciliation/${encodeURIComponent(item.id)}/dismiss`, { reason: text });
        this.dialog?.close();
        this.announce(`Descartada: ${item.summary}`);
        await this.load(this.date);
      } catch (err) {
        if (err instanceof ApiError) showFieldErrors(form, err.fields);
        showProblem(banner, err);
      } finally {
        setBusy(form, false);
      }
    });
    this.dialog = openDialog({
      id: 'rc-dismiss-dialog',
      title: 'Descartar diferencia',
      children: form,
      onClose: () => {
        this.dialog = null;
        const again = this.list.querySelector(`[data-item-id="${CSS.escape(item.id)}"] [data-action="dismiss"]`);
        if (again instanceof HTMLElement) again.focus();
      },
    });
    reason.focus();
  }
}
