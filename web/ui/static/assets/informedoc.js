// @ts-check
// A received informe laid out as the document is: its sections, in the
// template's order, each as a table with the template's column headings.
// Shared by the Informes page and the línea de tiempo. The rows are the
// parsed content (GET /api/informes/{date} → received[].content), shown
// verbatim: the text is the cell's text, as the informe's authors wrote it.

import { h } from './dom.js';

/** @typedef {{nivel: string, evento: string, cobertura: string, amplitud: string}} Alerta */
/** @typedef {{n_informe: string, fecha_hora: string, evento_lugar: string, resumen: string}} Emergencia */
/** @typedef {{aviso: string, emision: string, descripcion: string, cobertura: string}} Aviso */
/** @typedef {{observado_label: string, observado_valor: string, pronosticado_label: string, pronosticado_valor: string}} IndiceUV */
/** @typedef {{estacion: string, umbral: string, nivel_m: number|null, caudal_m3s: number|null, estado: string}} Hidrometria */
/** @typedef {{ruta: string, estado: string, condicion: string}} Carretera */
/** @typedef {{puerto: string, estado: string, condicion: string}} Puerto */
/** @typedef {{paso: string, condicion: string, observaciones: string}} Paso */

/**
 * InformeContent is what the hub read from one .docx (the shape of
 * shared/data/informes/*.expected.json).
 * @typedef {{
 *   edition: string, date: string, time: string|null,
 *   alertas: Alerta[], emergencias: Emergencia[], avisos: Aviso[], uv: IndiceUV|null,
 *   hidrometria: Hidrometria[], carreteras: Carretera[], puertos: Puerto[], pasos: Paso[]
 * }} InformeContent
 */

/**
 * Receipt is one document received for a day (GET /api/informes/{date} →
 * received[]), oldest first.
 * @typedef {{
 *   edition?: string, time?: string, source: string, filename?: string, sha256?: string,
 *   sender?: string, subject?: string, received_at: string,
 *   content?: InformeContent|null, warnings?: string[]
 * }} Receipt
 */

/**
 * Column is one column of a section's table: the heading the document
 * uses and how to get the cell from a row.
 * @template T
 * @typedef {{label: string, cell: (row: T) => string, wide?: boolean}} Column
 */

const SOURCE_LABELS = /** @type {Record<string, string>} */ ({
  upload: 'Carga manual',
  mailbox: 'Correo',
  import: 'Sistema anterior',
});

/**
 * sourceLabel names where an informe came from.
 * @param {string} source
 * @returns {string}
 */
export function sourceLabel(source) {
  return SOURCE_LABELS[source] || source || '—';
}

/**
 * dmy turns YYYY-MM-DD into the informe's own DD-MM-YYYY.
 * @param {string} ymd
 * @returns {string}
 */
export function dmy(ymd) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd || '');
  return m ? `${m[3]}-${m[2]}-${m[1]}` : ymd;
}

/**
 * number shows a measurement with a decimal comma; s/d when absent.
 * @param {number|null|undefined} v
 * @param {string} unit
 * @returns {string}
 */
function measure(v, unit) {
  if (v === null || v === undefined || !Number.isFinite(v)) return 's/d';
  return `${String(v).replace('.', ',')} ${unit}`;
}

/**
 * table renders rows under the document's headings; an empty section says
 * so instead of showing an empty table.
 * @template T
 * @param {string} key section key, for tests and styling
 * @param {Column<T>[]} columns
 * @param {T[]} rows
 * @param {string} empty what an empty section says
 * @returns {HTMLElement}
 */
function table(key, columns, rows, empty) {
  if (!rows || !rows.length) return h('p', { class: 'empty doc-empty' }, empty);
  return h('div', { class: 'doc-table-wrap' },
    h('table', { class: `doc-table doc-${key}` },
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.wide ? 'is-wide' : null }, c.label)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, columns.map((c, i) => (i === 0
        ? h('th', { scope: 'row' }, c.cell(r) || '—')
        : h('td', {}, c.cell(r) || '—'))))))));
}

/**
 * Section is one section of the informe, with its number in the template
 * (the sections the hub does not extract, such as incendios or the
 * pronóstico, keep their numbers, so the numbering matches the paper).
 * @typedef {{key: string, n: number, title: string, render: (c: InformeContent) => HTMLElement}} Section
 */

