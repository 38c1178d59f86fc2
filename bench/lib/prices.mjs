// Cloudflare's published list prices (Workers Paid, usage beyond the monthly allowances), as read on
// 2026-11-21 from stored copies of Cloudflare's pricing pages (docs/benchmarks.md, "Prices", says which).
// The $5/month base and the included allowances are left out: this is the marginal price per unit.
export const PRICES = {
  retrieved: "2026-11-21",
  /** $ per million Worker requests (Standard usage model); queue consumer invocations counted as requests. */
  workerRequest: 0.3,
  /** $ per million CPU milliseconds. */
  workerCpuMs: 0.02,
  /** $ per million queue operations (one per 64 KB written, read or deleted). */
  queueOperation: 0.4,
  /** $ per million Durable Object requests (RPC calls and alarm invocations). */
  doRequest: 0.15,
  /** $ per million GB-s of Durable Object duration, billed at 128 MB per active object. */
  doGbSecond: 12.5,
  /** $ per million rows, SQLite-backed Durable Objects (same rates as D1; setAlarm() is one row written). */
  doRowRead: 0.001,
  doRowWritten: 1.0,
  /** $ per million rows, D1. */
  d1RowRead: 0.001,
  d1RowWritten: 1.0,
  sources: {
    workers: "https://developers.cloudflare.com/workers/platform/pricing/",
    queues: "https://developers.cloudflare.com/queues/platform/pricing/",
    durableObjects: "https://developers.cloudflare.com/durable-objects/platform/pricing/",
    d1: "https://developers.cloudflare.com/d1/platform/pricing/",
  },
};
