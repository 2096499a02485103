// Building DOM without innerHTML: text from the server is always set as text.

function present(children) {
  return children.flat().filter((child) => child !== null && child !== undefined && child !== false);
}

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') el.className = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  el.append(...present(children));
  return el;
}

/** Replaces the children of ``el`` (absent ones — null, undefined, false — are skipped). */
export function fill(el, ...children) {
  el.replaceChildren(...present(children));
  return el;
}

/** Runs ``fn`` once a burst of calls has been quiet for ``ms`` milliseconds. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Resolves after the browser has painted the current state (two animation frames). */
export function painted() {
  return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
}
