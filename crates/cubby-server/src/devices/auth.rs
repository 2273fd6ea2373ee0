//! Who may connect to the embedded broker and what each may touch.

use std::sync::Arc;

use cubby_broker::Authorizer;
use cubby_protocol::{constant_time_eq, topics};

use super::{DeviceHub, device_secret_mac};

/// The principal name of the server's own connection.
pub const SERVER_PRINCIPAL: &str = "cubby-server";

pub struct DeviceAuthorizer {
    pub hub: Arc<DeviceHub>,
    pub secret: Arc<Vec<u8>>,
    pub server_password: String,
}

impl Authorizer for DeviceAuthorizer {
    fn authenticate(
        &self,
        client_id: &str,
        username: Option<&str>,
        password: Option<&[u8]>,
    ) -> Result<String, ()> {
        let (Some(user), Some(pass)) = (username, password) else {
            return Err(());
        };
        if user == SERVER_PRINCIPAL {
            return if constant_time_eq(pass, self.server_password.as_bytes()) {
                Ok(SERVER_PRINCIPAL.to_string())
            } else {
                Err(())
            };
        }
        // A device connects as itself: client id = username = device id.
        if client_id != user || !topics::valid_device_id(user) {
            return Err(());
        }
        let pass = std::str::from_utf8(pass).map_err(|_| ())?;
        let wanted = device_secret_mac(&self.secret, pass);
        let known = self.hub.credentials.read().map_err(|_| ())?;
        match known.get(user) {
            Some(stored) if constant_time_eq(stored, &wanted) => Ok(user.to_string()),
            _ => Err(()),
        }
    }

    fn may_publish(&self, principal: &str, topic: &str) -> bool {
        if principal == SERVER_PRINCIPAL {
            return topic.starts_with("cubby/v1/");
        }
        topics::device_may_publish(principal, topic)
    }

    fn may_subscribe(&self, principal: &str, filter: &str) -> bool {
        if principal == SERVER_PRINCIPAL {
            return filter.starts_with("cubby/v1/");
        }
        topics::device_may_subscribe(principal, filter)
    }
}
