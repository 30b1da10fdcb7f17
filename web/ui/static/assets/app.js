// Entry point of the operators' app (/): the board when the session is
// valid, else the login form.

import { api, ApiError, onUnauthorized } from './api.js';
import { h } from './dom.js';
import { Reference } from './format.js';
import { showLogin } from './login.js';
import { Board } from './board.js';

const root = document.getElementById('app');
let board = null;
let reference = null;

async function enter(me) {
  if (!reference) reference = new Reference((await api.get('/api/reference')).data);
  board = new Board(root, { me, ref: reference, onLogout: logout });
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
