// The board's pieces, shared by the live board (/) and the línea de tiempo
// (/linea-de-tiempo), which shows the board as it was: an alert card, a
// shift, a novedad, and the before → after table of a change.

import { h } from './dom.js';
import { categoryLabel, shiftActive, slotLabel, time, when } from './format.js';

/** changedTag says in words that an item changed in the step shown (never colour alone). */
function changedTag() {
  return h('span', { class: 'changed-tag' }, 'Cambió aquí');
}

/**
 * alertCard renders an alert in force. flash animates a live update;
 * changed marks it as what the step of a línea de tiempo changed; actions
 * are the buttons under it (the board's Editar and Cancelar).
 */
export function alertCard(a, { ref, flash = false, changed = false, actions = null }) {
  const titleId = `alert-${a.id}-title`;
  const meta = (label, value) => [h('dt', {}, label), h('dd', {}, value)];
  return h('article', {
    class: `alert-card level-${a.level}${flash ? ' is-updated' : ''}${changed ? ' is-changed' : ''}`,
    dataset: { alertId: a.id, level: a.level, version: a.version },
    'aria-labelledby': titleId,
  },
  h('div', { class: 'alert-card-head' },
    h('span', { class: 'level-badge' }, ref.level(a.level)),
    h('span', { class: 'hazard' }, ref.hazard(a.hazard)),
    changed ? changedTag() : null),
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
    actions));
}

/** shiftItem renders a shift; it is "En curso" when at (a Date) falls in its hours. */
export function shiftItem(s, { at = new Date(), changed = false } = {}) {
  const active = shiftActive(s, at);
  return h('li', { class: `shift${active ? ' is-active' : ''}${changed ? ' is-changed' : ''}`, dataset: { slot: s.slot, version: s.version } },
    h('div', { class: 'shift-head' },
      h('span', { class: 'shift-slot' }, slotLabel(s.slot)),
      h('span', { class: 'shift-hours' }, `${s.start}–${s.end}`),
      changed ? changedTag() : null,
      active ? h('span', { class: 'pill pill-ok' }, 'En curso') : null),
    h('p', { class: 'shift-lead' }, h('span', { class: 'muted' }, 'Jefatura: '), s.lead || '—'),
    (s.operators || []).length ? h('p', {}, h('span', { class: 'muted' }, 'Operadores: '), s.operators.join(', ')) : null,
    s.notes ? h('p', { class: 'shift-notes' }, s.notes) : null);
}

/** logItem renders a novedad. */
export function logItem(e, { ref, flash = false, changed = false }) {
  const comunas = (e.comunas || []).map((c) => ref.comuna(c));
  return h('li', { class: `log-entry${flash ? ' is-updated' : ''}${changed ? ' is-changed' : ''}`, dataset: { entryId: e.id, version: e.version } },
    h('div', { class: 'log-head' },
      h('time', { datetime: e.at }, time(e.at)),
      h('span', { class: `cat cat-${e.category}` }, categoryLabel(e.category)),
      changed ? changedTag() : null,
      h('span', { class: 'log-by' }, e.by)),
    h('p', { class: 'log-text' }, e.text),
    comunas.length ? h('p', { class: 'log-comunas' }, comunas.join(', ')) : null,
    e.corrected ? h('p', { class: 'log-corrected' }, `Corregida por ${e.corrected_by || e.by}${e.reason ? `: ${e.reason}` : ''}`) : null);
}

/**
 * changesTable is a before → after table: rows are {label, before, after},
 * values strings or nodes; an empty string reads "(vacío)".
 */
export function changesTable(rows, caption, { afterLabel = 'Ahora', className = '' } = {}) {
  const cell = (v) => h('td', {}, v === '' || v === null || v === undefined ? h('span', { class: 'muted' }, '(vacío)') : v);
  return h('table', { class: `changes${className ? ` ${className}` : ''}` },
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Campo'), h('th', { scope: 'col' }, 'Antes'), h('th', { scope: 'col' }, afterLabel))),
    h('tbody', {}, rows.map((r) => h('tr', { dataset: { field: r.field } }, h('th', { scope: 'row' }, r.label), cell(r.before), cell(r.after)))));
}
