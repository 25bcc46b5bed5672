// Building the page: elements from data (never HTML), and the page's fixed parts (the view, the
// toast, the confirm dialog) and copyable fields.

export const $ = (sel, root = document) => root.querySelector(sel);

/** Builds an element. Props: `class`, `text`, `on<event>` listeners, properties that exist on the
 *  element (value, checked, disabled, muted...), everything else as attributes. Never HTML. */
export function el(tag, props, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k in e && !k.startsWith('aria') && !k.startsWith('data') && typeof v !== 'string') e[k] = v;
    else if (k === 'value' || k === 'muted') e[k] = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return e;
}

/** Like replaceChildren, but skips null/false (which the DOM would turn into text). */
export const setKids = (node, ...kids) => node.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));

let toastTimer;
export function toast(msg) {
  const t = $('#toast');
  t.textContent = msg;
  t.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove('show'), 3000);
}

export function confirmDialog(title, text, okLabel = 'Delete') {
  const d = $('#confirm');
  $('#confirm-title').textContent = title;
  $('#confirm-text').textContent = text;
  $('[data-testid="confirm-ok"]', d).textContent = okLabel;
  return new Promise((resolve) => {
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
    d.returnValue = '';
    d.showModal();
    $('[data-testid="confirm-cancel"]', d).focus();
  });
}

async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    toast('Copied to the clipboard');
  } catch {
    // Clipboard API needs a secure context; fall back to selecting the text.
    if (input) { input.focus(); input.select(); }
    try { document.execCommand('copy'); toast('Copied'); } catch { toast('Press Ctrl+C to copy'); }
  }
}

export function copyField(label, value, testid) {
  const id = 'f-' + testid;
  const input = el('input', { id, type: 'text', readOnly: true, value, 'data-testid': testid, onfocus: (e) => e.target.select() });
  return [
    el('label', { for: id, text: label }),
    el('div', { class: 'copy' }, input,
      el('button', { type: 'button', class: 'secondary', 'aria-label': 'Copy ' + label, onclick: () => copyText(input.value, input) }, 'Copy')),
  ];
}

/** Where the current route renders. */
export const view = () => $('#view');
