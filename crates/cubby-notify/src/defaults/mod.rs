//! Built-in templates: every kind in every language, four parts each.
//!
//! Rendered with `trim_blocks` and `lstrip_blocks` on (see the crate docs for
//! the variables and the `plural` function). Edit these by hand; the snapshot
//! tests under `tests/snapshots/` show every one of them rendered.

mod de;
mod en;
mod es;
mod pl;

use crate::model::{Language, NoticeKind};
use de::DE;
use en::EN;
use es::ES;
use pl::PL;

/// The four sources for one kind in one language.
pub(crate) struct Defaults {
    pub subject: &'static str,
    pub text: &'static str,
    pub html: &'static str,
    pub sms: &'static str,
}

/// The built-in sources for `kind` in `language`.
pub(crate) fn defaults(kind: NoticeKind, language: Language) -> &'static Defaults {
    let table = match language {
        Language::En => &EN,
        Language::Es => &ES,
        Language::Pl => &PL,
        Language::De => &DE,
    };
    &table[kind as usize]
}
