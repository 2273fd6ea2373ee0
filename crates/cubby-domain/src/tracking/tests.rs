//! Each valid vector names where it was published; each is paired with a
//! one-character typo that must be refused.

use super::*;

fn format_for(input: &str, carrier: &str) -> Result<TrackingFormat, Invalid> {
    TrackingNumber::parse_for(input, Some(carrier)).map(|t| t.format())
}

fn message_for(input: &str, carrier: &str) -> String {
    match TrackingNumber::parse_for(input, Some(carrier)) {
        Ok(t) => format!("accepted as {:?}", t.format()),
        Err(e) => e.message,
    }
}

/// Asserts `good` is accepted for `carrier` as `format` and `typo` is refused
/// with the carrier's check-digit message.
fn vector(carrier: &str, name: &str, good: &str, typo: &str, format: TrackingFormat) {
    assert_eq!(
        format_for(good, carrier),
        Ok(format),
        "{good} for {carrier}"
    );
    assert_eq!(
        message_for(typo, carrier),
        format!("check digit does not match ({name})"),
        "{typo} for {carrier}"
    );
}

#[test]
fn facts_examples_validate() {
    assert_eq!(
        TrackingNumber::parse("RB123456785GB").map(|t| t.format()),
        Ok(TrackingFormat::UpuS10)
    );
    assert_eq!(
        TrackingNumber::parse("1Z5R89390357567127").map(|t| t.format()),
        Ok(TrackingFormat::Ups1Z)
    );
    assert_eq!(
        TrackingNumber::parse("rb 1234 5678 5gb").map(|t| t.as_str().to_owned()),
        Ok("RB123456785GB".into())
    );
}

#[test]
fn typos_are_caught() {
    assert!(TrackingNumber::parse("RB123456786GB").is_err());
    assert!(TrackingNumber::parse("1Z5R89390357567128").is_err());
    assert!(TrackingNumber::parse("ABC").is_err());
    assert!(TrackingNumber::parse("AB-123456").is_err());
    assert!(TrackingNumber::parse("JD0002249876543210").is_ok());
}

#[test]
fn parse_without_carrier_accepts_ambiguous_digits() {
    // A wrong FedEx Express check digit is still a plausible number of another
    // carrier's, so without the carrier it is kept.
    for input in ["012345678993", "00340433836442636697", "3318810125"] {
        assert_eq!(
            TrackingNumber::parse(input).map(|t| t.format()),
            Ok(TrackingFormat::Other),
            "{input}"
        );
    }
}

#[test]
fn unknown_or_absent_carrier_behaves_like_parse() {
    assert_eq!(
        format_for("012345678993", "hermes"),
        Ok(TrackingFormat::Other)
    );
    assert_eq!(
        message_for("RB123456786GB", "hermes"),
        "check digit does not match (UPU S10)"
    );
    assert_eq!(
        TrackingNumber::parse_for("1Z5R89390357567127", None).map(|t| t.format()),
        Ok(TrackingFormat::Ups1Z)
    );
}

#[test]
fn upu_s10_and_ups() {
    // UPU S10 standard, Annex A example.
    vector("usps", "USPS", "EE876543216CA", "EE876543226CA", F::UpuS10);
    vector(
        "royal_mail",
        "Royal Mail",
        "RB123456785GB",
        "RB123456786GB",
        F::UpuS10,
    );
    vector(
        "ups",
        "UPS",
        "1Z5R89390357567127",
        "1Z5R89390357567128",
        F::Ups1Z,
    );
    // A shape the carrier has no checked format for is still checked as
    // far as its own shape allows (here a valid S10 for a UPS parcel).
    assert_eq!(format_for("RB123456785GB", "ups"), Ok(F::UpuS10));
    assert!(format_for("RB123456786GB", "ups").is_err());
}

#[test]
fn dhl_express_waybill() {
    // Open tracking-number data set jkeen/tracking_number_data,
    // couriers/dhl.json ("DHL Express", mod 7); rule also on
    // https://www.paketda.de/firmenkunden/paket-pruefziffern.html.
    vector(
        "dhl_express",
        "DHL Express",
        "3318810025",
        "3318810125",
        F::DhlExpress,
    );
    vector("dhl", "DHL", "3318810025", "3318810125", F::DhlExpress);
}

#[test]
fn dhl_paket_identcode_and_nve() {
    // https://www.paketda.de/firmenkunden/paket-pruefziffern.html:
    // "12-stellig, z.B. 201298452277" and "20-stellig, z.B. 00340433836442636597".
    vector(
        "dhl_paket",
        "DHL Paket",
        "201298452277",
        "201298452287",
        F::DhlPaket,
    );
    vector(
        "dhl_paket",
        "DHL Paket",
        "00340433836442636597",
        "00340433836442636697",
        F::DhlPaketNve,
    );
    // Algorithm::CheckDigits (CPAN) M10_005 documentation: "21.802 580.906 6".
    assert_eq!(format_for("21802 5809066", "dhl"), Ok(F::DhlPaket));
    // JJD piece numbers have no published check rule: accepted on shape alone.
    // Same paketda page: "16-stellig, beginnend mit JJD (z.B. JJD1410302937991)".
    assert_eq!(format_for("JJD1410302937991", "dhl_paket"), Ok(F::Other));
    assert_eq!(format_for("ABC1410302937991", "dhl_paket"), Ok(F::Other));
}

