//! Who is calling, below both HTTP adapters (`api/` and `web/`) and the use
//! cases (`app/`): bearer API tokens, browser sessions with their CSRF
//! tokens, passkey ceremonies for residents and staff, and the step-up proof
//! every remote open needs. Nothing here depends on `api/`, `web/` or `app/`.

pub mod keys;
pub mod passkeys;
pub mod sessions;
pub mod step_up;
mod tokens;

pub use tokens::{Caller, DEPOSITORS, MANAGERS, STAFF, token_mac};
