// The alert dialogs: edit (PATCH with If-Match and the 412 "someone else
// changed it" flow), declare (POST) and cancel (POST …/cancel with If-Match).

import { api } from './api.js';
import { h } from './dom.js';
import { field, errorSlot, clearErrors, showFieldErrors, showBanner, hideBanner, openDialog, setBusy } from './forms.js';
import { when } from './format.js';
import { changesTable } from './views.js';

// The API names scope errors region, provincias or comunas; the form shows
// them under the one scope picker.
const SCOPE_ALIASES = { region: 'scope', provincias: 'scope', comunas: 'scope' };

function sortedEqual(a = [], b = []) {
  if (a.length !== b.length) return false;
  const x = [...a].sort();
  const y = [...b].sort();
  return x.every((v, i) => v === y[i]);
}

/** sameScope compares two scopes ({region, provincias, comunas}). */
export function sameScope(a, b) {
  if (!!a.region !== !!b.region) return false;
  return !!a.region || (sortedEqual(a.provincias, b.provincias) && sortedEqual(a.comunas, b.comunas));
}

/** diffAlerts lists what differs between two versions of an alert, field by field. */
export function diffAlerts(before, after, ref) {
  const rows = [];
  const add = (label, x, y) => {
    if (x !== y) rows.push({ label, before: x, after: y });
  };
  add('Estado', before.status === 'vigente' ? 'Vigente' : 'Cancelada', after.status === 'vigente' ? 'Vigente' : 'Cancelada');
  add('Nivel', ref.level(before.level), ref.level(after.level));
  add('Amenaza', ref.hazard(before.hazard), ref.hazard(after.hazard));
  add('Título', before.title || '', after.title || '');
  add('Descripción', before.description || '', after.description || '');
  if (!sameScope(before, after)) rows.push({ label: 'Alcance', before: ref.scopeText(before), after: ref.scopeText(after) });
  add('Resolución', before.resolution || '', after.resolution || '');
  if (after.cancel_reason) add('Motivo de cancelación', before.cancel_reason || '', after.cancel_reason);
  return rows;
}

/** describePatch says in words what an operator's PATCH changes. */
function describePatch(patch, ref) {
  const parts = [];
  if ('level' in patch) parts.push(`nivel → ${ref.level(patch.level)}`);
  if ('title' in patch) parts.push(`título → «${patch.title}»`);
  if ('description' in patch) parts.push('descripción');
  if ('region' in patch) parts.push(`alcance → ${ref.scopeText(patch)}`);
  return parts.join('; ');
}

function levelPicker(ref, prefix, selected) {
  const err = errorSlot('level', `${prefix}-level-error`);
  return h('fieldset', { class: 'level-picker', dataset: { errorGroup: 'level' }, 'aria-describedby': err.id },
    h('legend', {}, 'Nivel'),
    h('div', { class: 'level-options' }, ref.levels.map((l) => {
      const id = `${prefix}-level-${l.code}`;
      return h('div', { class: `level-option level-${l.code}` },
        h('input', { type: 'radio', name: 'level', id, value: l.code, checked: l.code === selected }),
        h('label', { for: id }, l.label));
    })),
    err);
}

function setLevel(form, level) {
  for (const r of form.querySelectorAll('input[name="level"]')) r.checked = r.value === level;
}

