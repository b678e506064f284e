/**
 * Where Loki writes in its object store, as both sides agree on it: the
 * platform's storage lifecycle expires these prefixes, the add-on configures
 * Loki to write there. With authentication off Loki's single tenant is `fake`;
 * chunks live under the tenant, index tables under `index/<prefix><period>`.
 */
export const LOKI_TENANT = "fake";
export const LOKI_INDEX_PREFIX = "index_";
/** Chunks first, then index tables; the compactor's own files are elsewhere. */
export const LOKI_DATA_PREFIXES = [`${LOKI_TENANT}/`, `index/${LOKI_INDEX_PREFIX}`] as const;
