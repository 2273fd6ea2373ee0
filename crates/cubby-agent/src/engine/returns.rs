//! A courier takes the parcels waiting here for its carrier (expired ones,
//! residents' returns and shipments) with a courier pass, decided at the
//! locker so it works with the server unreachable.

use cubby_protocol::cache::{CredentialKind, local_credential_mac};
use cubby_protocol::journal::EdgeEvent;

use super::{Engine, ReturnsAnswer};
use crate::now_ms;

impl Engine {
    /// Opens every compartment holding a parcel for the pass's carrier that
    /// nobody took since the cache was built. Each is journalled before its
    /// door is released; a wrong pass counts against the keypad.
    pub(super) async fn collect_returns(&mut self, pass: &str) -> ReturnsAnswer {
        let now = now_ms();
        if pass.len() > 64 {
            return ReturnsAnswer::PassRejected;
        }
        if let Some(until_ms) = self.keypad_locked(now) {
            return ReturnsAnswer::Locked { until_ms };
        }
        let Some(cache) = self.cache.as_ref() else {
            return ReturnsAnswer::Unavailable("this locker has no credential list yet".into());
        };
        if now > cache.expires_ms {
            return ReturnsAnswer::Unavailable("this locker's credential list has expired".into());
        }
        let mac = local_credential_mac(&self.credential_key, CredentialKind::Courier, pass.trim());
        let Some(courier) = cache.find_courier(&mac, now).cloned() else {
            self.record_or_log(EdgeEvent::PickupDenied {
                via: CredentialKind::Courier,
            });
            self.keypad_failure(now);
            return ReturnsAnswer::PassRejected;
        };
        self.keypad.record_success();
        let waiting: Vec<_> = cache
            .awaiting_carrier
            .iter()
            .filter(|a| a.carrier == courier.carrier && !self.collected.contains_key(&a.parcel_id))
            .cloned()
            .collect();
        if waiting.is_empty() {
            return ReturnsAnswer::NothingToCollect;
        }
        let mut opened = Vec::new();
        let mut parcels = Vec::new();
        for a in waiting {
            let Some(addr) = self.address_of(&a.compartment) else {
                continue;
            };
            let seq = match self.record(EdgeEvent::ReturnCollected {
                pass_id: courier.pass_id.clone(),
                parcel_id: a.parcel_id.clone(),
                compartment: a.compartment.clone(),
            }) {
                Ok(seq) => seq,
                Err(e) => return ReturnsAnswer::Unavailable(format!("journal: {e}")),
            };
            self.collected.insert(a.parcel_id.clone(), seq);
            if self.release(&a.compartment, addr).await.is_ok() && !opened.contains(&a.compartment)
            {
                opened.push(a.compartment.clone());
            }
            parcels.push(a.parcel_id);
        }
        ReturnsAnswer::Opened {
            compartments: opened,
            parcel_ids: parcels,
        }
    }
}