/** scopePicker: the whole region, or provincias and comunas grouped by provincia. */
function scopePicker(ref, prefix, scope) {
  const regionId = `${prefix}-region`;
  const region = h('input', { type: 'checkbox', id: regionId, name: 'region' });
  const grid = h('div', { class: 'scope-grid' }, ref.provincias.map((p) => {
    const pid = `${prefix}-prov-${p.cut}`;
    return h('fieldset', { class: 'scope-prov' },
      h('legend', {}, p.provincia),
      h('div', { class: 'check check-prov' },
        h('input', { type: 'checkbox', id: pid, name: 'provincias', value: p.cut }),
        h('label', { for: pid }, 'Toda la provincia')),
      (p.comunas || []).map((c) => {
        const cid = `${prefix}-com-${c.cut}`;
        return h('div', { class: 'check' },
          h('input', { type: 'checkbox', id: cid, name: 'comunas', value: c.cut }),
          h('label', { for: cid }, c.nombre));
      }));
  }));
  const sync = () => {
    for (const el of grid.querySelectorAll('input')) el.disabled = region.checked;
    grid.classList.toggle('is-disabled', region.checked);
  };
  region.addEventListener('change', sync);
  const err = errorSlot('scope', `${prefix}-scope-error`);
  const el = h('fieldset', { class: 'scope-picker', dataset: { errorGroup: 'scope' }, 'aria-describedby': err.id },
    h('legend', {}, 'Alcance'),
    h('div', { class: 'check check-region' }, region, h('label', { for: regionId }, 'Toda la Región de Valparaíso')),
    grid,
    err);
  const checked = (name) => [...grid.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
  const set = (s) => {
    region.checked = !!s.region;
    for (const i of grid.querySelectorAll('input[name="provincias"]')) i.checked = !s.region && (s.provincias || []).includes(i.value);
    for (const i of grid.querySelectorAll('input[name="comunas"]')) i.checked = !s.region && (s.comunas || []).includes(i.value);
    sync();
  };
  set(scope);
  return {
    el,
    set,
    read: () => (region.checked
      ? { region: true, provincias: [], comunas: [] }
      : { region: false, provincias: checked('provincias'), comunas: checked('comunas') }),
  };
}

function textInput(id, name, value, attrs = {}) {
  const el = h('input', { id, name, type: 'text', autocomplete: 'off', ...attrs });
  el.value = value || '';
  return el;
}

function textArea(id, name, value, attrs = {}) {
  const el = h('textarea', { id, name, rows: 4, ...attrs });
  el.value = value || '';
  return el;
}

/** handleProblem shows a failed request: 422 (and 400) fields by the inputs, the rest in the banner. */
function handleProblem(form, banner, err) {
  if ((err.status === 422 || err.status === 400) && Object.keys(err.fields).length) {
    const rest = showFieldErrors(form, err.fields, SCOPE_ALIASES);
    showBanner(banner, err, 'error', rest);
    return;
  }
  showBanner(banner, err);
}

/**
 * openEditAlert opens the edit form on the version of alert it is given.
 * The PATCH sends only what the operator changed, with If-Match of that
 * version. On 412 it shows who changed what and offers to reapply.
 * It returns {alertId, remoteChanged(row)} so the board can say when a
 * live update touches the alert being edited.
 */
export function openEditAlert({ alert, ref, onSaved, onClose }) {
  const prefix = 'edit';
  let base = alert; // the version this form's changes are based on
  let conflicted = false;
  const title = textInput(`${prefix}-title`, 'title', alert.title, { maxlength: 200, required: true });
  const description = textArea(`${prefix}-description`, 'description', alert.description, { maxlength: 5000 });
  const reason = textInput(`${prefix}-reason`, 'reason', '', { maxlength: 500 });
  const scope = scopePicker(ref, prefix, alert);
  const banner = h('div', { class: 'banner', hidden: true });
  const notice = h('div', { class: 'banner banner-info', hidden: true });
  const conflict = h('section', { class: 'conflict', id: `${prefix}-conflict`, hidden: true, 'aria-labelledby': `${prefix}-conflict-title` });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', id: `${prefix}-save` }, 'Guardar cambios');
  const lead = h('p', { class: 'form-lead', id: `${prefix}-lead` });
  const showLead = () => {
    lead.textContent = `${ref.hazard(alert.hazard)} · editando la versión ${base.version}, actualizada por ${base.updated_by || '—'} ${when(base.updated_at)}`;
  };
  showLead();
  const form = h('form', { class: 'form', id: `${prefix}-form`, novalidate: true },
    lead,
    banner, notice, conflict,
    levelPicker(ref, prefix, alert.level),
    field({ label: 'Título', control: title }),
    field({ label: 'Descripción', control: description }),
    scope.el,
    field({ label: 'Motivo del cambio', control: reason, hint: 'Opcional; queda en el historial de la alerta.' }),
    h('div', { class: 'form-actions' },
      save,
      h('button', { type: 'button', class: 'btn', onclick: () => dlg.close() }, 'Cerrar')));

  const values = () => ({
    level: form.elements.level.value,
    title: title.value.trim(),
    description: description.value.trim(),
    ...scope.read(),
  });

  // changes is the PATCH body: only the fields that differ from base.
  const changes = (from, v) => {
    const patch = {};
    if (v.level && v.level !== from.level) patch.level = v.level;
    if (v.title !== (from.title || '')) patch.title = v.title;
    if (v.description !== (from.description || '')) patch.description = v.description;
    if (!sameScope(from, v)) Object.assign(patch, { region: v.region, provincias: v.provincias, comunas: v.comunas });
    return patch;
  };

  // rebase moves the form onto current: the fields the operator did not
  // change take the current values, so a save never reverts the other
  // person's work.
  const rebase = (current, mine) => {
    if (!('level' in mine)) setLevel(form, current.level);
    if (!('title' in mine)) title.value = current.title || '';
    if (!('description' in mine)) description.value = current.description || '';
    if (!('region' in mine)) scope.set(current);
    base = current;
    showLead();
  };

  const showConflict = (current, mine) => {
    const rows = diffAlerts(base, current, ref);
    const cancelled = current.status !== 'vigente';
    conflict.replaceChildren(
      h('h3', { id: `${prefix}-conflict-title`, tabindex: '-1' }, 'Atención: otra persona modificó esta alerta'),
      h('p', { class: 'conflict-who' },
        h('strong', {}, current.updated_by || 'Otra persona'),
        ` la modificó ${when(current.updated_at)}. Usted la abrió en la versión ${base.version}; ahora va en la versión ${current.version}.`),
      rows.length ? changesTable(rows, 'Lo que cambió') : h('p', {}, 'No cambió ningún campo visible.'),
      h('p', { class: 'conflict-mine' }, h('strong', {}, 'Sus cambios: '), describePatch(mine, ref)),
      cancelled
        ? h('p', { class: 'conflict-stop' }, 'La alerta fue cancelada y ya no puede modificarse.')
        : h('div', { class: 'form-actions' },
          h('button', { type: 'button', class: 'btn btn-primary', id: `${prefix}-reapply`, onclick: () => submit() }, 'Reaplicar mis cambios'),
          h('button', { type: 'button', class: 'btn', onclick: () => dlg.close() }, 'Descartar mis cambios')));
    conflict.hidden = false;
    conflicted = true;
    save.hidden = cancelled;
    hideBanner(notice);
    rebase(current, mine);
  };

  const submit = async () => {
    clearErrors(form);
    hideBanner(banner);
    const patch = changes(base, values());
    if (Object.keys(patch).length === 0) {
      showBanner(banner, conflicted
        ? 'La versión actual ya contiene sus cambios; no hay nada que reaplicar.'
        : 'No hay cambios que guardar.', 'info');
      return;
    }
    const why = reason.value.trim();
    if (why) patch.reason = why;
    let focusAfter = null;
    setBusy(form, true);
    try {
      const { data } = await api.patch(`/api/alerts/${encodeURIComponent(alert.id)}`, patch, { ifMatch: base.version });
      onSaved(data);
      dlg.close();
      return;
    } catch (err) {
      if (err.status === 412 && err.current) {
        delete patch.reason;
        showConflict(err.current, patch);
        focusAfter = conflict.querySelector(`#${prefix}-reapply`) || conflict.querySelector('h3');
      } else {
        handleProblem(form, banner, err);
      }
    } finally {
      setBusy(form, false);
    }
    if (focusAfter) focusAfter.focus();
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit();
  });

  const dlg = openDialog({ id: `${prefix}-dialog`, title: 'Editar alerta', children: form, onClose, wide: true });
  title.focus();

  return {
    alertId: alert.id,
    remoteChanged(row) {
      if (row.version <= base.version) return;
      const who = row.updated_by || 'Otra persona';
      showBanner(notice, row.status === 'vigente'
        ? `${who} acaba de modificar esta alerta (versión ${row.version}). Si guarda, verá qué cambió y podrá reaplicar sus cambios.`
        : `${who} acaba de cancelar esta alerta; ya no puede modificarse.`, 'info');
    },
    close: () => dlg.close(),
  };
}

