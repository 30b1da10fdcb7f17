// Form plumbing shared by the login, the alert dialogs and the log form:
// labelled fields with their error slot, problem+json field errors shown
// next to the inputs, banners for every other problem, modal dialogs.

import { h } from './dom.js';

/**
 * field wraps a control with its label, an optional hint and the slot where
 * a 422 message for name goes. The control must have an id.
 */
export function field({ label, control, name, hint }) {
  const errId = `${control.id}-error`;
  const hintId = hint ? `${control.id}-hint` : undefined;
  control.setAttribute('aria-describedby', [hintId, errId].filter(Boolean).join(' '));
  return h('div', { class: 'field', dataset: { field: name || control.name } },
    h('label', { for: control.id }, label),
    hint && h('p', { class: 'hint', id: hintId }, hint),
    control,
    h('p', { class: 'field-error', id: errId, hidden: true }));
}

/** errorSlot is a standalone error slot for a fieldset (level, scope). */
export function errorSlot(name, id) {
  return h('p', { class: 'field-error', id, dataset: { errorFor: name }, hidden: true });
}

/** clearErrors hides every field error of root. */
export function clearErrors(root) {
  for (const p of root.querySelectorAll('.field-error')) {
    p.hidden = true;
    p.textContent = '';
  }
  for (const el of root.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/**
 * showFieldErrors puts each message next to its input (fields maps names to
 * Spanish messages) and focuses the first; it returns the messages no input
 * of root could show, for the banner.
 */
export function showFieldErrors(root, fields, aliases = {}) {
  const rest = {};
  let first = null;
  for (const [name, msg] of Object.entries(fields || {})) {
    const key = aliases[name] || name;
    const slot = root.querySelector(`[data-field="${CSS.escape(key)}"] > .field-error`) ||
      root.querySelector(`[data-error-for="${CSS.escape(key)}"]`);
    if (!slot) {
      rest[name] = msg;
      continue;
    }
    slot.textContent = slot.hidden ? msg : `${slot.textContent} ${msg}`;
    slot.hidden = false;
    const input = root.querySelector(`[data-field="${CSS.escape(key)}"] :is(input, select, textarea)`) ||
      root.querySelector(`[data-error-group="${CSS.escape(key)}"] input`);
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      first = first || input;
    }
  }
  if (first) first.focus();
  return rest;
}

/**
 * showBanner shows a problem (an ApiError, or {title, detail}) or a plain
 * message in el; kind is 'error' (default), 'info' or 'ok'.
 */
export function showBanner(el, problem, kind = 'error', extra = {}) {
  let text;
  if (typeof problem === 'string') {
    text = problem;
  } else if (problem && problem.summary) {
    text = problem.summary;
    if (problem.status === 429 && problem.retryAfter) text += ` Intente de nuevo en ${problem.retryAfter} s.`;
  } else {
    text = [problem?.title, problem?.detail].filter(Boolean).join('. ');
  }
  const details = Object.entries(extra).map(([k, v]) => h('li', {}, `${k}: ${v}`));
  el.replaceChildren(h('p', {}, text));
  if (details.length) el.append(h('ul', {}, details));
  el.className = `banner banner-${kind}`;
  el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  el.hidden = false;
}

export function hideBanner(el) {
  el.hidden = true;
  el.replaceChildren();
}

/**
 * openDialog shows a modal <dialog> labelled by its heading; close() removes
 * it. onClose runs however it closes (button, Escape, close()).
 */
export function openDialog({ id, title, children, onClose = () => {}, wide = false }) {
  const headingId = `${id}-title`;
  const dialog = h('dialog', { id, class: wide ? 'dialog dialog-wide' : 'dialog', 'aria-labelledby': headingId },
    h('div', { class: 'dialog-head' },
      h('h2', { id: headingId }, title),
      h('button', { type: 'button', class: 'btn btn-ghost dialog-x', 'aria-label': 'Cerrar', onclick: () => dialog.close() }, '×')),
    children);
  dialog.addEventListener('close', () => {
    dialog.remove();
    onClose();
  });
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close: () => dialog.open && dialog.close() };
}

/** setBusy disables a form's buttons while a request is in flight. */
export function setBusy(form, busy) {
  form.toggleAttribute('aria-busy', busy);
  for (const b of form.querySelectorAll('button')) {
    if (busy) {
      b.dataset.wasDisabled = b.disabled ? '1' : '';
      b.disabled = true;
    } else {
      b.disabled = b.dataset.wasDisabled === '1';
      delete b.dataset.wasDisabled;
    }
  }
}

/**
 * problemFields lists what a problem says about each field: its fields
 * member (this API's), or an errors member (a list of {field|pointer,
 * detail|message}, or a map), for the banner's list.
 */
export function problemFields(err) {
  const p = err?.problem || {};
  const out = { ...(p.fields || {}) };
  if (Array.isArray(p.errors)) {
    p.errors.forEach((e, i) => {
      if (e && typeof e === 'object') out[e.field || e.pointer || e.name || String(i + 1)] = e.detail || e.message || JSON.stringify(e);
      else out[String(i + 1)] = String(e);
    });
  } else if (p.errors && typeof p.errors === 'object') {
    for (const [k, v] of Object.entries(p.errors)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

/** showProblem shows a failed request in a banner: title, detail and each field's message. */
export function showProblem(el, err, prefix = '') {
  if (prefix) {
    showBanner(el, `${prefix} ${err?.summary || String(err)}`, 'error', problemFields(err));
    return;
  }
  showBanner(el, err?.summary ? err : String(err), 'error', problemFields(err));
}
