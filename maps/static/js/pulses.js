// A new incident pulses at its place for a few seconds, before (or besides) its task marker.
const PULSE_MS = 8000;
const MAX_PULSES = 20;

export class IncidentPulses {
  constructor(map) {
    this.map = map;
    this.active = 0;
  }

  add(message) {
    if (message.op !== 'insert' || message.lon === null || message.lon === undefined) return;
    if (this.active >= MAX_PULSES) return;
    const marker = L.marker([message.lat, message.lon], {
      pane: 'tasksPane',
      interactive: false,
      keyboard: false,
      icon: L.divIcon({ className: `incident-pulse ${message.urgency || ''}`, iconSize: L.point(48, 48) }),
    }).addTo(this.map);
    this.active += 1;
    setTimeout(() => {
      marker.remove();
      this.active -= 1;
    }, PULSE_MS);
  }
}
