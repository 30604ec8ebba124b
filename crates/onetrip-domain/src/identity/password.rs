//! The password policy: length, character classes, common passwords, personal data and
//! sequences.

use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::Localized;
use crate::identifiers::ResidentId;

/// The embedded list of common passwords (lower case, `#` comments).
const COMMON_PASSWORDS: &str = include_str!("../../data/common_passwords.txt");

/// Keyboard rows and columns, the alphabet and the digits: runs along any of these (forwards
/// or backwards) are refused as sequences.
const SEQUENCES: &[&str] = &[
    "0123456789",
    "1234567890",
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
    "!qaz@wsx#edc$rfv%tgb^yhn&ujm*ik<(ol>)p:?",
    "zaq1xsw2cde3vfr4bgt5nhy6mju7,ki8.lo9/;p0",
    "qazwsxedcrfvtgbyhnujmikolp",
];

/// The embedded common passwords, lower case. Compiled once from `data/common_passwords.txt`.
pub fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// Configurable password rules. `Default` is the onetrip policy.
///
/// Lengths count Unicode scalar values (`char`s), so `密码` is two characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordPolicy {
    /// Minimum length in characters (default 10).
    pub min_length: usize,
    /// Maximum length in characters (default 128).
    pub max_length: usize,
    /// How many of the four character classes must appear (default 2). The classes are
    /// ASCII lower-case letters, ASCII upper-case letters, ASCII digits, and everything else
    /// (symbols, spaces, Chinese characters…).
    pub min_classes: u8,
    /// A run of this many or more consecutive characters along the alphabet, the digits or a
    /// keyboard row or column (forwards or backwards), or of one repeated character, is
    /// refused (default 5). `0` or `1` disables the check.
    pub max_sequence: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 10,
            max_length: 128,
            min_classes: 2,
            max_sequence: 5,
        }
    }
}

/// What the policy knows about the person choosing the password, to refuse passwords built
/// from their own data. Every field is optional.
///
/// `Debug` does not show the values (they are personal data).
#[derive(Clone, Default)]
pub struct PasswordContext {
    /// Mobile phone number, in any common format (`+86 138-0013-8000`).
    pub phone: Option<String>,
    /// Resident ID number.
    pub resident_id: Option<ResidentId>,
    /// Name in pinyin, syllables or words separated by spaces or not (`Zhang Xiaoming`).
    pub name_pinyin: Option<String>,
}

impl fmt::Debug for PasswordContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present = |b: bool| if b { "<given>" } else { "<none>" };
        f.debug_struct("PasswordContext")
            .field("phone", &present(self.phone.is_some()))
            .field("resident_id", &present(self.resident_id.is_some()))
            .field("name_pinyin", &present(self.name_pinyin.is_some()))
            .finish()
    }
}

/// One reason a password is refused. Never contains the password or any part of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum PasswordProblem {
    /// Shorter than the minimum length.
    #[error("password shorter than {min} characters")]
    TooShort {
        /// The minimum length.
        min: usize,
    },
    /// Longer than the maximum length.
    #[error("password longer than {max} characters")]
    TooLong {
        /// The maximum length.
        max: usize,
    },
    /// Too few character classes.
    #[error("password uses {found} character classes, {required} required")]
    TooFewClasses {
        /// How many classes are required.
        required: u8,
        /// How many the password has.
        found: u8,
    },
    /// A common password, or a common password followed by digits or symbols.
    #[error("common password")]
    Common,
    /// Contains the person's phone number (7 or more consecutive digits of it).
    #[error("password contains the phone number")]
    ContainsPhone,
    /// Contains the birth date (8 digits) or the last 6 characters of the ID number.
    #[error("password contains the ID number")]
    ContainsIdNumber,
    /// Contains the name in pinyin.
    #[error("password contains the name")]
    ContainsName,
    /// A run along the alphabet, the digits or the keyboard (`12345`, `abcde`, `qwert`,
    /// `1qaz2`).
    #[error("password contains a sequence")]
    Sequence,
    /// One character repeated (`aaaaa`, `11111`).
    #[error("password contains a repeated character")]
    Repeated,
}

