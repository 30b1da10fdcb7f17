// Spanish (Chile) labels and times. Every time is shown in the centre's
// zone, America/Santiago, whatever the browser's own zone is.

export const TIME_ZONE = 'America/Santiago';

const timeFmt = new Intl.DateTimeFormat('es-CL', { timeZone: TIME_ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const clockFmt = new Intl.DateTimeFormat('es-CL', { timeZone: TIME_ZONE, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const dayKeyFmt = new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });
const shortDayFmt = new Intl.DateTimeFormat('es-CL', { timeZone: TIME_ZONE, day: 'numeric', month: 'short' });
const longDayFmt = new Intl.DateTimeFormat('es-CL', { timeZone: TIME_ZONE, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const civilDayFmt = new Intl.DateTimeFormat('es-CL', { timeZone: 'UTC', weekday: 'long', day: 'numeric', month: 'long' });

/** dayKey is the Santiago date of d as YYYY-MM-DD. */
export function dayKey(d) {
  return dayKeyFmt.format(d);
}

/** time is HH:MM in Santiago. */
export function time(iso) {
  const d = iso instanceof Date ? iso : new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : timeFmt.format(d);
}

/** clock is HH:MM:SS in Santiago. */
export function clock(d = new Date()) {
  return clockFmt.format(d);
}

/** longDate is "martes, 14 de enero de 2026" for now in Santiago. */
export function longDate(d = new Date()) {
  return longDayFmt.format(d);
}

/** civilDate turns a YYYY-MM-DD date into "martes, 14 de enero". */
export function civilDate(ymd) {
  const d = new Date(`${ymd}T12:00:00Z`);
  return Number.isNaN(d.getTime()) ? ymd : civilDayFmt.format(d);
}

/** when is "hoy 14:03", "ayer 21:10" or "12 mar 14:03", in Santiago. */
export function when(iso, now = new Date()) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const day = dayKey(d);
  if (day === dayKey(now)) return `hoy ${timeFmt.format(d)}`;
  if (day === dayKey(new Date(now.getTime() - 86400000))) return `ayer ${timeFmt.format(d)}`;
  return `${shortDayFmt.format(d).replace('.', '')} ${timeFmt.format(d)}`;
}

const ROLE_LABELS = {
  admin: 'Administrador/a',
  supervisor: 'Supervisor/a',
  operator: 'Operador/a',
  viewer: 'Solo lectura',
  display: 'Pantalla mural',
  system: 'Sistema',
};

export function roleLabel(role) {
  return ROLE_LABELS[role] || role;
}

const CATEGORY_LABELS = {
  novedad: 'Novedad',
  incidente: 'Incidente',
  comunicacion: 'Comunicación',
  coordinacion: 'Coordinación',
  sistema: 'Sistema',
};

export function categoryLabel(cat) {
  return CATEGORY_LABELS[cat] || cat;
}

/** slotLabel names a roster slot: "dia" → "Día", "enlace-regional" → "Enlace regional". */
export function slotLabel(slot) {
  const known = { dia: 'Día', noche: 'Noche', tarde: 'Tarde', manana: 'Mañana' };
  if (known[slot]) return known[slot];
  const words = slot.replace(/[-_]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** shiftActive reports whether now (Santiago) falls in start–end, which may cross midnight. */
export function shiftActive(shift, now = new Date()) {
  const hm = timeFmt.format(now);
  const { start, end } = shift;
  if (!start || !end) return false;
  return start <= end ? hm >= start && hm < end : hm >= start || hm < end;
}

/** joinNames lists names the Spanish way: "a, b y c". */
export function joinNames(names) {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} y ${names[names.length - 1]}`;
}

/**
 * Reference is GET /api/reference: provincias with their comunas, hazards,
 * levels and log categories, with lookups from code to Spanish name.
 */
export class Reference {
  constructor(data) {
    this.provincias = data.provincias || [];
    this.hazards = data.hazards || [];
    this.levels = data.levels || [];
    this.categories = data.categories || [];
    this.comunaNames = new Map();
    this.provinciaNames = new Map();
    for (const p of this.provincias) {
      this.provinciaNames.set(p.cut, p.provincia);
      for (const c of p.comunas || []) this.comunaNames.set(c.cut, c.nombre);
    }
    this.hazardLabels = new Map(this.hazards.map((x) => [x.code, x.label]));
    this.levelLabels = new Map(this.levels.map((x) => [x.code, x.label]));
  }

  level(code) {
    return this.levelLabels.get(code) || code;
  }

  hazard(code) {
    return this.hazardLabels.get(code) || code;
  }

  comuna(code) {
    return this.comunaNames.get(code) || code;
  }

  provincia(code) {
    return this.provinciaNames.get(code) || code;
  }

  /** scopeLines describes an alert's territory, one line per kind. */
  scopeLines(a) {
    if (a.region) return ['Toda la Región de Valparaíso'];
    const lines = [];
    const provs = (a.provincias || []).map((c) => this.provincia(c));
    const coms = (a.comunas || []).map((c) => this.comuna(c));
    if (provs.length) lines.push(`${provs.length === 1 ? 'Provincia de' : 'Provincias de'} ${joinNames(provs)}`);
    if (coms.length) lines.push(`${coms.length === 1 ? 'Comuna de' : 'Comunas de'} ${joinNames(coms)}`);
    return lines.length ? lines : ['Sin territorio indicado'];
  }

  scopeText(a) {
    return this.scopeLines(a).join('; ');
  }
}

const stampFmt = new Intl.DateTimeFormat('es-CL', {
  timeZone: TIME_ZONE, day: '2-digit', month: '2-digit', year: 'numeric',
  hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});

/** stamp is "27-11-2026, 14:03:25" in Santiago: a full local date and time. */
export function stamp(iso) {
  const d = iso instanceof Date ? iso : new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : stampFmt.format(d);
}

const partsFmt = new Intl.DateTimeFormat('en-US', {
  timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});

/** santiagoParts are the Santiago wall-clock fields of the instant ms. */
function santiagoParts(ms) {
  const p = {};
  for (const { type, value } of partsFmt.formatToParts(new Date(ms))) p[type] = value;
  return p;
}

/** santiagoOffset is Santiago's offset from UTC, in minutes, at the instant ms. */
function santiagoOffset(ms) {
  const p = santiagoParts(ms);
  const wall = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second);
  return Math.round((wall - Math.floor(ms / 1000) * 1000) / 60000);
}

/**
 * santiagoISO turns a Santiago wall-clock date (YYYY-MM-DD) and time (HH:MM
 * or HH:MM:SS) into RFC 3339 with Santiago's offset at that moment, e.g.
 * "2026-11-27T14:03:00-03:00", whatever the browser's own zone is. A time
 * the clocks skip when daylight saving starts is moved forward, as the
 * clocks are; '' when the input is not a date and time.
 */
export function santiagoISO(ymd, hms = '00:00') {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd || '');
  const t = /^(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(hms || '');
  if (!d || !t) return '';
  const wall = Date.UTC(+d[1], +d[2] - 1, +d[3], +t[1], +t[2], +(t[3] || 0));
  const back = new Date(wall);
  if (Number.isNaN(wall) || back.getUTCMonth() !== +d[2] - 1 || back.getUTCDate() !== +d[3] || +t[1] > 23 || +t[2] > 59) return '';
  let ms = wall - santiagoOffset(wall) * 60000;
  const again = santiagoOffset(ms);
  if (again !== santiagoOffset(wall)) {
    const alt = wall - again * 60000;
    if (santiagoOffset(alt) === again) ms = alt;
  }
  const p = santiagoParts(ms);
  const off = santiagoOffset(ms);
  const abs = Math.abs(off);
  const zone = `${off < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${p.year}-${p.month}-${p.day}T${String(+p.hour % 24).padStart(2, '0')}:${p.minute}:${p.second}${zone}`;
}

/** localInput is an instant as a datetime-local value in Santiago ("2026-11-27T14:03"). */
export function localInput(iso) {
  const d = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${dayKey(d)}T${timeFmt.format(d)}`;
}

const EVENT_LABELS = {
  'alert.declared': 'Alerta declarada',
  'alert.level_changed': 'Cambio de nivel',
  'alert.scope_changed': 'Cambio de territorio',
  'alert.details_updated': 'Edición de alerta',
  'alert.cancelled': 'Alerta cancelada',
  'shift.assigned': 'Turno asignado',
  'shift.unassigned': 'Turno vacante',
  'log.entry_added': 'Novedad registrada',
  'log.entry_corrected': 'Novedad corregida',
  'informe.received': 'Informe recibido',
  'user.created': 'Usuario creado',
  'user.role_changed': 'Cambio de rol',
  'user.password_changed': 'Cambio de contraseña',
  'user.disabled': 'Usuario desactivado',
};

/** EVENT_TYPES are the event types of the log, in the order a filter lists them. */
export const EVENT_TYPES = Object.keys(EVENT_LABELS);

/** eventLabel names an event type in Spanish ("alert.level_changed" → "Cambio de nivel"). */
export function eventLabel(type) {
  return EVENT_LABELS[type] || type;
}

const STREAM_KINDS = [
  ['alert-', 'Alerta'],
  ['roster-', 'Turnos'],
  ['log-', 'Bitácora'],
  ['informe-', 'Informe'],
  ['user-', 'Usuario'],
];

/** STREAM_PREFIXES are the aggregate kinds a stream filter may name, with their Spanish names. */
export const STREAM_PREFIXES = STREAM_KINDS.map(([prefix, label]) => ({ prefix, label }));

/** streamLabel names a stream: "roster-2026-11-27" → "Turnos 2026-11-27", "alert-…" → "Alerta 0193…". */
export function streamLabel(stream) {
  for (const [prefix, label] of STREAM_KINDS) {
    if (stream.startsWith(prefix)) {
      const rest = stream.slice(prefix.length);
      return prefix === 'alert-' || prefix === 'user-' ? `${label} ${rest.slice(0, 8)}` : `${label} ${rest}`;
    }
  }
  return stream;
}
