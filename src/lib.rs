//! rampart: security primitives for Node.js servers, as a native addon.
//!
//! This file only wires modules; each primitive lives in its own module.
#![deny(clippy::all)]
// In `cargo test` builds napi-derive does not register exports, so binding-only code looks
// unused there; the bindings are tested from JavaScript.
#![cfg_attr(test, allow(dead_code))]

mod aead;
mod args;
mod b64;
mod error;
mod jwt;
mod password;
mod ratelimit;
mod redact;
mod totp;