/** @type {Section[]} */
export const SECTIONS = [
  {
    key: 'alertas',
    n: 1,
    title: 'Resumen de alertas vigentes',
    render: (c) => table('alertas', /** @type {Column<Alerta>[]} */ ([
      { label: 'Nivel', cell: (r) => r.nivel },
      { label: 'Evento', cell: (r) => r.evento },
      { label: 'Cobertura', cell: (r) => r.cobertura, wide: true },
      { label: 'Amplitud', cell: (r) => r.amplitud },
    ]), c.alertas, 'El informe no declara alertas vigentes.'),
  },
  {
    key: 'emergencias',
    n: 2,
    title: 'Emergencias de las últimas 24 horas',
    render: (c) => table('emergencias', /** @type {Column<Emergencia>[]} */ ([
      { label: 'N° Informe', cell: (r) => r.n_informe },
      { label: 'Fecha y hora', cell: (r) => r.fecha_hora },
      { label: 'Evento y lugar', cell: (r) => r.evento_lugar },
      { label: 'Resumen', cell: (r) => r.resumen, wide: true },
    ]), c.emergencias, 'Sin emergencias informadas.'),
  },
  {
    key: 'avisos',
    n: 4,
    title: 'Avisos, alertas y alarmas meteorológicas',
    render: (c) => table('avisos', /** @type {Column<Aviso>[]} */ ([
      { label: 'Aviso/Alerta/Alarma', cell: (r) => r.aviso },
      { label: 'Emisión', cell: (r) => r.emision },
      { label: 'Descripción', cell: (r) => r.descripcion, wide: true },
      { label: 'Cobertura', cell: (r) => r.cobertura },
    ]), c.avisos, 'Sin avisos meteorológicos.'),
  },
  {
    key: 'uv',
    n: 6,
    title: 'Índice de radiación ultravioleta',
    render: (c) => (c.uv
      ? h('div', { class: 'doc-table-wrap' }, h('table', { class: 'doc-table doc-uv' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, c.uv.observado_label || 'Índice observado'), h('th', { scope: 'col' }, c.uv.pronosticado_label || 'Índice pronosticado'))),
        h('tbody', {}, h('tr', {}, h('td', {}, c.uv.observado_valor || '—'), h('td', {}, c.uv.pronosticado_valor || '—')))))
      : h('p', { class: 'empty doc-empty' }, 'El informe no trae el índice UV.')),
  },
  {
    key: 'hidrometria',
    n: 7,
    title: 'Datos hidrométricos',
    render: (c) => table('hidrometria', /** @type {Column<Hidrometria>[]} */ ([
      { label: 'Estación', cell: (r) => r.estacion, wide: true },
      { label: 'Umbral', cell: (r) => r.umbral },
      { label: 'Nivel', cell: (r) => measure(r.nivel_m, 'm') },
      { label: 'Caudal', cell: (r) => measure(r.caudal_m3s, 'm³/s') },
      { label: 'Estado', cell: (r) => r.estado },
    ]), c.hidrometria, 'Sin datos hidrométricos.'),
  },
  {
    key: 'carreteras',
    n: 8,
    title: 'Estado de carreteras',
    render: (c) => table('carreteras', /** @type {Column<Carretera>[]} */ ([
      { label: 'Ruta', cell: (r) => r.ruta },
      { label: 'Tramo / estado', cell: (r) => r.estado, wide: true },
      { label: 'Condición', cell: (r) => r.condicion },
    ]), c.carreteras, 'Sin novedades en carreteras.'),
  },
  {
    key: 'puertos',
    n: 9,
    title: 'Estado de puertos',
    render: (c) => table('puertos', /** @type {Column<Puerto>[]} */ ([
      { label: 'Puerto', cell: (r) => r.puerto },
      { label: 'Estado del puerto', cell: (r) => r.estado, wide: true },
      { label: 'Condición', cell: (r) => r.condicion },
    ]), c.puertos, 'Sin información de puertos.'),
  },
  {
    key: 'pasos',
    n: 11,
    title: 'Pasos fronterizos',
    render: (c) => table('pasos', /** @type {Column<Paso>[]} */ ([
      { label: 'Paso', cell: (r) => r.paso },
      { label: 'Condición', cell: (r) => r.condicion },
      { label: 'Observaciones', cell: (r) => r.observaciones, wide: true },
    ]), c.pasos, 'Sin información de pasos fronterizos.'),
  },
];

/**
 * documentSections renders an informe's content as its numbered sections.
 * headingLevel is the heading tag of each section (h3 under a page's h2).
 * @param {InformeContent} content
 * @param {{headingLevel?: string, idPrefix?: string}} [opts]
 * @returns {HTMLElement}
 */
export function documentSections(content, { headingLevel = 'h3', idPrefix = 'doc' } = {}) {
  return h('div', { class: 'doc-sections' }, SECTIONS.map((s) => {
    const id = `${idPrefix}-${s.key}`;
    return h('section', { class: 'doc-section', dataset: { section: s.key }, 'aria-labelledby': id },
      h(headingLevel, { class: 'doc-section-title', id }, `${s.n}. ${s.title}`),
      s.render(content));
  }));
}

/**
 * corrections marks, for each receipt (oldest first), whether an earlier
 * one of the same day had the same edition: a second AM is a correction.
 * @param {Receipt[]} received
 * @returns {boolean[]}
 */
export function corrections(received) {
  /** @type {Set<string>} */
  const seen = new Set();
  return received.map((r) => {
    const key = r.edition || '';
    const again = key !== '' && seen.has(key);
    seen.add(key);
    return again;
  });
}
