//! Templates: snapshots of every kind in every language, escaping, overrides.

use cubby_notify::{
    Language, Notice, NoticeKind, Overrides, Part, Rendered, default_source, render,
    validate_override,
};

use crate::support::{full, minimal};

fn show(r: &Rendered) -> String {
    format!(
        "== subject ==\n{}\n== sms ==\n{}\n== text ==\n{}== html ==\n{}",
        r.subject, r.sms, r.text, r.html
    )
}

fn snapshot_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots");
    s.set_prepend_module_to_snapshot(false);
    s
}

#[test]
fn snapshot_every_template_in_every_language() {
    snapshot_settings().bind(|| {
        for kind in NoticeKind::ALL {
            for lang in Language::ALL {
                let r = render(&full(kind, lang), &Overrides::new()).unwrap();
                insta::assert_snapshot!(format!("{kind}__{lang}__full"), show(&r));
                let r = render(&minimal(kind, lang), &Overrides::new()).unwrap();
                insta::assert_snapshot!(format!("{kind}__{lang}__minimal"), show(&r));
            }
        }
    });
}

#[test]
fn code_appears_where_expected_and_token_never_as_text() {
    for kind in NoticeKind::ALL {
        for lang in Language::ALL {
            let n = full(kind, lang);
            let r = render(&n, &Overrides::new()).unwrap();
            for (part, body) in [
                ("subject", &r.subject),
                ("text", &r.text),
                ("html", &r.html),
                ("sms", &r.sms),
            ] {
                assert!(
                    !body.contains("qr-7f3a9c"),
                    "{kind}/{lang}/{part} leaks the QR token"
                );
                assert!(
                    !body.contains("{{") && !body.contains("{%"),
                    "{kind}/{lang}/{part}"
                );
            }
            assert!(
                !r.subject.contains("48213907"),
                "{kind}/{lang}: code in subject"
            );
            if n.code.is_some() {
                assert!(r.text.contains("48213907"), "{kind}/{lang} text");
                assert!(r.html.contains("48213907"), "{kind}/{lang} html");
                assert!(r.sms.contains("48213907"), "{kind}/{lang} sms");
            }
            if n.qr_token.is_some() {
                assert!(
                    r.html.contains("src=\"cid:cubby-pickup-qr\""),
                    "{kind}/{lang}"
                );
            } else {
                assert!(!r.html.contains("cid:"), "{kind}/{lang}");
            }
            assert!(!r.subject.contains('\n') && !r.sms.contains('\n'));
        }
    }
}

#[test]
fn languages_differ_and_fall_back_to_english() {
    let subject = |tag: &str| {
        let n = full(NoticeKind::ParcelReady, Language::parse(tag));
        render(&n, &Overrides::new()).unwrap().subject
    };
    assert_eq!(subject("en"), "Your parcels are ready at Lobby Locker A");
    assert_eq!(subject("es"), "Sus paquetes están listos en Lobby Locker A");
    assert_eq!(subject("pl"), "Twoje paczki czekają w Lobby Locker A");
    assert_eq!(subject("de"), "Ihre Pakete liegen in Lobby Locker A bereit");
    assert_eq!(subject("fr"), subject("en"));
}

#[test]
fn polish_plural_forms_in_text() {
    let mut n = minimal(NoticeKind::ParcelReady, Language::Pl);
    let text = |n: &Notice| render(n, &Overrides::new()).unwrap().text;
    assert!(text(&n).contains("Masz 1 paczkę do odbioru"));
    n.parcel_count = 3;
    assert!(text(&n).contains("Masz 3 paczki do odbioru"));
    n.parcel_count = 5;
    assert!(text(&n).contains("Masz 5 paczek do odbioru"));
    n.parcel_count = 22;
    assert!(text(&n).contains("Masz 22 paczki do odbioru"));
}

#[test]
fn html_escapes_resident_name_and_text_does_not() {
    let mut n = full(NoticeKind::ParcelReady, Language::En);
    n.recipient_name = "<script>alert('x')</script> & Co".into();
    n.site_name = "\"Tower\" <b>".into();
    let r = render(&n, &Overrides::new()).unwrap();
    assert!(!r.html.contains("<script>"), "{}", r.html);
    assert!(!r.html.contains("<b>"), "{}", r.html);
    assert!(r.html.contains("&lt;script&gt;"), "{}", r.html);
    assert!(r.html.contains("&amp; Co"), "{}", r.html);
    assert!(r.html.contains("&quot;Tower&quot;"), "{}", r.html);
    // Plain text is not HTML: no entities there.
    assert!(
        r.text.contains("Hello <script>alert('x')</script> & Co,"),
        "{}",
        r.text
    );
    assert!(r.sms.starts_with("\"Tower\" <b>:"), "{}", r.sms);
}

#[test]
fn html_overrides_are_escaped_too() {
    let mut o = Overrides::new();
    o.insert(
        NoticeKind::Reminder,
        Language::De,
        Part::Html,
        "<p>Hallo {{ recipient_name }}</p>",
    )
    .unwrap();
    let mut n = full(NoticeKind::Reminder, Language::De);
    n.recipient_name = "<script>x</script>".into();
    let r = render(&n, &o).unwrap();
    assert_eq!(r.html, "<p>Hallo &lt;script&gt;x&lt;&#x2f;script&gt;</p>");
}

