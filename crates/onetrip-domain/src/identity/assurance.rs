//! Identity assurance levels (认证等级) and step-up.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Localized;

/// How sure onetrip is that an account belongs to the person it names (认证等级).
///
/// Ordered: `L1 < L2 < L3`. Serialised as `"L1"`, `"L2"`, `"L3"`; carried in OpenID Connect
/// ID tokens as the `acr` value returned by [`AssuranceLevel::acr`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AssuranceLevel {
    /// L1: the mobile phone number was verified with a one-time code.
    L1,
    /// L2: name and resident ID number match the population registry (人口库).
    L2,
    /// L3: L2 plus a second factor: a face/liveness check, or an in-person check at a window.
    L3,
}

impl AssuranceLevel {
    /// Every level, lowest first.
    pub const ALL: [Self; 3] = [Self::L1, Self::L2, Self::L3];

    /// The OpenID Connect `acr` value: `urn:onetrip:loa:1` … `urn:onetrip:loa:3`.
    pub fn acr(self) -> &'static str {
        match self {
            Self::L1 => "urn:onetrip:loa:1",
            Self::L2 => "urn:onetrip:loa:2",
            Self::L3 => "urn:onetrip:loa:3",
        }
    }

    /// Parses an `acr` value produced by [`AssuranceLevel::acr`] (exact match, surrounding
    /// ASCII whitespace ignored).
    pub fn from_acr(acr: &str) -> Result<Self, AcrError> {
        let acr = acr.trim_ascii();
        Self::ALL
            .into_iter()
            .find(|l| l.acr() == acr)
            .ok_or(AcrError::Unknown)
    }

    /// The number of the level: 1, 2 or 3.
    pub fn number(self) -> u8 {
        match self {
            Self::L1 => 1,
            Self::L2 => 2,
            Self::L3 => 3,
        }
    }

    /// The proof that raises an account to this level from the one below.
    pub fn proof(self) -> Proof {
        match self {
            Self::L1 => Proof::PhoneVerification,
            Self::L2 => Proof::RegistryMatch,
            Self::L3 => Proof::SecondFactor,
        }
    }

    /// What the level means, in Chinese.
    pub fn description_zh(self) -> &'static str {
        match self {
            Self::L1 => "一级：已验证手机号码",
            Self::L2 => "二级：姓名和身份证号码已与人口库比对一致",
            Self::L3 => "三级：在二级基础上通过人脸/活体核验或窗口现场核验",
        }
    }

    /// What the level means, in English.
    pub fn description_en(self) -> &'static str {
        match self {
            Self::L1 => "L1: mobile phone number verified",
            Self::L2 => "L2: name and ID number matched against the population registry",
            Self::L3 => "L3: L2 plus a face/liveness check or an in-person check at a window",
        }
    }
}

impl fmt::Display for AssuranceLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "L{}", self.number())
    }
}

/// A proof that raises an account by one assurance level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Proof {
    /// Verify the mobile phone number with an SMS one-time code (reaches L1).
    PhoneVerification,
    /// Real-name verification: name and ID number checked against the population registry
    /// (reaches L2).
    RegistryMatch,
    /// A second factor: face/liveness check, or an in-person check by a window clerk
    /// (reaches L3).
    SecondFactor,
}

impl Proof {
    /// What the person has to do, in Chinese.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::PhoneVerification => "验证手机号码（短信验证码）",
            Self::RegistryMatch => "实名认证（姓名和身份证号码与人口库比对）",
            Self::SecondFactor => "人脸/活体核验，或携带身份证到窗口现场核验",
        }
    }

    /// What the person has to do, in English.
    pub fn label_en(self) -> &'static str {
        match self {
            Self::PhoneVerification => "verify your mobile phone number (SMS code)",
            Self::RegistryMatch => {
                "real-name verification (name and ID number checked against the population registry)"
            }
            Self::SecondFactor => {
                "a face/liveness check, or an in-person check at a window with your ID card"
            }
        }
    }
}

/// An `acr` value that is not one of onetrip's levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AcrError {
    /// Not `urn:onetrip:loa:1`, `…:2` or `…:3`.
    #[error("unknown acr value")]
    Unknown,
}

impl Localized for AcrError {
    fn code(&self) -> &'static str {
        "acr_unknown"
    }

    fn message_zh(&self) -> String {
        "无法识别的认证等级（acr）：应为 urn:onetrip:loa:1、urn:onetrip:loa:2 或 urn:onetrip:loa:3"
            .to_owned()
    }

    fn message_en(&self) -> String {
        "Unknown assurance level (acr): expected urn:onetrip:loa:1, urn:onetrip:loa:2 or \
         urn:onetrip:loa:3"
            .to_owned()
    }
}

/// The account's level is below what the item requires: the person must step up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("assurance level {held} is below the required {required}")]
pub struct StepUp {
    /// The level the account has.
    pub held: AssuranceLevel,
    /// The level the item requires.
    pub required: AssuranceLevel,
    /// Every level above `held` up to and including `required`, lowest first (never empty).
    pub missing: Vec<AssuranceLevel>,
}

impl StepUp {
    /// The proofs still to provide, in the order to provide them.
    pub fn missing_proofs(&self) -> Vec<Proof> {
        self.missing.iter().map(|l| l.proof()).collect()
    }
}

impl Localized for StepUp {
    fn code(&self) -> &'static str {
        "assurance_step_up_required"
    }

    fn message_zh(&self) -> String {
        let steps: Vec<&str> = self
            .missing_proofs()
            .into_iter()
            .map(Proof::label_zh)
            .collect();
        format!(
            "办理此事项需要{}级认证，您的账号目前为{}级：请完成{}",
            self.required.number(),
            self.held.number(),
            steps.join("，然后")
        )
    }

    fn message_en(&self) -> String {
        let steps: Vec<&str> = self
            .missing_proofs()
            .into_iter()
            .map(Proof::label_en)
            .collect();
        format!(
            "This item requires assurance level {}; your account is at {}. To continue, \
             complete: {}",
            self.required,
            self.held,
            steps.join(", then ")
        )
    }
}

/// Whether an account at level `held` may use an item requiring `required`.
///
/// `Ok(())` when `held >= required`; otherwise a [`StepUp`] listing exactly the levels in
/// `(held, required]`.
pub fn check_assurance(held: AssuranceLevel, required: AssuranceLevel) -> Result<(), StepUp> {
    if held >= required {
        return Ok(());
    }
    Err(StepUp {
        held,
        required,
        missing: AssuranceLevel::ALL
            .into_iter()
            .filter(|l| *l > held && *l <= required)
            .collect(),
    })
}
