//! Rendering notices with minijinja: built-in templates plus operator overrides.

use std::collections::BTreeMap;
use std::fmt;

use minijinja::value::Rest;
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior, Value, context};
use serde::{Deserialize, Serialize};

use crate::defaults::defaults;
use crate::model::{Language, Notice, NoticeKind};

/// The `Content-ID` of the inline QR image; templates see it as
/// `qr_src = "cid:cubby-pickup-qr"`.
pub const QR_CONTENT_ID: &str = "cubby-pickup-qr";

/// Longest override source accepted, in bytes.
pub const MAX_OVERRIDE_LEN: usize = 32 * 1024;

/// Template fuel: bounds the work one render may do, so an operator template
/// cannot loop for ever.
const FUEL: u64 = 200_000;

/// One rendered part of a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// E-mail subject (one line; newlines are folded into spaces).
    Subject,
    /// Plain-text e-mail body (no escaping).
    Text,
    /// HTML e-mail body (HTML auto-escaping on).
    Html,
    /// SMS body (one line, no escaping).
    Sms,
}

impl Part {
    /// Every part.
    pub const ALL: [Part; 4] = [Part::Subject, Part::Text, Part::Html, Part::Sms];

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Subject => "subject",
            Part::Text => "text",
            Part::Html => "html",
            Part::Sms => "sms",
        }
    }

    /// Parses the stable name.
    pub fn parse(name: &str) -> Option<Part> {
        Part::ALL.into_iter().find(|p| p.as_str() == name)
    }

    fn template_name(self, kind: NoticeKind, language: Language) -> String {
        let ext = if self == Part::Html { "html" } else { "txt" };
        format!("{kind}.{language}.{}.{ext}", self.as_str())
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A template failed to compile or render. Names the template; never contains
/// the notice's code or token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template {kind}/{language}/{part} ({origin}): {detail}")]
pub struct TemplateError {
    /// Which kind.
    pub kind: NoticeKind,
    /// Which language.
    pub language: Language,
    /// Which part.
    pub part: Part,
    /// `"override"` or `"built-in"`.
    pub origin: &'static str,
    /// What went wrong (from the template engine).
    pub detail: String,
}

/// A rendered notice. `Debug` shows sizes only: the bodies hold the code.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendered {
    /// E-mail subject, one line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body; references the QR as `cid:` [`QR_CONTENT_ID`] when the notice has a token.
    pub html: String,
    /// SMS body, one line.
    pub sms: String,
}

impl fmt::Debug for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rendered")
            .field("subject_len", &self.subject.len())
            .field("text_len", &self.text.len())
            .field("html_len", &self.html.len())
            .field("sms_len", &self.sms.len())
            .finish()
    }
}

/// Site-specific template sources that replace built-in ones, keyed by
/// (kind, language, part). Anything not overridden uses the built-in template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    map: BTreeMap<(NoticeKind, Language, Part), String>,
}

impl Overrides {
    /// No overrides.
    pub fn new() -> Overrides {
        Overrides::default()
    }

    /// Validates `source` (see [`validate_override`]) and stores it, returning
    /// the previous override if any.
    pub fn insert(
        &mut self,
        kind: NoticeKind,
        language: Language,
        part: Part,
        source: impl Into<String>,
    ) -> Result<Option<String>, TemplateError> {
        let source = source.into();
        validate_override(kind, language, part, &source)?;
        Ok(self.map.insert((kind, language, part), source))
    }

    /// Stores `source` without validating it, for rows that were validated
    /// when an operator saved them. A bad one still makes [`render`] fail with
    /// an error naming it.
    pub fn insert_unchecked(
        &mut self,
        kind: NoticeKind,
        language: Language,
        part: Part,
        source: impl Into<String>,
    ) -> Option<String> {
        self.map.insert((kind, language, part), source.into())
    }

    /// Drops an override, returning it.
    pub fn remove(&mut self, kind: NoticeKind, language: Language, part: Part) -> Option<String> {
        self.map.remove(&(kind, language, part))
    }

    /// The override for (kind, language, part), if any.
    pub fn get(&self, kind: NoticeKind, language: Language, part: Part) -> Option<&str> {
        self.map.get(&(kind, language, part)).map(String::as_str)
    }