#[test]
fn override_replaces_only_its_part() {
    let mut o = Overrides::new();
    o.insert(
        NoticeKind::ParcelReady,
        Language::Es,
        Part::Subject,
        "¡{{ recipient_name }}, tu paquete te espera en {{ site_name }}!",
    )
    .unwrap();
    let n = full(NoticeKind::ParcelReady, Language::Es);
    let r = render(&n, &o).unwrap();
    assert_eq!(
        r.subject,
        "¡Maria Nowak, tu paquete te espera en Riverside Court!"
    );
    let plain = render(&n, &Overrides::new()).unwrap();
    assert_eq!(r.text, plain.text);
    assert_eq!(r.html, plain.html);
    // Other languages and kinds are untouched.
    let en = render(&full(NoticeKind::ParcelReady, Language::En), &o).unwrap();
    assert_eq!(en.subject, "Your parcels are ready at Lobby Locker A");
    assert_eq!(o.len(), 1);
    assert!(
        o.get(NoticeKind::ParcelReady, Language::Es, Part::Subject)
            .is_some()
    );
}

#[test]
fn bad_override_is_rejected_naming_kind_language_part() {
    let mut o = Overrides::new();
    // Syntax error.
    let err = o
        .insert(
            NoticeKind::CodeReissued,
            Language::Pl,
            Part::Html,
            "<p>{% if code %}{{ code }}</p>",
        )
        .unwrap_err();
    assert_eq!(
        (err.kind, err.language, err.part),
        (NoticeKind::CodeReissued, Language::Pl, Part::Html)
    );
    assert!(
        err.to_string()
            .starts_with("template code_reissued/pl/html (override): "),
        "{err}"
    );
    // Unknown variable (a typo, or a field the notice does not have).
    let err = validate_override(
        NoticeKind::ParcelReady,
        Language::En,
        Part::Text,
        "{{ merchant }}",
    )
    .unwrap_err();
    assert!(err.to_string().contains("parcel_ready/en/text"), "{err}");
    // Unknown filter.
    assert!(
        validate_override(
            NoticeKind::Expired,
            Language::De,
            Part::Sms,
            "{{ site_name|shout }}"
        )
        .is_err()
    );
    // Runaway loops run out of fuel.
    let err = validate_override(
        NoticeKind::Reminder,
        Language::Es,
        Part::Text,
        "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
    )
    .unwrap_err();
    assert_eq!(err.part, Part::Text);
    // Empty and oversized templates.
    assert!(validate_override(NoticeKind::Reminder, Language::En, Part::Subject, "  ").is_err());
    let huge = "x".repeat(cubby_notify::render::MAX_OVERRIDE_LEN + 1);
    assert!(validate_override(NoticeKind::Reminder, Language::En, Part::Subject, &huge).is_err());
    assert!(o.is_empty());
    // The built-in templates themselves pass.
    for part in Part::ALL {
        validate_override(
            NoticeKind::Escalation,
            Language::De,
            part,
            default_source(NoticeKind::Escalation, Language::De, part),
        )
        .unwrap();
    }
}

#[test]
fn unchecked_bad_override_fails_render_with_its_name() {
    let mut o = Overrides::new();
    o.insert_unchecked(NoticeKind::Expired, Language::De, Part::Sms, "{{ nope( }}");
    let err = render(&full(NoticeKind::Expired, Language::De), &o).unwrap_err();
    assert_eq!(
        (err.kind, err.language, err.part, err.origin),
        (NoticeKind::Expired, Language::De, Part::Sms, "override")
    );
    // Other languages still render.
    render(&full(NoticeKind::Expired, Language::En), &o).unwrap();
}

#[test]
fn merchant_and_description_in_an_outbox_row_never_reach_the_message() {
    let row = r#"{"kind":"parcel_ready","language":"en","recipient_name":"Sam",
        "site_name":"Oak House","locker_name":"Bank 2","code":"55512345",
        "merchant":"MegaShop","item_description":"Diamond ring","parcel_count":1}"#;
    let n = Notice::from_json(row).unwrap();
    let stored = n.to_json().unwrap();
    assert!(!stored.contains("MegaShop") && !stored.contains("Diamond"));
    let r = render(&n, &Overrides::new()).unwrap();
    for body in [&r.subject, &r.text, &r.html, &r.sms] {
        assert!(
            !body.contains("MegaShop") && !body.contains("Diamond"),
            "{body}"
        );
    }
    assert!(r.sms.contains("55512345"));
}

#[test]
fn debug_output_hides_secrets() {
    let n = full(NoticeKind::ParcelReady, Language::En);
    let r = render(&n, &Overrides::new()).unwrap();
    for dbg in [format!("{n:?}"), format!("{r:?}")] {
        assert!(
            !dbg.contains("48213907") && !dbg.contains("qr-7f3a9c"),
            "{dbg}"
        );
    }
}
