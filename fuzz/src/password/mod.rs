//! The core files of ../../src/password, compiled as they are (see ../lib.rs).
#[path = "../../../src/password/kdf.rs"]
pub mod kdf;
#[path = "../../../src/password/phc.rs"]
pub mod phc;
