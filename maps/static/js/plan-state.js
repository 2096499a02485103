// The editor's draft in memory: each building's grid, per-grid households and members,
// and per-grid contiguity on the building adjacency graph the API sends with the draft.
// A move touches only the grids it changes: their totals change by the moved households
// and only their members are searched again for connected parts (no full recount).

export class Draft {
  constructor(buildings, adjacency, targets) {
    this.targets = targets;
    this.households = buildings.map((b) => b.households);
    this.grid = buildings.map((b) => b.grid);
    this.neighbours = buildings.map(() => []);
    for (const [a, b] of adjacency) {
      this.neighbours[a].push(b);
      this.neighbours[b].push(a);
    }
    this.members = new Map();
    this.totals = new Map();
    this.parts = new Map();
    this.locked = new Set();
    buildings.forEach((b, i) => {
      if (b.grid === null) return;
      this.#join(i, b.grid);
      if (b.locked) this.locked.add(b.grid);
    });
    for (const code of this.members.keys()) this.parts.set(code, this.#countParts(code));
  }

  #join(i, code) {
    if (!this.members.has(code)) {
      this.members.set(code, new Set());
      this.totals.set(code, 0);
    }
    this.members.get(code).add(i);
    this.totals.set(code, this.totals.get(code) + this.households[i]);
  }

  #leave(i, code) {
    this.members.get(code).delete(i);
    this.totals.set(code, this.totals.get(code) - this.households[i]);
  }

  #countParts(code) {
    const members = this.members.get(code);
    if (!members || members.size === 0) return 0;
    const seen = new Set();
    let parts = 0;
    for (const start of members) {
      if (seen.has(start)) continue;
      parts += 1;
      seen.add(start);
      const stack = [start];
      while (stack.length) {
        for (const v of this.neighbours[stack.pop()]) {
          if (!seen.has(v) && members.has(v)) {
            seen.add(v);
            stack.push(v);
          }
        }
      }
    }
    return parts;
  }

  codes() {
    return [...this.members.keys()].filter((c) => this.members.get(c).size > 0).sort();
  }

  movable(i, to) {
    const from = this.grid[i];
    return from !== to && !this.locked.has(from) && !this.locked.has(to);
  }

  /** Moves ``changes`` ([building index, to grid]); returns the step ([i, from, to]) done. */
  apply(changes) {
    const step = [];
    const touched = new Set();
    for (const [i, to] of changes) {
      const from = this.grid[i];
      if (from === to) continue;
      if (from !== null) {
        this.#leave(i, from);
        touched.add(from);
      }
      this.#join(i, to);
      touched.add(to);
      this.grid[i] = to;
      step.push([i, from, to]);
    }
    for (const code of touched) this.parts.set(code, this.#countParts(code));
    return step;
  }

  problem(code) {
    const total = this.totals.get(code) ?? 0;
    if (this.parts.get(code) > 1) return 'plan.not_contiguous';
    if (total < this.targets.min) return 'plan.below_min';
    if (total > this.targets.max) return 'plan.above_max';
    return null;
  }

  problems() {
    return this.codes().filter((code) => this.problem(code) !== null);
  }

  assignment(buildings) {
    const out = {};
    buildings.forEach((b, i) => {
      if (this.grid[i] !== null) out[String(b.id)] = this.grid[i];
    });
    return out;
  }
}

/** Whether [x, y] lies inside the ring ``points`` ([[x, y], …]), by ray casting. */
export function inside([x, y], points) {
  let hit = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i, i += 1) {
    const [xi, yi] = points[i];
    const [xj, yj] = points[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}
