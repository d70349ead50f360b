//! The core files of ../../src/aead, compiled as they are (see ../lib.rs).
#[path = "../../../src/aead/envelope.rs"]
pub mod envelope;
#[path = "../../../src/aead/key.rs"]
pub mod key;
#[path = "../../../src/aead/keyring.rs"]
pub mod keyring;
