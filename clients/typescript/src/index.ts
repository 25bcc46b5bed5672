// The mediaserver API as a typed client: openapi-fetch over `paths`, which openapi-typescript
// generates from the server's OpenAPI document into ./schema.d.ts (scripts/gen-clients.sh).
// Every route, parameter, body and answer is typed; nothing here is written by hand but this.

import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths } from './schema.js';

export type { components, operations, paths };
/** A schema of the document by name, e.g. `Schema<'MediaView'>`. */
export type Schema<N extends keyof components['schemas']> = components['schemas'][N];
export type MediaserverClient = Client<paths>;

/** A client of the server at `baseUrl`, sending `token` (an access token or an API key) as the
 *  bearer credential when given. */
export function createMediaserverClient(baseUrl: string, token?: string, options: ClientOptions = {}): MediaserverClient {
  const headers = token ? { ...(options.headers as Record<string, string> | undefined), authorization: `Bearer ${token}` } : options.headers;
  return createClient<paths>({ ...options, baseUrl, headers });
}
