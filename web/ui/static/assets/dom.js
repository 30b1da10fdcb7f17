// Small DOM helpers. Every piece of data goes into the page as a text node or
// a property, never parsed as HTML, so nothing an operator types (or an
// informe carries) can inject markup.

/**
 * h builds an element. props: class, text, dataset ({key: value}), on<event>
 * (a listener, added with addEventListener), boolean or non-string values
 * as properties (checked, disabled, hidden, selected), anything else as an
 * attribute. Children are nodes or strings (added as text); null, undefined
 * and false are skipped; arrays are flattened.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') {
      el.className = value;
    } else if (key === 'text') {
      el.textContent = value;
    } else if (key === 'dataset') {
      for (const [k, v] of Object.entries(value)) {
        if (v !== undefined && v !== null) el.dataset[k] = String(v);
      }
    } else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (typeof value !== 'string' && key in el) {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  appendAll(el, children);
  return el;
}

/** appendAll adds children (nodes or text) to el. */
export function appendAll(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

/**
 * keepFocus runs render, which replaces children of container, and then
 * gives the focus back to the element with the same data-focus-key, so a
 * live update never throws an operator's keyboard focus away.
 */
export function keepFocus(container, render) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.focusKey : undefined;
  render();
  if (key) {
    const again = container.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
    if (again) again.focus({ preventScroll: true });
  }
}

/** uid returns a page-unique id for label/input pairs. */
let counter = 0;
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}
