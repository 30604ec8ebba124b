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

static ZH: LanguageIdentifier = langid!("zh-CN");
static EN: LanguageIdentifier = langid!("en");

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
    // With the one argument the pages pass, so that messages using it format too.
    let args: HashMap<&str, FluentValue<'_>> = HashMap::from([("value", FluentValue::from("1"))]);
    LOCALES
        .lookup_no_default_fallback(language(en), key, Some(&args))
        .is_some()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    //! Every key the pages use exists in both languages, both files hold the same keys, and
    //! the page templates hold no untranslated Chinese of their own.

    use std::collections::BTreeSet;
    use std::path::Path;

    use super::has;

    /// Every file ending in `.ext` under `dir` (relative to the crate), in subfolders too.
    fn files(dir: &str, ext: &str) -> Vec<(String, String)> {
        fn walk(dir: &Path, ext: &str, out: &mut Vec<(String, String)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, ext, out);
                } else if path.extension().is_some_and(|e| e == ext) {
                    out.push((
                        path.display().to_string(),
                        std::fs::read_to_string(&path).unwrap(),
                    ));
                }
            }
        }
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut out = Vec::new();
        walk(&dir, ext, &mut out);
        assert!(!out.is_empty(), "no .{ext} files in {}", dir.display());
        out
    }

    /// The string literals of `text` that look like message keys: lowercase words joined by
    /// hyphens (`task-questions`, `life-event-special_groups`).
    fn literal_keys(text: &str) -> BTreeSet<String> {
        text.split('"')
            .skip(1)
            .step_by(2)
            .filter(|s| {
                s.contains('-')
                    && !s.ends_with('-')
                    && !s.starts_with('-')
                    && s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && s.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'
                    })
            })
            .map(str::to_string)
            .collect()
    }

    fn ftl_keys(text: &str) -> BTreeSet<String> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with(' '))
            .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim().to_string()))
            .collect()
    }

    #[test]
    fn every_key_exists_in_both_languages() {
        let mut keys = BTreeSet::new();
        for (_, text) in files("templates/pages", "html") {
            for marker in ["t(\"", "tv(\""] {
                for part in text.split(marker).skip(1) {
                    keys.insert(part.split('"').next().unwrap().to_string());
                }
            }
        }
        for (path, text) in files("src/pages", "rs") {
            // This file's tests name keys that must not exist.
            if !path.ends_with("i18n.rs") {
                keys.extend(literal_keys(&text));
            }
        }
        // Keys built at run time, one family each.
        for e in onetrip_domain::catalog::LifeEvent::ALL {
            keys.insert(format!("life-event-{}", e.as_str()));
        }
        for s in [
            "draft",
            "submitted",
            "in_progress",
            "correction_needed",
            "concluded",
            "refused",
            "withdrawn",
        ] {
            keys.insert(format!("application-state-{s}"));
        }
        for o in ["person", "organisation"] {
            keys.insert(format!("service-object-{o}"));
        }
        assert!(keys.len() > 100, "found only {} keys", keys.len());
        let missing: Vec<String> = keys
            .iter()
            .flat_map(|k| {
                [(false, "zh-CN"), (true, "en")]
                    .into_iter()
                    .filter(|(en, _)| !has(*en, k))
                    .map(move |(_, l)| format!("{l}: {k}"))
            })
            .collect();
        assert!(missing.is_empty(), "missing translations: {missing:#?}");
    }

    #[test]
    fn both_languages_hold_the_same_keys() {
        // Each language's keys over all its files (one file per area of the site); a key
        // defined twice in one language is an error too.
        let keys_of = |lang: &str| {
            let mut keys = BTreeSet::new();
            for (path, text) in files(&format!("locales/{lang}"), "ftl") {
                for k in ftl_keys(&text) {
                    assert!(keys.insert(k.clone()), "{k} defined twice ({path})");
                }
            }
            keys
        };
        let zh = keys_of("zh-CN");
        let en = keys_of("en");
        assert!(zh.len() > 100);
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(only_zh.is_empty(), "only in zh-CN: {only_zh:?}");
        assert!(only_en.is_empty(), "only in en: {only_en:?}");
        for k in &zh {
            assert!(has(false, k) && has(true, k), "{k} does not parse");
        }
    }

    #[test]
    fn page_templates_hold_no_text_of_their_own() {
        for (path, text) in files("templates/pages", "html") {
            // The language switch names Chinese in Chinese, whatever the page's language.
            let text = text.replace("中文", "");
            let cjk: String = text
                .chars()
                .filter(|c| {
                    ('\u{3000}'..='\u{9fff}').contains(c) || ('\u{ff00}'..='\u{ffef}').contains(c)
                })
                .collect();
            assert!(cjk.is_empty(), "{path} has text of its own: {cjk}");
        }
    }

    #[test]
    fn arguments_are_filled_in_without_isolation_marks() {
        let zh = super::text_with(false, "error-status", "404");
        assert_eq!(zh, "状态码 404");
        let en = super::text_with(true, "error-status", "404");
        assert_eq!(en, "Status 404");
        assert_eq!(super::text(true, "no-such-key"), "no-such-key");
    }
}
