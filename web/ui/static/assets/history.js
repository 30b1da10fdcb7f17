// One stream's history (/historial?stream=alert-…), for supervisors and
// admins: every event of one aggregate in order, from GET
// /api/streams/{stream} (paginated by version), each with its version,
// time, type, actor and data.

import { api, ApiError } from './api.js';
import { h } from './dom.js';
import { field, showBanner, showProblem, hideBanner } from './forms.js';
import { eventLabel, roleLabel, stamp, streamLabel } from './format.js';
import { topbar } from './layout.js';

const PAGE_SIZE = 100;

export class HistoryPage {
  constructor(root, { me, onLogout }) {
    this.root = root;
    this.me = me;
    this.onLogout = onLogout;
    this.stream = (new URLSearchParams(window.location.search).get('stream') || '').trim();
    this.next = null;
    this.count = 0;
  }

  async start() {
    document.title = this.stream ? `Historial de ${this.stream} · Vigía` : 'Historial · Vigía';
    this.render();
    if (this.stream) await this.load(0);
  }

  destroy() {
    this.destroyed = true;
  }

  problem(err) {
    showProblem(this.banner, err);
  }

  render() {
    const stream = h('input', { id: 'history-stream', name: 'stream', type: 'text', value: this.stream, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', required: true, placeholder: 'alert-0193…, roster-2026-11-27' });
    const form = h('form', { class: 'form history-form', id: 'history-form', action: '/historial', method: 'get' },
      h('div', { class: 'log-form-row' },
        field({ label: 'Stream', control: stream }),
        h('button', { type: 'submit', class: 'btn', id: 'history-go' }, 'Ver historial')));
    this.banner = h('div', { class: 'banner', id: 'history-banner', hidden: true });
    this.status = h('p', { class: 'panel-sub', id: 'history-count', role: 'status' });
    this.list = h('ol', { class: 'history-list', id: 'history-list', 'aria-labelledby': 'history-heading' });
    this.more = h('button', { type: 'button', class: 'btn', id: 'history-more', hidden: true, onclick: () => this.loadMore() }, 'Cargar más');
    const back = new URLSearchParams(this.stream ? { stream: this.stream } : {});

    this.root.replaceChildren(
      topbar({ me: this.me, current: '/auditoria', onLogout: () => this.onLogout() }),
      h('main', { id: 'main', class: 'page page-history' },
        h('p', { class: 'crumbs' }, h('a', { href: `/auditoria${this.stream ? `?${back}` : ''}`, id: 'history-back' }, '← Auditoría', this.stream ? ' de este stream' : '')),
        h('div', { class: 'page-head' },
          h('h1', { id: 'history-heading' }, this.stream ? `Historial: ${streamLabel(this.stream)}` : 'Historial de un stream'),
          this.stream ? h('p', { class: 'muted' }, 'Todos los eventos de ', h('code', {}, this.stream), ' en orden, tal como quedaron registrados.') : null),
        this.banner,
        h('section', { class: 'panel' }, form),
        this.stream
          ? h('section', { class: 'panel', 'aria-labelledby': 'history-heading' },
            h('div', { class: 'panel-head' }, h('h2', {}, 'Eventos'), this.status),
            this.list,
            h('div', { class: 'list-more' }, this.more))
          : null));
  }

  async loadMore() {
    if (this.next === null) return;
    const first = this.list.children.length;
    await this.load(this.next);
    this.list.children[first]?.focus();
  }

  async load(from) {
    hideBanner(this.banner);
    this.list.setAttribute('aria-busy', 'true');
    this.more.disabled = true;
    try {
      const { data } = await api.get(`/api/streams/${encodeURIComponent(this.stream)}?from=${from}&limit=${PAGE_SIZE}`);
      if (this.destroyed) return;
      const events = data.events || [];
      this.list.append(...events.map((ev) => this.event(ev)));
      this.count += events.length;
      this.next = data.next ?? null;
      this.more.hidden = this.next === null;
      const n = this.count === 1 ? '1 evento' : `${this.count} eventos`;
      this.status.textContent = this.next === null ? n : `${n} mostrados; hay más.`;
    } catch (err) {
      if (this.destroyed) return;
      if (err instanceof ApiError && err.status === 403) {
        showBanner(this.banner, `${err.summary} El historial es solo para supervisores y administradores.`);
      } else {
        showProblem(this.banner, err);
      }
    } finally {
      this.list.removeAttribute('aria-busy');
      this.more.disabled = false;
    }
  }

  event(ev) {
    const actor = ev.actor || {};
    let data = ev.data;
    try {
      data = JSON.stringify(ev.data, null, 2);
    } catch {
      data = String(ev.data);
    }
    return h('li', { class: 'history-event', tabindex: '-1', dataset: { version: ev.version, type: ev.type, position: ev.position } },
      h('div', { class: 'history-head' },
        h('span', { class: 'history-version' }, `Versión ${ev.version}`),
        h('time', { datetime: ev.recorded_at }, stamp(ev.recorded_at)),
        h('span', { class: 'audit-type' }, eventLabel(ev.type), ' ', h('code', {}, ev.type)),
        h('span', { class: 'audit-actor' }, h('strong', {}, actor.username || 'sistema'), actor.role ? h('span', { class: 'muted' }, ` · ${roleLabel(actor.role)}`) : null)),
      h('pre', { class: 'history-data', tabindex: '0', 'aria-label': `Datos del evento, versión ${ev.version}` }, h('code', {}, data)),
      h('p', { class: 'history-meta muted' }, `Posición ${ev.position}`, ev.correlation_id ? ` · solicitud ${ev.correlation_id}` : ''));
  }
}
