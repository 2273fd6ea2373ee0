//! Identifiers: a short type prefix plus 128 random bits, so ids are unguessable
//! (knowing one parcel id tells nothing about another) and readable in logs.

use rand::RngCore;

/// Generates an id such as `par_5f0c…` (prefix + 32 hex characters).
pub fn new_id(prefix: &str, rng: &mut dyn RngCore) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    format!("{prefix}_{}", hex::encode(bytes))
}

/// True when `id` has the shape [`new_id`] produces for `prefix`. Used to reject
/// garbage path parameters early with a clear error.
pub fn looks_like(prefix: &str, id: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub const ORG: &str = "org";
pub const SITE: &str = "site";
pub const BUILDING: &str = "bld";
pub const RESIDENT: &str = "res";
pub const LOCKER: &str = "lck";
pub const COMPARTMENT: &str = "cmp";
pub const PARCEL: &str = "par";
pub const ROOM: &str = "room";
pub const ZONE: &str = "zone";
pub const CARRIER: &str = "car";
pub const COURIER: &str = "cou";
pub const TOKEN: &str = "tok";
pub const CREDENTIAL: &str = "crd";
pub const MESSAGE: &str = "msg";
pub const DEVICE: &str = "dev";
pub const COMMAND: &str = "cmd";
pub const INCIDENT: &str = "inc";
pub const COURIER_PASS: &str = "cps";
pub const BULK_OPEN: &str = "bulk";
pub const DOOR: &str = "door";
pub const DOOR_PATH: &str = "dpath";
pub const ACCESS_GRANT: &str = "agr";
pub const RESERVATION: &str = "rsv";
