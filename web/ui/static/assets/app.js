// Entry point of the operators' app: the page the address names (the board
// at /, the audit at /auditoria, one stream's history at /historial, the
// línea de tiempo at /linea-de-tiempo, the informes at /informes) when the
// session is valid, else the
// login form, which comes back to the same page.

import { api, ApiError, onUnauthorized } from './api.js';
import { h } from './dom.js';
import { Reference } from './format.js';
import { showLogin } from './login.js';
import { Board } from './board.js';
import { AuditPage } from './audit.js';
import { HistoryPage } from './history.js';
import { TimelinePage } from './timeline.js';
import { InformesPage } from './informes.js';

const root = document.getElementById('app');
// board is the page shown: each has start(), destroy() and problem(err).
let board = null;
let reference = null;

const PAGE_TYPES = {
  '/auditoria': AuditPage,
  '/historial': HistoryPage,
  '/linea-de-tiempo': TimelinePage,
  '/informes': InformesPage,
};

async function enter(me) {
  if (!reference) reference = new Reference((await api.get('/api/reference')).data);
  const path = window.location.pathname.replace(/\/+$/, '') || '/';
  const Page = PAGE_TYPES[path] || Board;
  board = new Page(root, { me, ref: reference, onLogout: logout });
  await board.start();
}

function toLogin(message = '') {
  if (board) {
    board.destroy();
    board = null;
  }
  showLogin(root, {
    message,
    onLoggedIn: (me) => enter(me).catch(fatal),
  });
}

async function logout() {
  try {
    await api.post('/api/auth/logout');
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) {
      board?.problem(err);
      return;
    }
  }
  toLogin('Cerró su sesión.');
}

function fatal(err) {
  if (board) {
    board.destroy();
    board = null;
  }
  const summary = err instanceof ApiError ? err.summary : String(err);
  root.replaceChildren(h('main', { id: 'main', class: 'login-page' },
    h('div', { class: 'login-card', role: 'alert' },
      h('h1', {}, 'No se pudo cargar Vigía'),
      h('p', {}, summary),
      h('button', { type: 'button', class: 'btn btn-primary', onclick: boot }, 'Reintentar'))));
}

// A 401 from any request while the board is open: the session ended.
onUnauthorized(() => {
  if (board) toLogin('Su sesión terminó. Inicie sesión de nuevo.');
});

async function boot() {
  let me;
  try {
    me = (await api.get('/api/auth/me')).data;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      toLogin();
      return;
    }
    fatal(err);
    return;
  }
  await enter(me).catch(fatal);
}

boot();
