// @ts-check
// The Informes page (/informes?date=YYYY-MM-DD), for every logged-in role:
// upload an informe (.docx) by dragging it onto the page or choosing it
// (roles that may edit), follow its parse job live (WebSocket topic
// "informes", informe.job notices), read a day's received editions laid
// out as the document's sections, and reconcile the day's informe with the
// board (reconcile.js), read again when an alert changes (topic "alerts").
// The address keeps the day shown.

import { api, ApiError } from './api.js';
import { h } from './dom.js';
import { showBanner, showProblem, hideBanner } from './forms.js';
import { civilDate, dayKey, stamp, when } from './format.js';
import { LiveClient, State } from './live.js';
import { topbar } from './layout.js';
import { corrections, documentSections, dmy, sourceLabel } from './informedoc.js';
import { ReconcileList } from './reconcile.js';

/** @typedef {import('./informedoc.js').Receipt} Receipt */
/** @typedef {import('./format.js').Reference} Reference */
/**
 * Job is a parse job (GET /api/informes/jobs, informe.job notices).
 * @typedef {{id: number, status: 'queued'|'running'|'done'|'failed', filename: string, sha256: string,
 *   source: string, warnings: string[]|null, error: {title: string, detail: string}|null,
 *   informe: {date: string, edition: string}|null, attempt: number, created_at: string,
 *   finished_at: string|null}} Job
 */
/** @typedef {{user_id: string, username: string, display_name: string, role: string, can_edit: boolean, can_audit: boolean}} Me */

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const JOBS_SHOWN = 20;
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/** @type {Record<string, string>} */
const STATUS_LABELS = {
  queued: 'En cola',
  running: 'Procesando',
  done: 'Listo',
  failed: 'Falló',
};

/** @type {Record<string, number>} */
const STATUS_RANK = { queued: 0, running: 1, done: 2, failed: 2 };

const CONNECTION_TEXT = {
  [State.CONNECTING]: 'Conectando…',
  [State.LIVE]: 'En vivo',
  [State.RECONNECTING]: 'Reconectando…',
};

/**
 * isNewer reports whether job b is a later state of the same job than a:
 * a later attempt, or a later step of the same attempt.
 * @param {Job} a
 * @param {Job} b
 */
export function isNewer(a, b) {
  if ((b.attempt || 0) !== (a.attempt || 0)) return (b.attempt || 0) > (a.attempt || 0);
  return (STATUS_RANK[b.status] ?? 0) >= (STATUS_RANK[a.status] ?? 0);
}

/**
 * uploadMessage says in Spanish why an upload was refused.
 * @param {string} name
 * @param {unknown} err
 */
function uploadMessage(name, err) {
  if (err instanceof ApiError) {
    if (err.status === 413) return `«${name}» es demasiado grande. ${err.problem.detail || ''}`.trim();
    if (err.status === 415) return `«${name}» no se pudo enviar: solo se aceptan informes en formato Word (.docx).`;
    return `«${name}» no se pudo enviar. ${err.summary}`;
  }
  return `«${name}» no se pudo enviar. ${String(err)}`;
}

export class InformesPage {
  /**
   * @param {HTMLElement} root
   * @param {{me: Me, ref: Reference, onLogout: () => void}} opts
   */
  constructor(root, { me, ref, onLogout }) {
    this.root = root;
    this.me = me;
    this.ref = ref;
    this.onLogout = onLogout;
    /** @type {Map<number, Job>} */
    this.jobs = new Map();
    /** Jobs this page sent: when one is done, its day is shown. @type {Set<number>} */
    this.pending = new Set();
    /** The line under the drop zone that tells each sent job's fate. @type {Map<number, HTMLElement>} */
    this.uploadLines = new Map();
    this.date = dayKey(new Date());
    this.seq = 0;
    this.reloadTimer = 0;
    this.reconcileTimer = 0;
    this.live = new LiveClient({
      // alerts: a change on the board may settle or open a difference.
      params: { topics: 'informes,alerts' },
      onMessage: (msg) => this.onMessage(msg),
      onState: (state) => this.showConnection(state),
      onFailedOpen: () => api.get('/api/auth/me').catch(() => {}),
    });
    this.onPop = () => {
      this.readURL();
      this.showDay(this.date, { push: false }).catch((err) => this.problem(err));
    };
    // A file dropped beside the drop zone must not replace the app.
    /** @param {DragEvent} ev */
    this.onWindowDrag = (ev) => {
      if (ev.dataTransfer?.types.includes('Files')) ev.preventDefault();
    };
  }

