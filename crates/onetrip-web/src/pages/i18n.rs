//! The words of the pages, in Fluent files under `crates/onetrip-web/locales/{zh-CN,en}/`,
//! compiled into the binary. Templates look them up by key through [`super::Page::t`]; a test
//! checks that every key a template or page module uses exists in both languages.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "zh-CN",
        // No Unicode isolation marks around arguments: the pages are plain left-to-right text.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

const ZH: LanguageIdentifier = langid!("zh-CN");
const EN: LanguageIdentifier = langid!("en");

fn language(en: bool) -> &'static LanguageIdentifier {
    if en { &EN } else { &ZH }
}

/// The text of `key`; the key itself when it is missing (the key test keeps that from
/// happening).
pub fn text(en: bool, key: &str) -> String {
    LOCALES
        .try_lookup(language(en), key)
        .unwrap_or_else(|| key.to_string())
}

/// The text of `key` with `{ $value }` replaced.
pub fn text_with(en: bool, key: &str, value: &str) -> String {
    let args: HashMap<Cow<'static, str>, FluentValue<'_>> =
        HashMap::from([(Cow::Borrowed("value"), FluentValue::from(value.to_string()))]);
    LOCALES
        .try_lookup_with_args(language(en), key, &args)
        .unwrap_or_else(|| key.to_string())
}

/// Whether `key` exists in the one language asked for, without falling back.
pub fn has(en: bool, key: &str) -> bool {
    LOCALES
        .lookup_no_default_fallback::<&str>(language(en), key, None)
        .is_some()
}
