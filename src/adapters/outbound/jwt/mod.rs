//! JSON Web Token verification with `jsonwebtoken`: the signature and time checks in
//! `verifier`, and the reading of the claims the importing applications put in their tokens
//! in `claims`.

mod claims;
pub mod verifier;

pub use verifier::{JwtSetupError, JwtVerifier};
