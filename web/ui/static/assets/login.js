// The login form: POST /api/auth/login, problems shown by the inputs or in
// a banner (wrong password, too many attempts with Retry-After).

import { api } from './api.js';
import { h } from './dom.js';
import { field, clearErrors, showFieldErrors, showBanner, hideBanner, setBusy } from './forms.js';

export function brand(sub = 'Centro de Alerta Temprana · SENAPRED Valparaíso') {
  return h('div', { class: 'brand' },
    h('img', { src: '/assets/icon.svg', alt: '', width: '36', height: '36' }),
    h('div', { class: 'brand-text' },
      h('span', { class: 'brand-name' }, 'Vigía'),
      h('span', { class: 'brand-sub' }, sub)));
}

/** showLogin renders the login page into root; onLoggedIn gets /api/auth/me's body. */
export function showLogin(root, { onLoggedIn, message = '' }) {
  document.title = 'Iniciar sesión · Vigía';
  const user = h('input', { id: 'login-username', name: 'username', type: 'text', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true });
  const pass = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const banner = h('div', { class: 'banner', id: 'login-banner', hidden: true });
  const form = h('form', { class: 'form', id: 'login-form', novalidate: true },
    banner,
    field({ label: 'Usuario', control: user }),
    field({ label: 'Contraseña', control: pass }),
    h('button', { type: 'submit', class: 'btn btn-primary btn-block', id: 'login-submit' }, 'Ingresar'));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    hideBanner(banner);
    const missing = {};
    if (!user.value.trim()) missing.username = 'Indique su usuario.';
    if (!pass.value) missing.password = 'Indique su contraseña.';
    if (Object.keys(missing).length) {
      showFieldErrors(form, missing);
      return;
    }
    setBusy(form, true);
    try {
      const { data } = await api.post('/api/auth/login', { username: user.value.trim(), password: pass.value });
      onLoggedIn(data);
    } catch (err) {
      setBusy(form, false);
      pass.value = '';
      if (err.status === 400 && Object.keys(err.fields).length) {
        showFieldErrors(form, err.fields);
      } else {
        showBanner(banner, err);
        pass.focus();
      }
    }
  });

  root.replaceChildren(
    h('main', { id: 'main', class: 'login-page' },
      h('div', { class: 'login-card' },
        brand(),
        h('h1', {}, 'Iniciar sesión'),
        h('p', { class: 'muted' }, 'Ingrese con su usuario del centro para ver y gestionar las alertas, los turnos y la bitácora.'),
        message ? h('p', { class: 'banner banner-info', role: 'status' }, message) : null,
        form)));
  user.focus();
}
