//! rampart: security primitives for Node.js servers, as a native addon.
//!
//! This file only wires modules; each primitive lives in its own module.
//!
//! # The binding convention (every export follows it)
//! 1. Read and check arguments with `args.rs` only: every wrong type is a `TypeError`
//!    (`ERR_INVALID_ARG_TYPE`/`ERR_INVALID_ARG_VALUE`), every bad number a `RangeError`
//!    (`ERR_OUT_OF_RANGE`); a throwing getter or Proxy trap is cleared and reported the same way.
//!    Byte arguments backed by a `SharedArrayBuffer` are refused (`args::bytes`).
//! 2. Call a pure core function (no napi; `cargo test` covers it; `fuzz/` links it). Defaults and
//!    checks that relate options live there, not in the binding.
//! 3. Map its `error::Error` through `src/error.rs`: a sync export's body is `error::run(env, ..)`,
//!    an async one settles its promise with `Error::into_rejection`; never a napi `Status` as
//!    `code`, never a second path.
//! 4. `catch_unwind` on every export (`#[napi(catch_unwind)]`, and `error::guard` around work that
//!    runs off the JS thread), so a panic becomes `ERR_INTERNAL` instead of aborting the process.
//!    Internal native methods that the `js/` classes wrap carry `skip_typescript`: the published
//!    types describe what users get (`js/index.d.ts`).
//! 5. The few methods called on every request (rate-limit hit/peek, JWT verify, redaction) are
//!    also published as functions bound to the object's state (`src/bound.rs`), which skip
//!    napi-rs's per-call class machinery; they follow 1-4 by hand (same readers, same errors,
//!    panics caught) and a test checks they answer exactly as the class methods.
#![deny(clippy::all)]
// In `cargo test` builds napi-derive does not register exports, so binding-only code looks
// unused there; the bindings are tested from JavaScript.
#![cfg_attr(test, allow(dead_code))]

mod aead;
mod args;
mod b64;
mod bound;
mod error;
mod jwt;
mod password;
mod ratelimit;
mod redact;
mod text;
mod totp;
