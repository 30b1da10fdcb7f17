// The client-side state of the board and the wall display: alerts in force,
// today's shifts and today's log, fed by the list endpoints, by WebSocket
// change notices and by snapshots. Notices carry whole rows with their
// version, so applying one is idempotent: a row whose version is not newer
// than the one held is ignored, and replays after a resume do no harm.

const LEVEL_RANK = { temprana_preventiva: 1, amarilla: 2, roja: 3 };

/** levelRank orders levels: 3 for roja down to 1, 0 unknown. */
export function levelRank(level) {
  return LEVEL_RANK[level] || 0;
}

/** byAlertOrder sorts as the server does: strongest, newest declared, id. */
export function byAlertOrder(a, b) {
  const r = levelRank(b.level) - levelRank(a.level);
  if (r) return r;
  const d = Date.parse(b.declared_at) - Date.parse(a.declared_at);
  if (d) return d;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Store holds the state and tells subscribers what changed:
 * {kind: 'alerts'|'shifts'|'log', ids?: [...], live: bool}.
 */
export class Store {
  /** alertFilter(alert) decides which alerts in force to keep (wall display comuna filters). */
  constructor({ alertFilter = () => true } = {}) {
    this.alertFilter = alertFilter;
    this.alerts = new Map();
    this.alertVersions = new Map();
    this.shiftsDate = '';
    this.shifts = new Map();
    this.slotVersions = new Map();
    this.logDate = '';
    this.log = new Map();
    this.updatedAt = null;
    this.listeners = new Set();
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(change) {
    this.updatedAt = new Date();
    for (const fn of this.listeners) fn(change);
  }

  sortedAlerts() {
    return [...this.alerts.values()].sort(byAlertOrder);
  }

  sortedShifts() {
    return [...this.shifts.values()].sort((a, b) => (a.start === b.start ? (a.slot < b.slot ? -1 : 1) : a.start < b.start ? -1 : 1));
  }

  /** sortedLog is newest first. */
  sortedLog() {
    return [...this.log.values()].sort((a, b) => Date.parse(b.at) - Date.parse(a.at) || (a.id < b.id ? 1 : -1));
  }

  setAlerts(list, live = false) {
    this.alerts.clear();
    this.alertVersions.clear();
    for (const a of list || []) {
      this.alertVersions.set(a.id, a.version);
      if (a.status === 'vigente' && this.alertFilter(a)) this.alerts.set(a.id, a);
    }
    this.emit({ kind: 'alerts', live });
  }

  /** applyAlert applies an alert row (from a notice or an HTTP answer). */
  applyAlert(row, live = false) {
    if (!row || !row.id) return false;
    const seen = this.alertVersions.get(row.id);
    if (seen !== undefined && row.version <= seen) return false;
    this.alertVersions.set(row.id, row.version);
    if (row.status === 'vigente' && this.alertFilter(row)) {
      this.alerts.set(row.id, row);
    } else {
      this.alerts.delete(row.id);
    }
    this.emit({ kind: 'alerts', ids: [row.id], row, live });
    return true;
  }

  setShifts(date, list, live = false) {
    this.shiftsDate = date;
    this.shifts.clear();
    this.slotVersions.clear();
    for (const s of list || []) {
      this.shifts.set(s.slot, s);
      this.slotVersions.set(s.slot, s.version);
    }
    this.emit({ kind: 'shifts', live });
  }

  /** applyShift applies a shift.updated notice: {date, slot, version, shift|null}. */
  applyShift(change, live = false) {
    if (!change || change.date !== this.shiftsDate) return false;
    const seen = this.slotVersions.get(change.slot);
    if (seen !== undefined && change.version <= seen) return false;
    this.slotVersions.set(change.slot, change.version);
    if (change.shift) this.shifts.set(change.slot, change.shift);
    else this.shifts.delete(change.slot);
    this.emit({ kind: 'shifts', ids: [change.slot], live });
    return true;
  }

  setLog(date, entries, live = false) {
    this.logDate = date;
    this.log.clear();
    for (const e of entries || []) this.log.set(e.id, e);
    this.emit({ kind: 'log', live });
  }

  /** applyLog applies a log entry (log.added, log.corrected or a POST answer). */
  applyLog(entry, live = false) {
    if (!entry || entry.date !== this.logDate) return false;
    const seen = this.log.get(entry.id);
    if (seen && entry.version <= seen.version) return false;
    this.log.set(entry.id, entry);
    this.emit({ kind: 'log', ids: [entry.id], live });
    return true;
  }

  /**
   * applyMessage applies one /ws message; it returns 'newday' when a change
   * belongs to a later day than the one shown (the caller reloads).
   */
  applyMessage(msg) {
    switch (msg.type) {
      case 'alert.declared':
      case 'alert.updated':
      case 'alert.cancelled':
        this.applyAlert(msg.data, true);
        break;
      case 'shift.updated':
        if (msg.data && this.shiftsDate && msg.data.date > this.shiftsDate) return 'newday';
        this.applyShift(msg.data, true);
        break;
      case 'log.added':
      case 'log.corrected':
        if (msg.data && this.logDate && msg.data.date > this.logDate) return 'newday';
        this.applyLog(msg.data, true);
        break;
      case 'snapshot':
        this.applySnapshot(msg.data || {});
        break;
      default:
        // hello, informe.received and anything newer: nothing to apply.
        break;
    }
    return '';
  }

  /** applySnapshot replaces the state with a snapshot's (topics alerts, shifts, log). */
  applySnapshot(data) {
    // An empty alert list is left out of the snapshot.
    this.setAlerts(data.alerts || [], true);
    if (data.shifts) this.setShifts(data.shifts.date, data.shifts.shifts, true);
    if (data.log) this.setLog(data.log.date, data.log.entries, true);
  }
}

/**
 * comunaFilter returns a filter that keeps the alerts concerning one of the
 * CUT codes, as the hub filters notices: regional alerts always pass.
 */
export function comunaFilter(codes) {
  if (!codes || codes.length === 0) return () => true;
  return (a) => {
    if (a.region || ((a.comunas || []).length === 0 && (a.provincias || []).length === 0)) return true;
    return codes.some((c) => (a.comunas || []).includes(c) || (a.provincias || []).includes(c.slice(0, 3)));
  };
}