/** openDeclareAlert opens the form that declares a new alert (POST /api/alerts). */
export function openDeclareAlert({ ref, onSaved, onClose }) {
  const prefix = 'declare';
  const hazard = h('select', { id: `${prefix}-hazard`, name: 'hazard', required: true },
    h('option', { value: '' }, 'Seleccione la amenaza…'),
    ref.hazards.map((x) => h('option', { value: x.code }, x.label)));
  const title = textInput(`${prefix}-title`, 'title', '', { maxlength: 200, required: true });
  const description = textArea(`${prefix}-description`, 'description', '', { maxlength: 5000 });
  const scope = scopePicker(ref, prefix, { region: false, provincias: [], comunas: [] });
  const banner = h('div', { class: 'banner', hidden: true });
  const form = h('form', { class: 'form', id: `${prefix}-form`, novalidate: true },
    banner,
    field({ label: 'Amenaza', control: hazard }),
    levelPicker(ref, prefix, ''),
    field({ label: 'Título', control: title, hint: 'Por ejemplo: Alerta Amarilla por calor extremo en valles interiores.' }),
    field({ label: 'Descripción', control: description }),
    scope.el,
    h('div', { class: 'form-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary', id: `${prefix}-save` }, 'Declarar alerta'),
      h('button', { type: 'button', class: 'btn', onclick: () => dlg.close() }, 'Cerrar')));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    hideBanner(banner);
    const missing = {};
    if (!hazard.value) missing.hazard = 'Seleccione la amenaza.';
    if (!form.elements.level.value) missing.level = 'Seleccione el nivel de la alerta.';
    if (Object.keys(missing).length) {
      showFieldErrors(form, missing);
      return;
    }
    const body = {
      hazard: hazard.value,
      level: form.elements.level.value,
      title: title.value.trim(),
      description: description.value.trim(),
      ...scope.read(),
    };
    setBusy(form, true);
    try {
      const { data } = await api.post('/api/alerts', body);
      onSaved(data);
      dlg.close();
    } catch (err) {
      handleProblem(form, banner, err);
    } finally {
      setBusy(form, false);
    }
  });

  const dlg = openDialog({ id: `${prefix}-dialog`, title: 'Declarar alerta', children: form, onClose, wide: true });
  hazard.focus();
  return { alertId: '', remoteChanged() {}, close: () => dlg.close() };
}