impl Localized for PasswordProblem {
    fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "password_too_short",
            Self::TooLong { .. } => "password_too_long",
            Self::TooFewClasses { .. } => "password_too_few_classes",
            Self::Common => "password_common",
            Self::ContainsPhone => "password_contains_phone",
            Self::ContainsIdNumber => "password_contains_id_number",
            Self::ContainsName => "password_contains_name",
            Self::Sequence => "password_sequence",
            Self::Repeated => "password_repeated",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::TooShort { min } => format!("密码太短：请至少输入{min}个字符"),
            Self::TooLong { max } => format!("密码太长：请不要超过{max}个字符"),
            Self::TooFewClasses { required, found } => format!(
                "密码只包含{found}类字符：请至少组合小写字母、大写字母、数字、符号中的{required}类"
            ),
            Self::Common => {
                "这是常见密码（或常见密码加数字、年份），很容易被猜中：请换一个不常见的密码"
                    .to_owned()
            }
            Self::ContainsPhone => "密码包含您的手机号码：请不要使用手机号码".to_owned(),
            Self::ContainsIdNumber => {
                "密码包含您的出生日期或身份证号码后6位：请不要使用身份证号码中的数字".to_owned()
            }
            Self::ContainsName => "密码包含您姓名的拼音：请不要使用姓名".to_owned(),
            Self::Sequence => {
                "密码包含连续的字母、数字或键盘按键（如 12345、abcde、qwert）：请打乱顺序"
                    .to_owned()
            }
            Self::Repeated => "密码包含连续重复的字符（如 aaaaa、11111）：请避免重复".to_owned(),
        }
    }

    fn message_en(&self) -> String {
        match self {
            Self::TooShort { min } => {
                format!("The password is too short: use at least {min} characters")
            }
            Self::TooLong { max } => {
                format!("The password is too long: use at most {max} characters")
            }
            Self::TooFewClasses { required, found } => format!(
                "The password uses {found} kind(s) of character: combine at least {required} of \
                 lower-case letters, upper-case letters, digits and symbols"
            ),
            Self::Common => "This is a common password (or a common password plus digits or a \
                             year) and is easy to guess: choose a less common one"
                .to_owned(),
            Self::ContainsPhone => {
                "The password contains your phone number: do not use your phone number".to_owned()
            }
            Self::ContainsIdNumber => "The password contains your birth date or the last 6 \
                                       characters of your ID number: do not use digits from \
                                       your ID number"
                .to_owned(),
            Self::ContainsName => {
                "The password contains your name in pinyin: do not use your name".to_owned()
            }
            Self::Sequence => "The password contains a run of consecutive letters, digits or \
                               keyboard keys (like 12345, abcde, qwert): break it up"
                .to_owned(),
            Self::Repeated => "The password repeats one character several times in a row (like \
                               aaaaa, 11111): avoid repetitions"
                .to_owned(),
        }
    }
}

