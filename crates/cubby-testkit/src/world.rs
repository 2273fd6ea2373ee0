//! A seeded site for API tests, over HTTP: the same world whether the server
//! runs as its own process or in the test's.

use serde_json::{Value, json};

use crate::softkey::{SoftPasskey, StaffBrowser};
use crate::{ADMIN_TOKEN, Client};

/// A seeded site: one locker with small (A), medium (B) and one chilled compartment,
/// three residents, a parcel room.
pub struct World {
    /// The test admin with a fresh step-up proof (changing security
    /// settings needs one, as opening doors does).
    pub admin: Client,
    pub site_id: String,
    pub locker_id: String,
    pub residents: Vec<String>,
    /// The admin's passkey, enrolled from the first-start invitation, and the
    /// browser that proves it.
    pub browser: StaffBrowser,
    pub admin_key: tokio::sync::Mutex<SoftPasskey>,
}

/// Enrols the first admin's passkey from the first-start invitation and
/// proves it: the browser, the passkey and a step-up proof.
pub async fn admin_with_passkey(base: &str, invite: &str) -> (StaffBrowser, SoftPasskey, String) {
    let browser = StaffBrowser::new(base);
    let mut key = browser
        .enrol(invite)
        .await
        .unwrap_or_else(|e| panic!("the first admin enrols a passkey: {e:?}"));
    let proof = browser
        .step_up(ADMIN_TOKEN, &mut key)
        .await
        .unwrap_or_else(|e| panic!("the first admin steps up: {e:?}"));
    (browser, key, proof)
}

/// Seeds a site on the server at `base` as the test admin, who first enrols
/// a passkey from the server's first-start `invite`.
pub async fn seed(base: &str, invite: &str, compartments: Value) -> World {
    let (browser, key, proof) = admin_with_passkey(base, invite).await;
    let admin = Client::new(base, ADMIN_TOKEN).with_step_up(&proof);
    let site = admin
        .created(
            "/api/v1/sites",
            json!({"name": "Test Court", "timezone": "Europe/Warsaw"}),
        )
        .await;
    let site_id = site["id"].as_str().unwrap().to_string();
    let mut residents = Vec::new();
    for (name, unit, email) in [
        ("Anna Kowalska", "A-1", "anna@example.org"),
        ("Jan Nowak", "A-2", "jan@example.org"),
        ("Eva Müller", "B-7", "eva@example.org"),
    ] {
        let r = admin
            .created(
                &format!("/api/v1/sites/{site_id}/residents"),
                json!({"name": name, "unit": unit, "email": email}),
            )
            .await;
        residents.push(r["id"].as_str().unwrap().to_string());
    }
    let locker = admin
        .created(
            &format!("/api/v1/sites/{site_id}/lockers"),
            json!({"name": "Lobby", "compartments": compartments}),
        )
        .await;
    // The carriers the tests deposit as may deposit here (pre-advised
    // parcels only: the site's default policy).
    for carrier in ["dhl", "ups"] {
        let (status, body) = admin
            .put(
                &format!("/api/v1/sites/{site_id}/carriers/{carrier}"),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "enabling {carrier}: {body}");
    }
    admin
        .created(
            &format!("/api/v1/sites/{site_id}/parcel-rooms"),
            json!({"name": "Parcel room", "zones": [{"label": "A", "capacity": 30}]}),
        )
        .await;
    World {
        admin,
        site_id,
        locker_id: locker["id"].as_str().unwrap().to_string(),
        residents,
        browser,
        admin_key: tokio::sync::Mutex::new(key),
    }
}

impl World {
    /// A fresh step-up proof of the admin's passkey.
    pub async fn admin_proof(&self) -> String {
        let mut key = self.admin_key.lock().await;
        self.browser
            .step_up(ADMIN_TOKEN, &mut key)
            .await
            .unwrap_or_else(|e| panic!("the admin steps up: {e:?}"))
    }

    /// The admin on `base` (a restarted server's new address) with the
    /// seed's step-up proof: a proof is bound to the token and the server's
    /// secret, not to the address, and lasts five minutes.
    pub fn admin_at(&self, base: &str) -> Client {
        let proof = self.admin.step_up.clone().unwrap_or_default();
        Client::new(base, ADMIN_TOKEN).with_step_up(&proof)
    }

    /// The id of the seeded locker's compartment `label`.
    pub async fn compartment_id(&self, label: &str) -> String {
        let (_, locker) = self
            .admin
            .get(&format!("/api/v1/lockers/{}", self.locker_id))
            .await;
        locker["compartments"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["label"] == label))
            .and_then(|c| c["id"].as_str())
            .unwrap_or_else(|| panic!("no compartment {label} in {locker}"))
            .to_string()
    }

    /// Takes compartment `label` of the seeded locker out of service (or
    /// back, with `"available"`): the answer's status and body.
    pub async fn set_compartment_status(
        &self,
        label: &str,
        status: &str,
        reason: &str,
    ) -> (u16, Value) {
        let id = self.compartment_id(label).await;
        self.admin
            .post(
                &format!(
                    "/api/v1/lockers/{}/compartments/{id}/status",
                    self.locker_id
                ),
                json!({"status": status, "reason": reason}),
            )
            .await
    }

    /// Registers `carrier` with the site's organisation and opens one
    /// courier account for it: `{courier_id, carrier, name, token}`.
    pub async fn courier_account(&self, carrier: &str) -> Value {
        let (_, site) = self
            .admin
            .get(&format!("/api/v1/sites/{}", self.site_id))
            .await;
        let c = self
            .admin
            .created(
                "/api/v1/carriers",
                json!({"code": carrier, "name": carrier.to_uppercase(), "organisation_id": site["organisation_id"]}),
            )
            .await;
        self.admin
            .created(
                &format!("/api/v1/carriers/{}/couriers", c["id"].as_str().unwrap()),
                json!({"name": "Marek"}),
            )
            .await
    }

    /// Pre-advises a parcel for `carrier` (no resident named): what a
    /// carrier's deposit needs under the default site policy.
    pub async fn pre_advise(&self, tracking: &str, carrier: &str) -> String {
        let a = self
            .admin
            .created(
                &format!("/api/v1/sites/{}/announcements", self.site_id),
                json!({"tracking_number": tracking, "carrier": carrier,
                       "width_mm": 300, "height_mm": 60, "depth_mm": 200}),
            )
            .await;
        a["parcel_id"].as_str().unwrap().to_string()
    }
}

pub fn small_bank() -> Value {
    json!([
        {"label": "A01", "width_mm": 380, "height_mm": 80, "depth_mm": 640},
        {"label": "A02", "width_mm": 380, "height_mm": 80, "depth_mm": 640},
        {"label": "B01", "width_mm": 380, "height_mm": 190, "depth_mm": 640},
        {"label": "C01", "width_mm": 380, "height_mm": 410, "depth_mm": 640},
        {"label": "K01", "width_mm": 380, "height_mm": 190, "depth_mm": 640, "temperature": "chilled"}
    ])
}

pub fn parcel(tracking: &str, resident: &str, h: u32) -> Value {
    json!({"tracking_number": tracking, "carrier": "dhl", "recipient": {"resident_id": resident}, "width_mm": 300, "height_mm": h, "depth_mm": 200})
}
