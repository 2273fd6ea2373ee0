//! Trust findings, tried as an attacker would through the real binary.

use cubby_testkit::{Client, CubbyProcess};
use serde_json::{Value, json};

use crate::{bin, seed, small_bank};

async fn carrier_token(w: &crate::World, org: &Value, carrier: &str) -> String {
    w.admin
        .created(
            "/api/v1/tokens",
            json!({"role": "carrier", "organisation_id": org, "carrier": carrier, "label": carrier}),
        )
        .await["token"]
        .as_str()
        .unwrap()
        .to_string()
}

fn flat(tracking: &str) -> Value {
    // A name and unit copied from a label: all a thief needs to know.
    json!({"tracking_number": tracking, "recipient": {"unit": "A-1", "name": "Anna Kowalska"},
           "width_mm": 300, "height_mm": 15, "depth_mm": 200})
}

/// A UPS courier depositing for a resident whose DHL parcel fills a
/// compartment is given an empty door, never the DHL one; so is staff. The
/// DHL courier may add its own second parcel to the door it opened.
#[tokio::test]
async fn a_courier_never_opens_a_compartment_holding_another_delivery() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    let org = site["organisation_id"].clone();
    let dhl = Client::new(&p.base, &carrier_token(&w, &org, "dhl").await);
    let ups = Client::new(&p.base, &carrier_token(&w, &org, "ups").await);
    let deposits = format!("/api/v1/lockers/{}/deposits", w.locker_id);
    let first = dhl.created(&deposits, flat("DHLFIRST01")).await;
    let door = first["compartment"]["id"].clone();
    let by_ups = ups.created(&deposits, flat("UPSSECOND1")).await;
    assert_ne!(
        by_ups["compartment"]["id"], door,
        "UPS was shown DHL's parcel: {by_ups}"
    );
    assert_eq!(by_ups["consolidated"], false);
    let by_staff = w.admin.created(&deposits, flat("STAFFTHIRD")).await;
    assert_ne!(by_staff["compartment"]["id"], door, "{by_staff}");
    assert_ne!(by_staff["compartment"]["id"], by_ups["compartment"]["id"]);
    // Its own door, in the same visit: the DHL courier may stack a second parcel.
    let again = dhl.created(&deposits, flat("DHLSECOND2")).await;
    assert_eq!(again["compartment"]["id"], door, "{again}");
    assert_eq!(again["consolidated"], true);
}
