//! Cross-province trust (一地认证，全网通办): which assurance level a sign-in through a partner
//! platform gets here.
//!
//! A partner platform (another province's unified identity platform, often another onetrip)
//! is an OpenID Connect provider. Its ID token asserts a level in `acr`; the operator
//! configures a [`LevelMapping`] from the partner's `acr` values to onetrip's
//! [`AssuranceLevel`]s.
//!
//! Decisions:
//! - **Never above the assertion:** when the partner's `acr` is one of onetrip's own
//!   (`urn:onetrip:loa:N`), the mapped level is capped at `N` whatever the configuration says,
//!   so a mistaken mapping (`urn:onetrip:loa:2 → L3`) cannot raise anyone above what the
//!   partner vouched for. A foreign `acr` (another platform's vocabulary) has no meaning here
//!   beyond the mapping, which is then the only bound.
//! - **Unknown means refuse:** an `acr` the mapping does not name maps to nothing
//!   ([`mapped_level`] returns `None`) and the sign-in is refused; there is no default level.
//! - **Exact match:** `acr` values are compared byte for byte after trimming ASCII whitespace
//!   (as [`AssuranceLevel::from_acr`] does); no case folding, no prefix matching.
//! - **Linking by resident ID number** to an existing account needs a mapped level of at least
//!   [`LINK_MIN_LEVEL`] (L2, [`may_link`]): below it the partner has not checked the number
//!   against a population registry, so it is only what someone typed there.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::AssuranceLevel;
use crate::Localized;

/// The operator's mapping from a partner's `acr` values to onetrip's levels.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LevelMapping(BTreeMap<String, AssuranceLevel>);

impl LevelMapping {
    /// A mapping from `(acr, level)` pairs; keys are trimmed of ASCII whitespace. A later pair
    /// for the same `acr` replaces an earlier one.
    pub fn new(pairs: impl IntoIterator<Item = (String, AssuranceLevel)>) -> LevelMapping {
        LevelMapping(
            pairs
                .into_iter()
                .map(|(acr, level)| (acr.trim_ascii().to_owned(), level))
                .collect(),
        )
    }

    /// The level configured for `acr` (exact match after trimming), without any cap.
    pub fn configured(&self, acr: &str) -> Option<AssuranceLevel> {
        self.0.get(acr.trim_ascii()).copied()
    }

    /// Whether the mapping names no `acr` at all (every sign-in would be refused).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `(acr, level)` pairs, in `acr` order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, AssuranceLevel)> + '_ {
        self.0.iter().map(|(acr, level)| (acr.as_str(), *level))
    }
}

impl From<BTreeMap<String, AssuranceLevel>> for LevelMapping {
    fn from(map: BTreeMap<String, AssuranceLevel>) -> Self {
        LevelMapping::new(map)
    }
}

/// The level a sign-in asserted by a partner as `asserted_acr` gets here, or `None` when the
/// mapping does not name that `acr` (the sign-in must be refused).
///
/// The result never exceeds the configured level, and never exceeds the asserted level when
/// the partner speaks onetrip's vocabulary (`urn:onetrip:loa:N`).
pub fn mapped_level(mapping: &LevelMapping, asserted_acr: &str) -> Option<AssuranceLevel> {
    let configured = mapping.configured(asserted_acr)?;
    Some(match AssuranceLevel::from_acr(asserted_acr) {
        Ok(asserted) => configured.min(asserted),
        Err(_) => configured,
    })
}

/// Why a sign-in through a partner platform is refused. The messages say what to do; the
/// details of a protocol failure are only logged (masked), never shown.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PartnerRefusal {
    /// No partner of that name is configured.
    #[error("unknown partner platform")]
    UnknownPartner,
    /// The partner asserted an `acr` the mapping does not name (or none at all).
    #[error("partner assurance level not mapped")]
    LevelUnmapped,
    /// Anything else: the state did not match, the partner refused the code, the ID token did
    /// not verify, a required claim was missing, the partner was unreachable…
    #[error("partner sign-in failed")]
    SignInFailed,
    /// No account here has the partner's resident ID number, and the phone number the partner
    /// vouched for belongs to another account here, so none can be created.
    #[error("phone number already used by another account")]
    PhoneTaken,
    /// An account here already has the resident ID number, but the partner asserted less than
    /// [`LINK_MIN_LEVEL`]: below it the partner has not checked the ID number against a
    /// population registry, so linking would hand the account to whoever typed the number.
    #[error("linking needs a verified identity")]
    LinkNeedsVerifiedIdentity,
}

