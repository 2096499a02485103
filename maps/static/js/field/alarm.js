// The urgent alert: the whole screen, a repeating two-tone sound made with WebAudio (no
// audio file) and vibration, until the worker accepts with one tap. It rings only while
// the app is open — a phone in a pocket is reached by SMS and voice calls (the ladder).
const RING_MS = 1400;
const VIBRATION = [500, 150, 500];

export class Alarm {
  constructor({ onAccept, onView, describe }) {
    this.element = document.getElementById('alarm');
    this.onAccept = onAccept;
    this.onView = onView;
    this.describe = describe;
    this.task = null;
    this.timer = null;
    this.audio = null;
    this.rings = 0;
    this.viewed = new Set(); // "see details first": not rung again for this task

    document.getElementById('alarm-accept').addEventListener('click', () => this.accept());
    document.getElementById('alarm-later').addEventListener('click', () => {
      const task = this.task;
      this.hide();
      if (task) {
        this.viewed.add(task.id);
        this.onView(task);
      }
    });
    // Browsers start sound only after a tap: any tap in the app unlocks it for later.
    document.addEventListener('pointerdown', () => this.unlock(), { once: true });
  }

  get showing() {
    return this.task !== null;
  }

  unlock() {
    try {
      this.audio ??= new (window.AudioContext || window.webkitAudioContext)();
      this.audio.resume();
    } catch {
      this.audio = null;
    }
  }

  show(task) {
    if (this.task?.id === task.id || this.viewed.has(task.id)) return;
    this.task = task;
    const { title, place } = this.describe(task);
    document.getElementById('alarm-task-title').textContent = title;
    document.getElementById('alarm-task-place').textContent = place;
    this.element.hidden = false;
    this.element.dataset.taskId = String(task.id);
    document.body.classList.add('alarming');
    clearInterval(this.timer);
    this.ring();
    this.timer = setInterval(() => this.ring(), RING_MS);
  }

  ring() {
    this.rings += 1;
    navigator.vibrate?.(VIBRATION);
    if (!this.audio) this.unlock();
    const audio = this.audio;
    if (!audio || audio.state !== 'running') return;
    const start = audio.currentTime;
    [880, 660, 880, 660].forEach((frequency, i) => {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.type = 'square';
      oscillator.frequency.value = frequency;
      const at = start + i * 0.25;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.3, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.22);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(at);
      oscillator.stop(at + 0.24);
    });
  }

  accept() {
    const task = this.task;
    this.hide();
    if (task) this.onAccept(task);
  }

  hide() {
    clearInterval(this.timer);
    this.timer = null;
    navigator.vibrate?.(0);
    this.task = null;
    this.element.hidden = true;
    document.body.classList.remove('alarming');
  }
}
