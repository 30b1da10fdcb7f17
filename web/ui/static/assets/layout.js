// The top bar every page of the operators' app shares: the brand, the
// page's own middle part (the board's connection state and clock), who is
// logged in with "Cambiar contraseña" and "Cerrar sesión", and the
// navigation between pages. Auditoría is listed only for
// the roles that may read it (/api/auth/me's can_audit).

import { h } from './dom.js';
import { roleLabel } from './format.js';
import { brand, openChangePassword } from './login.js';

/** PAGES are the app's pages: path, nav label, and who sees the link. */
export const PAGES = [
  { path: '/', label: 'Tablero', id: 'nav-board' },
  { path: '/linea-de-tiempo', label: 'Línea de tiempo', id: 'nav-timeline' },
  { path: '/informes', label: 'Informes', id: 'nav-informes' },
  { path: '/auditoria', label: 'Auditoría', id: 'nav-audit', audit: true },
];

/** navFor lists the pages me may open, the current one marked aria-current. */
function nav(me, current) {
  return h('nav', { class: 'appnav', 'aria-label': 'Secciones' },
    h('ul', {}, PAGES.filter((p) => !p.audit || me.can_audit).map((p) => h('li', {},
      h('a', { href: p.path, id: p.id, 'aria-current': p.path === current ? 'page' : null }, p.label)))));
}

/**
 * topbar is the header: current is the path of the page shown (the
 * /historial page passes /auditoria), middle the page's own status nodes.
 */
export function topbar({ me, current, middle = [], onLogout }) {
  return h('header', { class: 'topbar' },
    brand(),
    h('div', { class: 'topbar-mid' }, middle),
    h('div', { class: 'user' },
      h('div', { class: 'user-text' },
        h('span', { class: 'user-name', id: 'user-name' }, me.display_name || me.username),
        h('span', { class: 'user-role' }, roleLabel(me.role))),
      h('button', { type: 'button', class: 'btn btn-ghost', id: 'change-password', onclick: (ev) => {
        const opener = ev.currentTarget;
        openChangePassword({ onClose: () => opener.isConnected && opener.focus() });
      } }, 'Cambiar contraseña'),
      h('button', { type: 'button', class: 'btn btn-ghost', id: 'logout', onclick: () => onLogout() }, 'Cerrar sesión')),
    nav(me, current));
}
