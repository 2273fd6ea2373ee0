//! Courier-pass deposits decided at the locker, and the checks that stop
//! them (storage floor, item sensor).

use cubby_domain::allocation::{CarrierQuotas, CompartmentView, ParcelRequest, allocate};
use cubby_domain::dims::Dimensions;
use cubby_domain::model::{CompartmentStatus, TemperatureZone};
use cubby_domain::throttle::KeypadRefusal;
use cubby_domain::tracking::TrackingNumber;
use cubby_protocol::Millis;
use cubby_protocol::cache::{CredentialKind, local_credential_mac, tracking_mac};
use cubby_protocol::journal::EdgeEvent;

use super::{DepositAnswer, DropOffAnswer, Engine};
use crate::now_ms;

impl Engine {
    /// A courier deposits a pre-advised parcel with a courier pass. Decided
    /// here from the cache, so it works with the server unreachable: the pass
    /// must be valid, the parcel pre-advised for the pass's carrier, and the
    /// door is chosen among compartments that were free when the cache was
    /// built and that nothing was put into since (the same allocation rules as
    /// the server). The deposit is journalled before the door is released.
    pub(super) async fn deposit(&mut self, pass: &str, tracking_number: &str) -> DepositAnswer {
        let now = now_ms();
        if pass.len() > 64 || tracking_number.len() > 64 {
            return DepositAnswer::PassRejected;
        }
        if let Some(until_ms) = self.keypad_locked(now) {
            return DepositAnswer::Locked { until_ms };
        }
        if self.storage_low() {
            return DepositAnswer::Unavailable(
                "this locker's storage is nearly full and takes no new deposits; pick-ups still work"
                    .into(),
            );
        }
        let Some(cache) = self.cache.as_ref() else {
            return DepositAnswer::Unavailable("this locker has no credential list yet".into());
        };
        if now > cache.expires_ms {
            return DepositAnswer::Unavailable("this locker's credential list has expired".into());
        }
        let mac = local_credential_mac(&self.credential_key, CredentialKind::Courier, pass.trim());
        let Some(courier) = cache.find_courier(&mac, now).cloned() else {
            self.record_or_log(EdgeEvent::DepositRefused {
                reason: "courier pass not accepted".into(),
            });
            self.keypad_failure(now);
            return DepositAnswer::PassRejected;
        };
        self.keypad.record_success();
        let expected = TrackingNumber::parse(tracking_number).ok().and_then(|t| {
            let mac = tracking_mac(&self.credential_key, t.as_str());
            cache
                .find_expected(&mac)
                .filter(|p| p.carrier.as_ref().is_none_or(|c| *c == courier.carrier))
                .cloned()
        });
        let Some(parcel) = expected else {
            self.record_or_log(EdgeEvent::DepositRefused {
                reason: format!("parcel not pre-advised here for {}", courier.carrier),
            });
            return DepositAnswer::NotExpected;
        };
        if self.deposited.contains_key(&parcel.parcel_id) {
            return DepositAnswer::AlreadyDeposited;
        }
        let dims = Dimensions::new(parcel.width_mm, parcel.height_mm, parcel.depth_mm);
        let label = match self.choose_free(dims, &parcel.temperature, Some(&courier.carrier)) {
            Ok(label) => label,
            Err(no_fit) => {
                self.record_or_log(EdgeEvent::DepositRefused {
                    reason: no_fit.to_string(),
                });
                return DepositAnswer::NoFit(no_fit.to_string());
            }
        };
        let Some(addr) = self.address_of(&label) else {
            return DepositAnswer::Unavailable(format!("compartment {label} is not wired"));
        };
        let seq = match self.record(EdgeEvent::DepositMade {
            pass_id: courier.pass_id.clone(),
            parcel_id: parcel.parcel_id.clone(),
            compartment: label.clone(),
        }) {
            Ok(seq) => seq,
            Err(e) => return DepositAnswer::Unavailable(format!("journal: {e}")),
        };
        self.deposited
            .insert(parcel.parcel_id.clone(), (label.clone(), seq));
        match self.release(&label, addr).await {
            Ok(()) => DepositAnswer::Opened {
                compartment: label,
                parcel_id: parcel.parcel_id,
            },
            // The board fault is journalled; staff see it as an incident.
            Err(detail) => DepositAnswer::Unavailable(format!(
                "the door did not open ({detail}); keep the parcel and tell staff"
            )),
        }
    }