impl PasswordPolicy {
    /// Checks `password` against every rule and lists every problem found, in the order of
    /// the [`PasswordProblem`] variants.
    ///
    /// Common passwords: the password, lower-cased, is looked up in [`common_passwords`];
    /// then again after removing every trailing ASCII digit and ASCII punctuation character
    /// (so `Woaini2024!` and `password123` are caught as `woaini` and `password`), when what
    /// remains has at least 4 characters.
    ///
    /// Never panics, whatever the input; the cost is linear in the password length.
    pub fn check(
        &self,
        password: &str,
        context: &PasswordContext,
    ) -> Result<(), Vec<PasswordProblem>> {
        let mut problems = Vec::new();
        let len = password.chars().count();
        if len < self.min_length {
            problems.push(PasswordProblem::TooShort {
                min: self.min_length,
            });
        }
        if len > self.max_length {
            problems.push(PasswordProblem::TooLong {
                max: self.max_length,
            });
        }
        let found = classes(password);
        if found < self.min_classes {
            problems.push(PasswordProblem::TooFewClasses {
                required: self.min_classes,
                found,
            });
        }
        let lower = password.to_lowercase();
        if is_common(&lower) {
            problems.push(PasswordProblem::Common);
        }
        if let Some(phone) = &context.phone
            && contains_phone(&lower, phone)
        {
            problems.push(PasswordProblem::ContainsPhone);
        }
        if let Some(id) = &context.resident_id
            && contains_id(&lower, id)
        {
            problems.push(PasswordProblem::ContainsIdNumber);
        }
        if let Some(name) = &context.name_pinyin
            && contains_name(&lower, name)
        {
            problems.push(PasswordProblem::ContainsName);
        }
        let chars: Vec<char> = lower.chars().collect();
        if self.max_sequence >= 2 {
            if has_sequence(&chars, self.max_sequence) {
                problems.push(PasswordProblem::Sequence);
            }
            if has_repeat(&chars, self.max_sequence) {
                problems.push(PasswordProblem::Repeated);
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// Number of character classes present (0–4).
fn classes(password: &str) -> u8 {
    let (mut lower, mut upper, mut digit, mut other) = (false, false, false, false);
    for c in password.chars() {
        match c {
            'a'..='z' => lower = true,
            'A'..='Z' => upper = true,
            '0'..='9' => digit = true,
            _ => other = true,
        }
    }
    [lower, upper, digit, other].into_iter().map(u8::from).sum()
}

/// Whether the lower-cased password is common, directly or after stripping a suffix.
fn is_common(lower: &str) -> bool {
    let list = common_passwords();
    if list.contains(lower) {
        return true;
    }
    let base = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    base.len() != lower.len() && base.chars().count() >= 4 && list.contains(base)
}

/// Whether the password contains 7 or more consecutive digits of the phone number (numbers
/// with fewer than 7 digits are not checked). The
/// number is reduced to its digits and a leading `86` / `0086` country code is removed when
/// 11 digits remain.
fn contains_phone(lower: &str, phone: &str) -> bool {
    let mut digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    for prefix in ["0086", "86"] {
        if digits.len() == 11 + prefix.len() && digits.starts_with(prefix) {
            digits = digits.split_off(prefix.len());
        }
    }
    const WINDOW: usize = 7;
    digits
        .as_bytes()
        .windows(WINDOW)
        .filter_map(|w| std::str::from_utf8(w).ok())
        .any(|w| lower.contains(w))
}

/// Whether the password contains the 8-digit birth date or the last 6 characters of the ID.
fn contains_id(lower: &str, id: &ResidentId) -> bool {
    let full = id.expose().to_ascii_lowercase();
    let birth = full.get(6..14);
    let last6 = full.get(12..18);
    [birth, last6]
        .into_iter()
        .flatten()
        .any(|part| lower.contains(part))
}

/// Whether the password contains the name: all the letters joined (in order, or with the
/// first word moved last), or any single word of 4 letters or more.
fn contains_name(lower: &str, name: &str) -> bool {
    let words: Vec<String> = name
        .split(|c: char| c.is_whitespace() || c == '-' || c == '·' || c == '.')
        .map(|w| {
            w.chars()
                .filter(char::is_ascii_alphabetic)
                .map(|c| c.to_ascii_lowercase())
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let joined = words.concat();
    let mut rotated = words.iter().skip(1).cloned().collect::<String>();
    if let Some(first) = words.first() {
        rotated.push_str(first);
    }
    let mut candidates = vec![joined, rotated];
    candidates.extend(words.iter().filter(|w| w.len() >= 4).cloned());
    candidates
        .iter()
        .filter(|c| c.len() >= 3)
        .any(|c| lower.contains(c.as_str()))
}

/// Whether `chars` has a run of `n` characters along one of [`SEQUENCES`], either way.
fn has_sequence(chars: &[char], n: usize) -> bool {
    if chars.len() < n {
        return false;
    }
    let patterns: Vec<Vec<char>> = SEQUENCES
        .iter()
        .flat_map(|s| [s.chars().collect::<Vec<_>>(), s.chars().rev().collect()])
        .collect();
    let runs: HashSet<&[char]> = patterns.iter().flat_map(|p| p.windows(n)).collect();
    chars.windows(n).any(|w| runs.contains(w))
}

/// Whether `chars` has one character repeated `n` times in a row.
fn has_repeat(chars: &[char], n: usize) -> bool {
    chars
        .windows(n)
        .any(|w| w.iter().all(|c| Some(c) == w.first()))
}
