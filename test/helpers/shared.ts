// Where the shared example configs are: ../shared/examples beside the repository when present, else the
// byte-for-byte copies in test/fixtures/examples (a clean clone may have no sibling folder).
import { existsSync } from 'node:fs';

export const SHARED_EXAMPLES = new URL('../../../shared/examples/', import.meta.url).pathname;
export const COPIED_EXAMPLES = new URL('../fixtures/examples/', import.meta.url).pathname;
export const EXAMPLES_DIR = existsSync(SHARED_EXAMPLES) ? SHARED_EXAMPLES : COPIED_EXAMPLES;

// The TLS captures (ClientHello/ServerHello bytes and their NOTES), found the same way.
export const SHARED_TLS_FIXTURES = new URL('../../../shared/fixtures/tls/', import.meta.url).pathname;
export const COPIED_TLS_FIXTURES = new URL('../fixtures/tls/', import.meta.url).pathname;
export const TLS_FIXTURES_DIR = existsSync(SHARED_TLS_FIXTURES) ? SHARED_TLS_FIXTURES : COPIED_TLS_FIXTURES;

// The HTTP request corpus, found the same way: the shared folder when present, else test/fixtures/http-vectors.
export const SHARED_HTTP_VECTORS = new URL('../../../shared/fixtures/http-vectors/', import.meta.url).pathname;
export const COPIED_HTTP_VECTORS = new URL('../fixtures/http-vectors/', import.meta.url).pathname;
export const HTTP_VECTORS_DIR = existsSync(SHARED_HTTP_VECTORS) ? SHARED_HTTP_VECTORS : COPIED_HTTP_VECTORS;
