//! Who is calling, below both HTTP adapters (`api/` and `web/`) and the use
//! cases (`app/`): bearer API tokens, browser sessions with their CSRF
//! tokens, passkey ceremonies for residents and staff, and the step-up proof
//! every remote open needs. Nothing here depends on `api/`, `web/` or `app/`.

pub mod audit;
pub mod keys;
pub mod passkeys;
pub mod sessions;
pub mod step_up;
pub mod throttle;
pub(crate) mod tokens;

pub use audit::Audit;
pub use throttle::Source;
pub use tokens::{Caller, DEPOSITORS, MANAGERS, STAFF, token_mac};