/** openCancelAlert confirms and cancels an alert (If-Match of the version shown). */
export function openCancelAlert({ alert, ref, onSaved, onClose }) {
  const prefix = 'cancel';
  let base = alert;
  const reason = textInput(`${prefix}-reason`, 'reason', '', { maxlength: 500 });
  const banner = h('div', { class: 'banner', hidden: true });
  const conflict = h('section', { class: 'conflict', hidden: true, 'aria-labelledby': `${prefix}-conflict-title` });
  const confirm = h('button', { type: 'submit', class: 'btn btn-danger', id: `${prefix}-confirm` }, 'Cancelar alerta');
  const form = h('form', { class: 'form', id: `${prefix}-form`, novalidate: true },
    h('p', { class: 'form-lead' },
      `Se cancelará la ${ref.level(alert.level)} «${alert.title}». Dejará de figurar como vigente en todos los tableros y pantallas.`),
    banner, conflict,
    field({ label: 'Motivo de la cancelación', control: reason, hint: 'Por ejemplo: condiciones meteorológicas normalizadas.' }),
    h('div', { class: 'form-actions' },
      confirm,
      h('button', { type: 'button', class: 'btn', onclick: () => dlg.close() }, 'Volver')));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    hideBanner(banner);
    setBusy(form, true);
    try {
      const { data } = await api.post(`/api/alerts/${encodeURIComponent(alert.id)}/cancel`, { reason: reason.value.trim() }, { ifMatch: base.version });
      onSaved(data);
      dlg.close();
    } catch (err) {
      if (err.status === 412 && err.current) {
        const current = err.current;
        const gone = current.status !== 'vigente';
        conflict.replaceChildren(
          h('h3', { id: `${prefix}-conflict-title` }, 'Atención: otra persona modificó esta alerta'),
          h('p', {}, h('strong', {}, current.updated_by || 'Otra persona'),
            gone ? ` ya la canceló ${when(current.updated_at)}.` : ` la modificó ${when(current.updated_at)} (versión ${current.version}).`),
          gone ? null : changesTable(diffAlerts(base, current, ref), 'Lo que cambió'),
          gone ? null : h('p', {}, 'Revise los cambios; si aún corresponde, confirme la cancelación de la versión actual.'));
        conflict.hidden = false;
        base = current;
        confirm.textContent = 'Cancelar de todos modos';
        confirm.hidden = gone;
      } else {
        handleProblem(form, banner, err);
      }
    } finally {
      setBusy(form, false);
    }
  });

  const dlg = openDialog({ id: `${prefix}-dialog`, title: 'Cancelar alerta', children: form, onClose });
  reason.focus();
  return { alertId: alert.id, remoteChanged() {}, close: () => dlg.close() };
}
