//! The core files of ../../src/ratelimit, compiled as they are (see ../lib.rs).
#[path = "../../../src/ratelimit/algorithm.rs"]
pub mod algorithm;
#[path = "../../../src/ratelimit/table.rs"]
pub mod table;