    /// A resident drops a return or shipment with its drop-off code. Decided
    /// here from the cache like a courier's deposit: the code must match an
    /// announced drop-off that has not expired, and the door is a free one
    /// that fits. Journalled before the door is released; a wrong code counts
    /// against the keypad like a wrong pick-up code.
    pub(super) async fn drop_off(&mut self, code: &str) -> DropOffAnswer {
        let now = now_ms();
        if code.len() > 64 {
            return DropOffAnswer::Rejected;
        }
        if let Some(until_ms) = self.keypad_locked(now) {
            return DropOffAnswer::Locked { until_ms };
        }
        if self.storage_low() {
            return DropOffAnswer::Unavailable(
                "this locker's storage is nearly full and takes nothing new; pick-ups still work"
                    .into(),
            );
        }
        let Some(cache) = self.cache.as_ref() else {
            return DropOffAnswer::Unavailable("this locker has no credential list yet".into());
        };
        if now > cache.expires_ms {
            return DropOffAnswer::Unavailable("this locker's credential list has expired".into());
        }
        let mac = local_credential_mac(&self.credential_key, CredentialKind::DropOff, code.trim());
        let found = cache
            .find_drop_off(&mac, now)
            .filter(|d| !self.deposited.contains_key(&d.parcel_id))
            .cloned();
        let Some(announced) = found else {
            self.record_or_log(EdgeEvent::PickupDenied {
                via: CredentialKind::DropOff,
            });
            self.keypad_failure(now);
            return DropOffAnswer::Rejected;
        };
        self.keypad.record_success();
        let dims = Dimensions::new(announced.width_mm, announced.height_mm, announced.depth_mm);
        let label = match self.choose_free(dims, &announced.temperature, None) {
            Ok(label) => label,
            Err(no_fit) => return DropOffAnswer::NoFit(no_fit.to_string()),
        };
        let Some(addr) = self.address_of(&label) else {
            return DropOffAnswer::Unavailable(format!("compartment {label} is not wired"));
        };
        let seq = match self.record(EdgeEvent::DropOffMade {
            credential_id: announced.credential_id.clone(),
            parcel_id: announced.parcel_id.clone(),
            compartment: label.clone(),
        }) {
            Ok(seq) => seq,
            Err(e) => return DropOffAnswer::Unavailable(format!("journal: {e}")),
        };
        self.deposited
            .insert(announced.parcel_id.clone(), (label.clone(), seq));
        match self.release(&label, addr).await {
            Ok(()) => DropOffAnswer::Opened {
                compartment: label,
                parcel_id: announced.parcel_id,
            },
            Err(detail) => DropOffAnswer::Unavailable(format!(
                "the door did not open ({detail}); keep the parcel and tell staff"
            )),
        }
    }

    /// A compartment for something put in at the locker: among those free
    /// when the cache was built, that nothing was put into since and whose
    /// sensor says empty, by the server's allocation rules.
    fn choose_free(
        &self,
        dims: Dimensions,
        temperature: &str,
        carrier: Option<&str>,
    ) -> Result<String, cubby_domain::allocation::NoCompartmentFits> {
        let taken: Vec<&str> = self.deposited.values().map(|(l, _)| l.as_str()).collect();
        let cache = self.cache.as_ref();
        let views: Vec<CompartmentView> = cache
            .map(|c| c.specs.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|s| cache.is_some_and(|c| c.free.contains(&s.label)))
            .filter(|s| !taken.contains(&s.label.as_str()))
            .filter(|s| !self.sensor_says_full(&s.label))
            .filter_map(|s| {
                Some(CompartmentView {
                    id: s.label.clone(),
                    label: s.label.clone(),
                    inner: Dimensions::new(s.width_mm, s.height_mm, s.depth_mm),
                    temperature: s.temperature.parse().ok()?,
                    height_above_floor_mm: 0,
                    status: CompartmentStatus::Available,
                    contents: None,
                })
            })
            .collect();
        let request = ParcelRequest {
            dims,
            temperature: temperature.parse().unwrap_or(TemperatureZone::Ambient),
            recipient_key: None,
            carrier: carrier.map(str::to_string),
            reach: None,
            // The locker knows nothing of who filled its doors: empty only.
            visit: None,
        };
        allocate(&request, &views, &CarrierQuotas::new()).map(|a| a.label)
    }

    /// When the keypad refuses input: `Some(until)` (`None` inside: until
    /// staff reset it).
    pub(super) fn keypad_locked(&self, now: Millis) -> Option<Option<Millis>> {
        self.keypad.check(now).err().map(|refusal| match refusal {
            KeypadRefusal::LockedOut { retry_after_secs } => {
                Some(now + retry_after_secs as Millis * 1000)
            }
            KeypadRefusal::Disabled => None,
        })
    }

    /// Whether free space in the data directory is under the floor. An
    /// unreadable file system counts as low: deposits are what can wait.
    pub(super) fn storage_low(&self) -> bool {
        match rustix::fs::statvfs(&self.data_dir) {
            Ok(st) => st.f_bavail.saturating_mul(st.f_frsize) < self.policy.min_free_bytes,
            Err(_) => true,
        }
    }

    /// Whether the compartment's item sensor last reported something inside.
    fn sensor_says_full(&self, label: &str) -> bool {
        let Some(status) = &self.last_status else {
            return false;
        };
        self.address_of(label)
            .and_then(|addr| status.get(addr))
            .and_then(|s| s.item_present)
            .unwrap_or(false)
    }
}