/// The lowest (mapped) level at which a partner sign-in may be linked to an existing account
/// by resident ID number: L2, the level at which the name and ID number were checked against
/// a population registry. Below it, the ID number is only what the person typed.
pub const LINK_MIN_LEVEL: AssuranceLevel = AssuranceLevel::L2;

/// Whether a partner sign-in at `level` may be linked to an existing account with the same
/// resident ID number (see [`LINK_MIN_LEVEL`]).
pub fn may_link(level: AssuranceLevel) -> bool {
    level >= LINK_MIN_LEVEL
}

impl Localized for PartnerRefusal {
    fn code(&self) -> &'static str {
        match self {
            Self::UnknownPartner => "partner_unknown",
            Self::LevelUnmapped => "partner_level_unmapped",
            Self::SignInFailed => "partner_sign_in_failed",
            Self::PhoneTaken => "partner_phone_taken",
            Self::LinkNeedsVerifiedIdentity => "partner_link_needs_l2",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::UnknownPartner => {
                "本平台未与该地区的政务服务平台建立互认：请使用本平台账号登录".to_owned()
            }
            Self::LevelUnmapped => "该平台提供的认证等级不被本平台认可：请使用本平台账号登录，\
                                    或在该平台提高认证等级后重试"
                .to_owned(),
            Self::SignInFailed => "通过其他地区平台登录未成功：请重新登录；如仍不成功，\
                                   请使用本平台账号登录"
                .to_owned(),
            Self::PhoneTaken => "该平台登记的手机号码已被本平台的另一账户使用：\
                                 请用该手机号码登录本平台，或到窗口办理账户核实"
                .to_owned(),
            Self::LinkNeedsVerifiedIdentity => "本平台已有使用该身份证号码的账户。关联账户需要\
                                                您在该平台完成实名认证（二级及以上）：请在该平台\
                                                完成实名认证后重试，或使用本平台账号登录"
                .to_owned(),
        }
    }

    fn message_en(&self) -> String {
        match self {
            Self::UnknownPartner => "This platform has no trust agreement with that region's \
                                     platform: sign in with an account of this platform"
                .to_owned(),
            Self::LevelUnmapped => "The assurance level that platform asserted is not \
                                    accepted here: sign in with an account of this platform, \
                                    or raise your level there and try again"
                .to_owned(),
            Self::SignInFailed => "Signing in through the other region's platform did not \
                                   succeed: try again; if it still fails, sign in with an \
                                   account of this platform"
                .to_owned(),
            Self::PhoneTaken => "The phone number registered at that platform is used by \
                                 another account here: sign in here with that phone number, \
                                 or have your account checked at a service window"
                .to_owned(),
            Self::LinkNeedsVerifiedIdentity => "An account here already has this ID number. \
                                                To link to it, complete real-name verification \
                                                (level 2 or higher) at that platform and try \
                                                again, or sign in with an account of this \
                                                platform"
                .to_owned(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn mapping(pairs: &[(&str, AssuranceLevel)]) -> LevelMapping {
        LevelMapping::new(pairs.iter().map(|(a, l)| ((*a).to_owned(), *l)))
    }

    #[test]
    fn onetrip_acr_is_capped_at_the_assertion() {
        let m = mapping(&[
            ("urn:onetrip:loa:1", AssuranceLevel::L3),
            ("urn:onetrip:loa:2", AssuranceLevel::L3),
            ("urn:onetrip:loa:3", AssuranceLevel::L2),
        ]);
        assert_eq!(
            mapped_level(&m, "urn:onetrip:loa:1"),
            Some(AssuranceLevel::L1)
        );
        assert_eq!(
            mapped_level(&m, "urn:onetrip:loa:2"),
            Some(AssuranceLevel::L2)
        );
        assert_eq!(
            mapped_level(&m, "urn:onetrip:loa:3"),
            Some(AssuranceLevel::L2),
            "the mapping may lower"
        );
        assert_eq!(
            mapped_level(&m, " urn:onetrip:loa:2 "),
            Some(AssuranceLevel::L2)
        );
    }

    #[test]
    fn foreign_acr_follows_the_mapping_and_unknown_is_refused() {
        let m = mapping(&[
            ("urn:js:zwfw:loa:high", AssuranceLevel::L3),
            ("urn:js:zwfw:loa:low", AssuranceLevel::L1),
        ]);
        assert_eq!(
            mapped_level(&m, "urn:js:zwfw:loa:high"),
            Some(AssuranceLevel::L3)
        );
        assert_eq!(
            mapped_level(&m, "urn:js:zwfw:loa:low"),
            Some(AssuranceLevel::L1)
        );
        assert_eq!(mapped_level(&m, "urn:js:zwfw:loa:HIGH"), None);
        assert_eq!(mapped_level(&m, "urn:js:zwfw:loa"), None);
        assert_eq!(mapped_level(&m, ""), None);
        assert_eq!(mapped_level(&m, "urn:onetrip:loa:2"), None);
        assert_eq!(
            mapped_level(&LevelMapping::default(), "urn:onetrip:loa:1"),
            None
        );
    }

    #[test]
    fn mappings_read_from_configuration() {
        let m: LevelMapping =
            serde_json::from_str(r#"{"urn:onetrip:loa:2": "L2", "urn:onetrip:loa:3": "L3"}"#)
                .unwrap();
        assert_eq!(m.configured("urn:onetrip:loa:3"), Some(AssuranceLevel::L3));
        assert_eq!(m.iter().count(), 2);
        assert!(!m.is_empty());
    }

    #[test]
    fn only_verified_identities_link() {
        assert!(!may_link(AssuranceLevel::L1));
        assert!(may_link(AssuranceLevel::L2));
        assert!(may_link(AssuranceLevel::L3));
    }

    #[test]
    fn refusals_speak_both_languages() {
        for r in [
            PartnerRefusal::UnknownPartner,
            PartnerRefusal::LevelUnmapped,
            PartnerRefusal::SignInFailed,
            PartnerRefusal::PhoneTaken,
            PartnerRefusal::LinkNeedsVerifiedIdentity,
        ] {
            assert!(r.code().starts_with("partner_"));
            assert!(r.message_zh().chars().any(|c| c > '\u{4e00}'));
            assert!(r.message_en().is_ascii());
        }
    }

    fn level() -> impl Strategy<Value = AssuranceLevel> {
        prop_oneof![
            Just(AssuranceLevel::L1),
            Just(AssuranceLevel::L2),
            Just(AssuranceLevel::L3)
        ]
    }

    fn acr() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("urn:onetrip:loa:1".to_owned()),
            Just("urn:onetrip:loa:2".to_owned()),
            Just("urn:onetrip:loa:3".to_owned()),
            Just("urn:onetrip:loa:4".to_owned()),
            Just("urn:js:zwfw:loa:high".to_owned()),
            "[a-z:0-9 ]{0,12}",
        ]
    }

    proptest! {
        #[test]
        fn never_above_the_assertion_nor_the_mapping(
            pairs in proptest::collection::vec((acr(), level()), 0..6),
            asserted in acr(),
        ) {
            let m = LevelMapping::new(pairs);
            let result = mapped_level(&m, &asserted);
            match m.configured(&asserted) {
                None => prop_assert_eq!(result, None),
                Some(configured) => {
                    let got = result.unwrap();
                    prop_assert!(got <= configured);
                    if let Ok(ours) = AssuranceLevel::from_acr(&asserted) {
                        prop_assert!(got <= ours);
                        prop_assert_eq!(got, configured.min(ours));
                    } else {
                        prop_assert_eq!(got, configured);
                    }
                }
            }
        }
    }
}