#[test]
fn fedex_express_and_ground() {
    // FedEx Web API department's worked example, quoted in
    // http://answers.google.com/answers/threadview/id/207899.html.
    vector(
        "fedex",
        "FedEx",
        "012345678983",
        "012345678993",
        F::FedExExpress,
    );
    // Neodynamic "FedEx Ground 96 Barcode" documentation example
    // 9611804027471600040302; its last 15 digits are the Ground number.
    vector(
        "fedex",
        "FedEx",
        "9611804027471600040302",
        "9611804027471600040312",
        F::FedExGround96,
    );
    vector(
        "fedex",
        "FedEx",
        "027471600040302",
        "027471600040312",
        F::FedExGround,
    );
    // Twelve digits could be several carriers': only knowing the carrier
    // catches the typo.
    assert_eq!(format_for("012345678993", "hermes"), Ok(F::Other));
    // A shape FedEx has no checked format for passes unchecked.
    assert_eq!(format_for("3318810025", "fedex"), Ok(F::Other));
}

#[test]
fn usps_impb() {
    // Example in the Dave's Quick Search Deskbar USPS search help (2006).
    vector(
        "usps",
        "USPS",
        "9101067404020161318246",
        "9101067404020161318256",
        F::UspsImpb,
    );
    // UPS Mail Innovations number in uh-opensource/node-shipping-ups issue #38.
    vector(
        "usps",
        "USPS",
        "92748901790175543400811852",
        "92748901790175543400811862",
        F::UspsImpb,
    );
    // jkeen/tracking_number_data couriers/usps.json: "420 22153 9101026837331000039521".
    vector(
        "usps",
        "USPS",
        "420221539101026837331000039521",
        "420221539101026837331000039531",
        F::UspsImpb,
    );
    // jkeen/tracking_number_data issue #5: 420 + ZIP+4 + 22-digit tracking part.
    vector(
        "usps",
        "USPS",
        "4201028212169270490119521303389129",
        "4201028212169270490119521303389139",
        F::UspsImpb,
    );
    // jkeen/tracking_number_data couriers/usps.json "USPS 20" (Pub 91 layout:
    // service code, 9-digit mailer, 8-digit serial, mod 10).
    vector(
        "usps",
        "USPS",
        "0307 1790 0005 2348 3741",
        "03071790000523483751",
        F::UspsImpb,
    );
}

#[test]
fn dpd_parcel_number_and_label_code() {
    // https://www.paketda.de/firmenkunden/paket-pruefziffern.html: "01015026003653c".
    vector(
        "dpd",
        "DPD",
        "01015026003653c",
        "01015026003663C",
        F::DpdParcel,
    );
    // Business::DPD (CPAN) t/Label/calc_tracking_number.t: "01905002345615Y".
    assert_eq!(format_for("01905002345615Y", "dpd"), Ok(F::DpdParcel));
    // Without its check character the 14 digits are accepted unchecked.
    assert_eq!(format_for("01015026003653", "dpd"), Ok(F::DpdParcel));
    // DPD Parcel Label Specification, section 4 example (as quoted in the zint
    // barcode library's tests): "0081 827 0998 0000 0200 28 101 276 B".
    vector(
        "dpd",
        "DPD",
        "0081 827 0998 0000 0200 28 101 276 B",
        "008182709980000020028101277B",
        F::DpdBarcode,
    );
}

#[test]
fn gls_parcel_number() {
    // No published example was found; the vector is computed with the rule of
    // the GLS Uni-Box technical documentation (2D, V01.10, section 3.2.1):
    // depot 20, product 10, serial 1234567, check digit 0.
    vector("gls", "GLS", "201012345670", "201013345670", F::Gls);
    assert_eq!(format_for("20101234567", "gls"), Ok(F::Gls));
}

#[test]
fn inpost_has_no_check_digit() {
    // Example in the intrac crate documentation (InPost tracking client).
    // InPost publishes no check rule, so a typo cannot be caught; only the
    // shape is held.
    assert_eq!(
        format_for("843534321829832368922940", "inpost"),
        Ok(F::InPost)
    );
    assert_eq!(
        format_for("84353432182983236892294", "inpost"),
        Ok(F::Other)
    );
}

#[test]
fn carrier_codes_are_matched_loosely() {
    assert_eq!(format_for("012345678983", " FedEx "), Ok(F::FedExExpress));
}

#[test]
fn identity_and_serde_ignore_the_format() {
    let known = TrackingNumber::parse_for("012345678983", Some("fedex"));
    let unknown = TrackingNumber::parse("012345678983");
    assert_eq!(known, unknown);
    let Ok(known) = known else {
        panic!("valid FedEx number refused")
    };
    let json = serde_json::to_string(&known).unwrap();
    assert_eq!(json, "\"012345678983\"");
    let back: TrackingNumber = serde_json::from_str(&json).unwrap();
    assert_eq!(back, known);
    assert_eq!(back.format(), TrackingFormat::Other);
}
