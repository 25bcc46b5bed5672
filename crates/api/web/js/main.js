// mediaserver web UI: plain JavaScript ES modules, no build step. Talks to the /v1 API with Bearer
// tokens kept in localStorage; plays through hls.js and dash.js and uploads through tus-js-client
// (vendored under /assets/vendor/, loaded before this module as classic scripts setting globals).
//
// This module wires the others together: the routes, and what redraws when the session changes.
//
// Test hooks: `data-testid` attributes throughout, `window.__ms` (below) and, on a player page,
// `window.__player` (player.js).

import { viewAdmin } from './admin.js';
import { api, onSignedOut, store } from './api.js';
import { viewLogin, viewRegister } from './auth.js';
import { viewHome, viewPublic } from './library.js';
import { viewMedia } from './media.js';
import { renderNav, route, startRouter } from './router.js';
import { viewSettings } from './settings.js';
import { viewShare } from './share.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

onSignedOut(renderNav);

// Another tab logging in or out changes what this one shows.
window.addEventListener('storage', (e) => { if (e.key === 'ms.refresh' && !e.newValue) { renderNav(); route(); } });

startRouter([
  [/^#?\/?$/, viewHome],
  [/^#\/login$/, viewLogin],
  [/^#\/register(?:\?.*)?$/, viewRegister],
  [/^#\/admin$/, viewAdmin],
  [/^#\/public$/, viewPublic],
  [/^#\/media\/([A-Za-z0-9_-]+)$/, viewMedia],
  [/^#\/share\/([^/?#]+)$/, viewShare],
  [/^#\/settings$/, viewSettings],
]);

// Used by tests and handy in the console.
window.__ms = { store, api, sleep };
