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