    /// Every override, in key order.
    pub fn iter(&self) -> impl Iterator<Item = ((NoticeKind, Language, Part), &str)> {
        self.map.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// Number of overrides.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when nothing is overridden.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// The built-in template source for (kind, language, part): what an operator
/// starts from when writing an override.
pub fn default_source(kind: NoticeKind, language: Language, part: Part) -> &'static str {
    let d = defaults(kind, language);
    match part {
        Part::Subject => d.subject,
        Part::Text => d.text,
        Part::Html => d.html,
        Part::Sms => d.sms,
    }
}

/// Checks an operator's template before it is stored: it must be at most
/// [`MAX_OVERRIDE_LEN`] bytes, compile, and render against two sample notices
/// of `kind` (one with every optional field set, one with none). Unknown
/// variables are errors, so a typo is caught here rather than at send time.
pub fn validate_override(
    kind: NoticeKind,
    language: Language,
    part: Part,
    source: &str,
) -> Result<(), TemplateError> {
    let err = |detail: String| TemplateError {
        kind,
        language,
        part,
        origin: "override",
        detail,
    };
    if source.len() > MAX_OVERRIDE_LEN {
        return Err(err(format!(
            "template is {} bytes, more than the limit of {MAX_OVERRIDE_LEN}",
            source.len()
        )));
    }
    if source.trim().is_empty() {
        return Err(err("template is empty".to_owned()));
    }
    for sample in [sample_full(kind, language), sample_minimal(kind, language)] {
        render_part(&sample, part, source, "override")?;
    }
    Ok(())
}

/// Renders every part of `notice`, taking each template from `overrides` when
/// present and from the built-in set otherwise.
pub fn render(notice: &Notice, overrides: &Overrides) -> Result<Rendered, TemplateError> {
    let one = |part: Part| {
        let (source, origin) = match overrides.get(notice.kind, notice.language, part) {
            Some(s) => (s, "override"),
            None => (
                default_source(notice.kind, notice.language, part),
                "built-in",
            ),
        };
        render_part(notice, part, source, origin)
    };
    Ok(Rendered {
        subject: one(Part::Subject)?,
        text: one(Part::Text)?,
        html: one(Part::Html)?,
        sms: one(Part::Sms)?,
    })
}

fn render_part(
    notice: &Notice,
    part: Part,
    source: &str,
    origin: &'static str,
) -> Result<String, TemplateError> {
    let err = |e: minijinja::Error| TemplateError {
        kind: notice.kind,
        language: notice.language,
        part,
        origin,
        detail: e.to_string(),
    };
    let name = part.template_name(notice.kind, notice.language);
    let env = environment(notice.language);
    let template = env.template_from_named_str(&name, source).map_err(err)?;
    let out = template.render(context_for(notice)).map_err(err)?;
    Ok(match part {
        Part::Subject | Part::Sms => one_line(&out),
        Part::Text | Part::Html => out,
    })
}

fn environment<'s>(language: Language) -> Environment<'s> {
    let mut env = Environment::new();
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build();
    if let Ok(syntax) = syntax {
        env.set_syntax(syntax);
    }
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_fuel(Some(FUEL));
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.add_function(
        "plural",
        move |n: i64, forms: Rest<String>| -> Result<String, minijinja::Error> {
            plural(language, n, &forms)
                .map(str::to_owned)
                .ok_or_else(|| {
                    minijinja::Error::new(
                        ErrorKind::MissingArgument,
                        "plural(n, one, other) or plural(n, one, few, many)",
                    )
                })
        },
    );
    env
}

/// Chooses a plural form. Two forms are (one, other) in every language; three
/// are (one, few, many) with Polish rules (and one / many elsewhere).
fn plural(language: Language, n: i64, forms: &[String]) -> Option<&str> {
    let (one, few, many) = match forms {
        [one, other] => (one, other, other),
        [one, few, many] => (one, few, many),
        _ => return None,
    };
    let form = if n == 1 {
        one
    } else if language == Language::Pl
        && (2..=4).contains(&(n.rem_euclid(10)))
        && !(12..=14).contains(&(n.rem_euclid(100)))
    {
        few
    } else {
        many
    };
    Some(form.as_str())
}

/// The variables every template sees.
fn context_for(n: &Notice) -> Value {
    context! {
        kind => n.kind.as_str(),
        language => n.language.as_str(),
        recipient_name => n.recipient_name.as_str(),
        site_name => n.site_name.as_str(),
        locker_name => n.locker_name.as_str(),
        code => n.code.as_deref(),
        has_qr => n.qr_token.is_some(),
        qr_src => n.qr_token.as_ref().map(|_| format!("cid:{QR_CONTENT_ID}")),
        expires_at => n.expires_at_local.as_deref(),
        parcel_count => n.parcel_count,
        unit => n.unit.as_deref(),
        days_waiting => n.days_waiting,
        hold_until => n.hold_until_local.as_deref(),
        carrier_name => n.carrier_name.as_deref(),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn sample_full(kind: NoticeKind, language: Language) -> Notice {
    let mut n = Notice::new(kind, language, "Alex Example", "Sample Site", "Locker A");
    n.code = Some("12345678".to_owned());
    n.qr_token = Some("sample-token".to_owned());
    n.expires_at_local = Some("2026-01-31 18:00".to_owned());
    n.parcel_count = 2;
    n.unit = Some("4B".to_owned());
    n.days_waiting = Some(9);
    n.hold_until_local = Some("2026-02-14".to_owned());
    n.carrier_name = Some("Carrier".to_owned());
    n
}

fn sample_minimal(kind: NoticeKind, language: Language) -> Notice {
    Notice::new(kind, language, "Alex Example", "Sample Site", "Locker A")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forms(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn polish_plurals() {
        let f = forms(&["paczka", "paczki", "paczek"]);
        let p = |n| plural(Language::Pl, n, &f).unwrap().to_owned();
        assert_eq!(p(1), "paczka");
        assert_eq!(p(2), "paczki");
        assert_eq!(p(4), "paczki");
        assert_eq!(p(5), "paczek");
        assert_eq!(p(12), "paczek");
        assert_eq!(p(22), "paczki");
        assert_eq!(p(0), "paczek");
        assert_eq!(plural(Language::En, 3, &f), Some("paczek"));
        assert_eq!(plural(Language::En, 3, &forms(&["a"])), None);
    }

    #[test]
    fn every_builtin_template_validates() {
        for kind in NoticeKind::ALL {
            for lang in Language::ALL {
                for part in Part::ALL {
                    validate_override(kind, lang, part, default_source(kind, lang, part)).unwrap();
                }
            }
        }
    }

    #[test]
    fn one_line_folds_whitespace() {
        assert_eq!(one_line(" a\r\n b\tc \n"), "a b c");
    }
}
