//! The core files of ../../src/jwt, compiled as they are (see ../lib.rs).
#[path = "../../../src/jwt/claims.rs"]
pub mod claims;
#[path = "../../../src/jwt/der.rs"]
pub mod der;
#[path = "../../../src/jwt/json.rs"]
pub mod json;
#[path = "../../../src/jwt/key.rs"]
pub mod key;
#[path = "../../../src/jwt/pem.rs"]
pub mod pem;
#[path = "../../../src/jwt/token.rs"]
pub mod token;
