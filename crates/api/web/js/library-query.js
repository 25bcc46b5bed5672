// The library's search, filters and sort (GET /v1/media's q, kind, status and sort): a toolbar
// whose every change reloads the list from its first page.

import { el } from './dom.js';

function select(testid, label, options) {
  return el('select', { 'data-testid': testid, 'aria-label': label },
    ...options.map(([value, text]) => el('option', { value, text })));
}

/** The toolbar; `onChange` runs after a change (typing settles for 250 ms first). */
export function makeLibraryQuery(onChange) {
  const q = el('input', { type: 'search', placeholder: 'Search titles', 'aria-label': 'Search titles', maxlength: '200', 'data-testid': 'library-search' });
  const kind = select('library-kind', 'Kind', [['', 'All kinds'], ['video', 'Video'], ['audio', 'Audio'], ['image', 'Images']]);
  const status = select('library-status', 'Status', [['', 'Any status'], ['ready', 'Ready'], ['processing', 'Processing'], ['queued', 'Queued'], ['failed', 'Failed']]);
  const sort = select('library-sort', 'Sort', [['newest', 'Newest first'], ['oldest', 'Oldest first'], ['title', 'Title A–Z'], ['size', 'Largest first']]);
  let timer = null;
  q.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(onChange, 250); });
  for (const s of [kind, status, sort]) s.addEventListener('change', onChange);
  return {
    root: el('div', { class: 'row library-query', role: 'search' }, q, kind, status, sort),
    /** The query for GET /v1/media: '' or '&'-prefixed parameters. */
    params() {
      const p = new URLSearchParams();
      if (q.value.trim()) p.set('q', q.value.trim());
      if (kind.value) p.set('kind', kind.value);
      if (status.value) p.set('status', status.value);
      if (sort.value !== 'newest') p.set('sort', sort.value);
      const s = p.toString();
      return s ? '&' + s : '';
    },
    /** Whether anything narrows the list (so an empty one means "no match", not "no media"). */
    narrowed: () => !!(q.value.trim() || kind.value || status.value),
  };
}
