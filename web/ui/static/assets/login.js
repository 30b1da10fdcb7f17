// The login form: POST /api/auth/login, problems shown by the inputs or in
// a banner (wrong password, too many attempts with Retry-After). Also the
// "Cambiar contraseña" dialog: POST /api/auth/password.

import { api } from './api.js';
import { h } from './dom.js';
import { field, clearErrors, showFieldErrors, showBanner, hideBanner, setBusy, openDialog } from './forms.js';

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

/**
 * openChangePassword is the "Cambiar contraseña" dialog. The rules (length,
 * common passwords, the current password) are the server's: its 422 field
 * messages are shown by the inputs. Only "repeat the new one" is checked
 * here, as it is never sent. On success the server ends every other session
 * and gives this browser a fresh cookie, so the person stays logged in.
 */
export function openChangePassword({ onClose = () => {} } = {}) {
  const prefix = 'password';
  const input = (name, autocomplete) => h('input', {
    id: `${prefix}-${name.replaceAll('_', '-')}`, name, type: 'password', autocomplete, required: true, maxlength: 256,
  });
  const current = input('old_password', 'current-password');
  const next = input('new_password', 'new-password');
  const again = input('repeat_password', 'new-password');
  const banner = h('div', { class: 'banner', hidden: true });
  const form = h('form', { class: 'form', id: `${prefix}-form`, novalidate: true },
    banner,
    field({ label: 'Contraseña actual', control: current }),
    field({ label: 'Nueva contraseña', control: next,
      hint: 'Al menos 12 caracteres y no una contraseña común. Una frase de varias palabras es fácil de recordar y difícil de adivinar.' }),
    field({ label: 'Repita la nueva contraseña', control: again }),
    h('div', { class: 'form-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary', id: `${prefix}-submit` }, 'Cambiar contraseña'),
      h('button', { type: 'button', class: 'btn', onclick: () => dlg.close() }, 'Volver')));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    hideBanner(banner);
    const missing = {};
    if (!current.value) missing.old_password = 'Indique su contraseña actual.';
    if (!next.value) missing.new_password = 'Indique la nueva contraseña.';
    else if (again.value !== next.value) missing.repeat_password = 'No coincide con la nueva contraseña.';
    if (Object.keys(missing).length) {
      showFieldErrors(form, missing);
      return;
    }
    setBusy(form, true);
    try {
      await api.post('/api/auth/password', { old_password: current.value, new_password: next.value });
      form.replaceChildren(
        h('p', { class: 'banner banner-ok', role: 'status', id: `${prefix}-done` },
          'Contraseña cambiada. Se cerraron sus otras sesiones; esta sigue abierta.'),
        h('div', { class: 'form-actions' },
          h('button', { type: 'button', class: 'btn btn-primary', id: `${prefix}-close`, onclick: () => dlg.close() }, 'Cerrar')));
      form.querySelector('button').focus();
    } catch (err) {
      setBusy(form, false);
      const rest = showFieldErrors(form, err.fields || {});
      if (!Object.keys(err.fields || {}).length || Object.keys(rest).length) showBanner(banner, err);
    }
  });

  const dlg = openDialog({ id: `${prefix}-dialog`, title: 'Cambiar contraseña', children: form, onClose });
  current.focus();
  return dlg;
}
