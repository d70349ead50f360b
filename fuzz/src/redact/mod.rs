//! The core files of ../../src/redact, compiled as they are (see ../lib.rs).
#[path = "../../../src/redact/censor.rs"]
pub mod censor;
#[path = "../../../src/redact/json.rs"]
pub mod json;
#[path = "../../../src/redact/patterns.rs"]
pub mod patterns;
#[path = "../../../src/redact/rules.rs"]
pub mod rules;