  async start() {
    document.title = 'Informes · Vigía';
    this.readURL();
    this.render();
    window.addEventListener('popstate', this.onPop);
    window.addEventListener('dragover', this.onWindowDrag);
    window.addEventListener('drop', this.onWindowDrag);
    // The list is (re)read each time the socket goes live, so no job
    // change between the read and the connection is missed.
    this.live.start();
    await this.showDay(this.date, { push: false });
  }

  destroy() {
    this.destroyed = true;
    this.live.stop();
    clearTimeout(this.reloadTimer);
    clearTimeout(this.reconcileTimer);
    this.reconcile.destroy();
    window.removeEventListener('popstate', this.onPop);
    window.removeEventListener('dragover', this.onWindowDrag);
    window.removeEventListener('drop', this.onWindowDrag);
  }

  /** @param {unknown} err */
  problem(err) {
    showProblem(this.banner, err);
  }

  readURL() {
    const d = (new URLSearchParams(window.location.search).get('date') || '').trim();
    this.date = DATE_RE.test(d) ? d : dayKey(new Date());
  }

  render() {
    this.connection = h('p', { class: 'conn', id: 'connection', role: 'status', dataset: { state: State.CONNECTING } }, CONNECTION_TEXT[State.CONNECTING]);
    this.banner = h('div', { class: 'banner', id: 'inf-banner', hidden: true });
    this.announcer = h('p', { class: 'visually-hidden', role: 'status' });
    this.jobList = h('ol', { class: 'job-list', id: 'inf-jobs', 'aria-labelledby': 'inf-jobs-heading', 'aria-busy': 'true' },
      h('li', { class: 'empty' }, 'Cargando…'));
    this.dateInput = /** @type {HTMLInputElement} */ (h('input', { id: 'inf-date', name: 'date', type: 'date', required: true }));
    this.daySub = h('p', { class: 'panel-sub', id: 'inf-day-sub' });
    this.timelineLink = h('a', { class: 'btn', id: 'inf-timeline', href: '/linea-de-tiempo' }, 'Ver en la línea de tiempo');
    this.editions = h('div', { class: 'editions', id: 'inf-editions', 'aria-live': 'polite' });
    this.editionCount = h('span', { class: 'count', id: 'inf-edition-count' }, '');
    this.reconcile = new ReconcileList({ me: this.me, ref: this.ref, banner: this.banner, announce: (m) => this.announce(m) });

    const dayForm = h('form', { class: 'inf-day-form', id: 'inf-day-form', novalidate: true },
      h('label', { for: 'inf-date' }, 'Día'),
      this.dateInput,
      h('button', { type: 'submit', class: 'btn btn-primary', id: 'inf-go' }, 'Ver'),
      h('button', { type: 'button', class: 'btn', id: 'inf-today', onclick: () => this.showDay(dayKey(new Date()), { push: true }) }, 'Hoy'),
      this.timelineLink);
    dayForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const d = this.dateInput.value;
      if (!DATE_RE.test(d)) {
        showBanner(this.banner, 'Indique el día como AAAA-MM-DD.');
        return;
      }
      this.showDay(d, { push: true });
    });

    this.root.replaceChildren(
      topbar({ me: this.me, current: '/informes', middle: [this.connection], onLogout: () => this.onLogout() }),
      h('main', { id: 'main', class: 'page page-informes' },
        h('div', { class: 'page-head' },
          h('h1', {}, 'Informes'),
          h('p', { class: 'muted' }, 'Los informes de situación regional recibidos: su lectura, su contenido por secciones y su conciliación con el tablero.')),
        this.banner,
        h('div', { class: 'inf-grid' },
          h('div', { class: 'inf-side' },
            this.me.can_edit ? this.uploadPanel() : null,
            h('section', { class: 'panel', 'aria-labelledby': 'inf-jobs-heading' },
              h('div', { class: 'panel-head' }, h('h2', { id: 'inf-jobs-heading' }, 'Recepciones recientes')),
              this.jobList)),
          h('div', { class: 'inf-main' },
            h('section', { class: 'panel inf-day', 'aria-labelledby': 'inf-day-heading' },
              h('div', { class: 'panel-head' }, h('h2', { id: 'inf-day-heading' }, 'Informe del día'), this.daySub),
              dayForm),
            this.reconcile.el,
            h('section', { class: 'panel', 'aria-labelledby': 'inf-editions-heading' },
              h('div', { class: 'panel-head' }, h('h2', { id: 'inf-editions-heading' }, 'Ediciones recibidas ', this.editionCount)),
              this.editions)))),
      this.announcer);
  }

  /** uploadPanel is the drop zone with its file button. */
  uploadPanel() {
    this.fileInput = /** @type {HTMLInputElement} */ (h('input', {
      id: 'inf-file', name: 'file', type: 'file', multiple: true, class: 'visually-hidden',
      accept: `.docx,${DOCX}`, tabindex: '-1', 'aria-hidden': 'true',
    }));
    this.uploadStatus = h('div', { class: 'banner', id: 'inf-upload-status', hidden: true });
    this.fileInput.addEventListener('change', () => {
      const files = [...(this.fileInput?.files || [])];
      if (this.fileInput) this.fileInput.value = '';
      this.upload(files);
    });
    const zone = h('div', { class: 'dropzone', id: 'inf-dropzone' },
      h('p', { class: 'dropzone-title' }, 'Arrastre aquí el informe'),
      h('p', { class: 'muted' }, 'Archivo Word (.docx) del Informe de Situación Regional, AM o PM.'),
      h('button', { type: 'button', class: 'btn btn-primary', id: 'inf-choose', onclick: () => this.fileInput?.click() }, 'Elegir archivo…'),
      this.fileInput);
    zone.addEventListener('dragover', (ev) => {
      ev.preventDefault();
      if (ev.dataTransfer) ev.dataTransfer.dropEffect = 'copy';
      zone.classList.add('is-over');
    });
    zone.addEventListener('dragleave', () => zone.classList.remove('is-over'));
    zone.addEventListener('drop', (ev) => {
      ev.preventDefault();
      zone.classList.remove('is-over');
      this.upload([...(ev.dataTransfer?.files || [])]);
    });
    return h('section', { class: 'panel', id: 'inf-upload', 'aria-labelledby': 'inf-upload-heading' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'inf-upload-heading' }, 'Subir un informe')),
      zone,
      this.uploadStatus);
  }

  /**
   * upload sends each file, one after the other.
   * @param {File[]} files
   */
  async upload(files) {
    const status = this.uploadStatus;
    if (!status || !files.length) return;
    /** @type {HTMLElement[]} */
    const lines = [];
    let worst = 'ok';
    const say = (/** @type {string} */ text, /** @type {string} */ kind) => {
      const line = h('p', { dataset: { kind } }, text);
      lines.push(line);
      if (kind === 'error') worst = 'error';
      else if (kind === 'info' && worst === 'ok') worst = 'info';
      status.replaceChildren(...lines);
      status.className = `banner banner-${worst}`;
      status.setAttribute('role', worst === 'error' ? 'alert' : 'status');
      status.hidden = false;
      return line;
    };
    status.hidden = true;
    for (const file of files) {
      if (!/\.docx$/i.test(file.name)) {
        say(`«${file.name}» no es un archivo .docx: solo se aceptan informes en formato Word (.docx).`, 'error');
        continue;
      }
      const body = new FormData();
      body.append('file', file, file.name);
      try {
        const { data } = await api.post('/api/informes', body);
        /** @type {Job} */
        const job = data.job;
        if (data.duplicate) {
          say(`Este archivo ya se había recibido: «${file.name}» es el mismo que «${job.filename}» (${stamp(job.created_at)}).`, 'info');
          this.upsert(job);
          if (job.status === 'done' && job.informe) this.showDay(job.informe.date, { push: true });
        } else {
          this.uploadLines.set(job.id, say(`«${file.name}» recibido; se está leyendo.`, 'ok'));
          this.pending.add(job.id);
          this.upsert(job);
          // Its end may have come over the socket before this answer.
          const now = this.jobs.get(job.id);
          if (now && this.pending.has(job.id) && (now.status === 'done' || now.status === 'failed')) this.settle(now);
        }
      } catch (err) {
        say(uploadMessage(file.name, err), 'error');
      }
    }
  }

  /** @param {string} state */
  showConnection(state) {
    if (!this.connection) return;
    this.connection.dataset.state = state;
    this.connection.textContent = CONNECTION_TEXT[state] || state;
    if (state === State.LIVE) this.loadJobs();
  }

  async loadJobs() {
    try {
      const { data } = await api.get(`/api/informes/jobs?limit=${JOBS_SHOWN}`);
      for (const j of /** @type {Job[]} */ (data.jobs || [])) this.upsert(j, false);
      this.renderJobs();
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) this.problem(err);
    }
  }

  /** @param {{type: string, data?: any}} msg */
  onMessage(msg) {
    if (msg.type === 'informe.job' && msg.data) {
      this.upsert(msg.data);
    } else if (msg.type === 'informe.received' && msg.data?.date === this.date) {
      this.reloadSoon();
    } else if (msg.type.startsWith('alert.') || msg.type === 'snapshot') {
      this.reconcileSoon();
    }
  }

  /**
   * upsert keeps the newest state of a job and settles it when it ends;
   * render is false for the rows of a list read.
   * @param {Job} job
   * @param {boolean} [render]
   */
  upsert(job, render = true) {
    const had = this.jobs.get(job.id);
    if (had && !isNewer(had, job)) return;
    this.jobs.set(job.id, job);
    if (render) this.renderJobs(job.id);
    const finished = job.status === 'done' || job.status === 'failed';
    // A job first seen finished in a list read is old news, unless this
    // page sent it and missed its end while reconnecting.
    if (finished && had?.status !== job.status && (render || this.pending.has(job.id))) this.settle(job);
  }

  /**
   * settle acts on a job's end: the day of a job this page sent is shown;
   * a job done for the day shown reloads it.
   * @param {Job} job
   */
  settle(job) {
    if (this.pending.has(job.id)) {
      this.pending.delete(job.id);
      this.settleLine(job);
      this.announce(job.status === 'done'
        ? `Informe ${job.informe?.edition || ''} del ${dmy(job.informe?.date || '')} leído.`
        : `No se pudo leer «${job.filename}»: ${job.error?.title || ''}`);
      if (job.status === 'done' && job.informe) {
        this.showDay(job.informe.date, { push: true });
        return;
      }
    }
    if (job.status === 'done' && job.informe?.date === this.date) this.reloadSoon();
  }

  /**
   * settleLine updates the upload's line under the drop zone with how its
   * job ended.
   * @param {Job} job
   */
  settleLine(job) {
    const line = this.uploadLines.get(job.id);
    const status = this.uploadStatus;
    if (!line || !status) return;
    this.uploadLines.delete(job.id);
    if (job.status === 'done') {
      line.textContent = `«${job.filename}» leído: informe ${job.informe?.edition || ''} del ${dmy(job.informe?.date || '')}.`;
      return;
    }
    line.textContent = `«${job.filename}» no se pudo leer. ${job.error?.title || ''}${job.error?.detail ? `: ${job.error.detail}` : ''}`;
    line.dataset.kind = 'error';
    status.className = 'banner banner-error';
    status.setAttribute('role', 'alert');
  }

  /**
   * renderJobs lists the newest jobs; flash marks one that just changed.
   * @param {number} [flash]
   */
  renderJobs(flash) {
    const jobs = [...this.jobs.values()].sort((a, b) => b.id - a.id).slice(0, JOBS_SHOWN);
    this.jobList.removeAttribute('aria-busy');
    if (!jobs.length) {
      this.jobList.replaceChildren(h('li', { class: 'empty' }, 'Aún no se ha recibido ningún informe.'));
      return;
    }
    this.jobList.replaceChildren(...jobs.map((j) => this.jobItem(j, j.id === flash)));
  }

  /**
   * @param {Job} j
   * @param {boolean} flash
   */
  jobItem(j, flash) {
    const warnings = j.warnings || [];
    return h('li', { class: `job job-${j.status}${flash ? ' is-updated' : ''}`, dataset: { jobId: j.id, status: j.status } },
      h('div', { class: 'job-head' },
        h('span', { class: `job-status status-${j.status}` }, STATUS_LABELS[j.status] || j.status),
        h('span', { class: 'job-name' }, j.filename || '(sin nombre)')),
      h('p', { class: 'job-meta' },
        `${sourceLabel(j.source)} · `, h('time', { datetime: j.created_at }, when(j.created_at)),
        (j.attempt || 0) > 1 ? ` · intento ${j.attempt}` : ''),
      j.status === 'done' && j.informe
        ? h('button', { type: 'button', class: 'btn btn-small job-open', onclick: () => j.informe && this.showDay(j.informe.date, { push: true }) },
          `Informe ${j.informe.edition} del ${dmy(j.informe.date)} — Ver`)
        : null,
      j.status === 'failed' && j.error
        ? h('div', { class: 'job-error' }, h('p', { class: 'job-error-title' }, j.error.title), h('p', {}, j.error.detail))
        : null,
      warnings.length
        ? h('details', { class: 'job-warnings' },
          h('summary', {}, warnings.length === 1 ? '1 advertencia' : `${warnings.length} advertencias`),
          h('ul', {}, warnings.map((w) => h('li', {}, w))))
        : null);
  }

  /** reconcileSoon reloads the reconciliation once after a burst of alert changes. */
  reconcileSoon() {
    clearTimeout(this.reconcileTimer);
    this.reconcileTimer = window.setTimeout(() => {
      this.reconcile.load(this.date).catch((err) => this.problem(err));
    }, 300);
  }

  /** reloadSoon reloads the day shown once, however many notices say so. */
  reloadSoon() {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = window.setTimeout(() => {
      this.showDay(this.date, { push: false }).catch((err) => this.problem(err));
    }, 150);
  }

  /**
   * fetchDay reads the day's informe as of now, so that an informe of a
   * past day received today is in it. A browser clock ahead of the hub's
   * makes "now" a future moment (422): then as of the hub's now.
   * @param {string} date
   * @returns {Promise<{received?: Receipt[]}>}
   */
  async fetchDay(date) {
    const path = `/api/informes/${encodeURIComponent(date)}`;
    try {
      return (await api.get(`${path}?${new URLSearchParams({ at: new Date().toISOString() })}`)).data;
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && err.fields.at) return (await api.get(path)).data;
      throw err;
    }
  }

  /**
   * showDay shows a day's editions and reconciliation.
   * @param {string} date
   * @param {{push?: boolean}} opts
   */
  async showDay(date, { push = false } = {}) {
    const seq = ++this.seq;
    this.date = date;
    this.dateInput.value = date;
    this.dateInput.max = dayKey(new Date());
    this.daySub.textContent = civilDate(date);
    this.timelineLink.setAttribute('href', `/linea-de-tiempo?${new URLSearchParams({ date })}`);
    const url = `/informes?${new URLSearchParams({ date })}`;
    if (url !== `${window.location.pathname}${window.location.search}`) {
      if (push) window.history.pushState(null, '', url);
      else window.history.replaceState(null, '', url);
    }
    hideBanner(this.banner);
    this.editions.setAttribute('aria-busy', 'true');
    const recon = this.reconcile.load(date);
    try {
      const view = await this.fetchDay(date);
      if (seq !== this.seq || this.destroyed) return;
      this.renderEditions(view.received || []);
    } catch (err) {
      if (seq !== this.seq || this.destroyed) return;
      this.editionCount.textContent = '';
      this.editions.replaceChildren(h('p', { class: 'empty' }, 'No se pudo leer el informe de este día.'));
      showProblem(this.banner, err);
    } finally {
      if (seq === this.seq) this.editions.removeAttribute('aria-busy');
    }
    await recon;
  }

  /**
   * renderEditions shows the day's documents, newest first; the newest is
   * open, the earlier ones folded.
   * @param {Receipt[]} received oldest first
   */
  renderEditions(received) {
    this.editionCount.textContent = String(received.length);
    if (!received.length) {
      this.editions.replaceChildren(h('p', { class: 'empty' }, 'No se ha recibido ningún informe de este día.'));
      return;
    }
    const again = corrections(received);
    const views = received.map((r, i) => this.editionView(r, i, again[i], i === received.length - 1));
    this.editions.replaceChildren(...views.reverse());
  }

  /**
   * @param {Receipt} r
   * @param {number} i
   * @param {boolean} correction
   * @param {boolean} open
   */
  editionView(r, i, correction, open) {
    const meta = (/** @type {string} */ label, /** @type {string|Node} */ value) => [h('dt', {}, label), h('dd', {}, value)];
    const warnings = r.warnings || [];
    return h('details', { class: 'edition', open, dataset: { edition: r.edition || '', sha256: r.sha256 || '', correction: correction ? '1' : null } },
      h('summary', { class: 'edition-summary' },
        h('h3', { class: 'edition-title' }, `Edición ${r.edition || '¿?'}`, r.time ? h('span', { class: 'edition-time' }, ` · ${r.time} h`) : null),
        correction ? h('span', { class: 'tag tag-correction', title: 'Llegó otra vez la misma edición: esta la corrige' }, 'Corrección') : null,
        h('span', { class: 'edition-file muted' }, r.filename || '')),
      h('dl', { class: 'edition-meta' },
        meta('Fuente', sourceLabel(r.source)),
        meta('Archivo', r.filename || '—'),
        meta('Recibido', h('time', { datetime: r.received_at }, stamp(r.received_at))),
        r.sender ? meta('Remitente', r.sender) : null,
        r.subject ? meta('Asunto', r.subject) : null),
      warnings.length
        ? h('div', { class: 'edition-warnings', role: 'note' },
          h('p', {}, h('strong', {}, 'Advertencias de lectura')),
          h('ul', {}, warnings.map((w) => h('li', {}, w))))
        : null,
      r.content
        ? documentSections(r.content, { idPrefix: `ed${i}` })
        : h('p', { class: 'empty' }, 'Este documento no trae contenido legible.'));
  }

  /** @param {string} message */
  announce(message) {
    this.announcer.textContent = message;
  }
}
