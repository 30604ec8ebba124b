//! Checking and normalising one value of one field (every kind but groups, which
//! [`super::validate`] walks item by item).

use jiff::civil::Date;
use serde_json::{Map, Value};

use super::error::{Expected, Problem, Verb};
use super::{ChoiceOption, FieldKind, MAX_ADDRESS_DETAIL_CHARS, MAX_TEXT_CHARS};
use crate::identifiers::{CreditCode, DivisionCode, ResidentId};

/// The amount in fen of a string in yuan: an optional `-`, digits, and optionally `.` followed
/// by one or two digits (`"12"`, `"12.3"`, `"12.30"`, `"-0.05"`). `None` when malformed
/// (including surrounding whitespace, `+`, `¥` and thousands separators) or out of the range of
/// `i64`. The inverse of [`format_yuan`].
pub fn parse_yuan(s: &str) -> Option<i64> {
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (whole, cents) = match body.split_once('.') {
        Some((w, c)) => (w, Some(c)),
        None => (body, None),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut fen: i128 = 0;
    for b in whole.bytes() {
        fen = fen.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    fen = fen.checked_mul(100)?;
    if let Some(c) = cents {
        let digits = c.as_bytes();
        if digits.is_empty() || digits.len() > 2 || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let tens = i128::from(digits[0] - b'0') * 10;
        let ones = digits.get(1).map_or(0, |d| i128::from(d - b'0'));
        fen = fen.checked_add(tens + ones)?;
    }
    i64::try_from(if negative { -fen } else { fen }).ok()
}

/// An amount in fen as yuan with two decimals: `1230` → `"12.30"`, `-5` → `"-0.05"`.
pub fn format_yuan(fen: i64) -> String {
    let abs = fen.unsigned_abs();
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Whether a value counts as not filled: `null`, whitespace-only text, an empty array, an
/// object whose values are all blank.
pub(super) fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.values().all(is_blank),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// A part of a composite value that a problem is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Part {
    /// `division_code` of an address.
    DivisionCode,
    /// `detail` of an address.
    Detail,
    /// A key the value should not have.
    Key(String),
}

impl Part {
    /// The suffix of the path (`.detail`).
    pub fn suffix(&self) -> String {
        match self {
            Part::DivisionCode => ".division_code".to_owned(),
            Part::Detail => ".detail".to_owned(),
            Part::Key(k) => format!(".{k}"),
        }
    }
}

/// A problem with a value, possibly about one part of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Issue {
    pub part: Option<Part>,
    pub problem: Problem,
}

impl From<Problem> for Issue {
    fn from(problem: Problem) -> Self {
        Issue {
            part: None,
            problem,
        }
    }
}

/// How to check: `today` is `None` when only the shape matters (conditions), `draft` when
/// missing parts are allowed.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ctx {
    pub today: Option<Date>,
    pub draft: bool,
}

type Checked = Result<Value, Vec<Issue>>;

fn fail(problem: Problem) -> Checked {
    Err(vec![problem.into()])
}

/// Checks and normalises a value that is not blank. Groups are returned unchanged (they are
/// walked item by item by the caller).
pub(super) fn normalise(kind: &FieldKind, raw: &Value, ctx: Ctx) -> Checked {
    match kind {
        FieldKind::Text { max_len, multiline } => text(raw, *max_len, *multiline),
        FieldKind::Number { min, max } => number(raw, *min, *max),
        FieldKind::Money { min_fen, max_fen } => money(raw, *min_fen, *max_fen),
        FieldKind::Date {
            not_after_today,
            not_before_today,
        } => date(raw, *not_after_today, *not_before_today, ctx.today),
        FieldKind::Choice { options } => choice(raw, options),
        FieldKind::MultiChoice { options, min, max } => {
            multi_choice(raw, options, *min, *max, ctx.draft)
        }
        FieldKind::ResidentId => {
            let s = string(raw, Expected::Text)?;
            // Without a date (conditions), only the shape matters: any date of birth up to the
            // end of the calendar passes.
            ResidentId::parse(s, ctx.today.unwrap_or(Date::MAX))
                .map(|id| Value::String(id.expose().to_owned()))
                .map_err(|e| vec![Problem::ResidentId(e).into()])
        }
        FieldKind::CreditCode => {
            let s = string(raw, Expected::Text)?;
            CreditCode::parse(s)
                .map(|c| Value::String(c.as_str().to_owned()))
                .map_err(|e| vec![Problem::CreditCode(e).into()])
        }
        FieldKind::Phone => phone(string(raw, Expected::Text)?),
        FieldKind::Address => address(raw, ctx.draft),
        FieldKind::File { accept, max_bytes } => file(raw, accept, *max_bytes),
        FieldKind::Group { .. } => Ok(raw.clone()),
    }
}

fn string(raw: &Value, expected: Expected) -> Result<&str, Vec<Issue>> {
    match raw {
        Value::String(s) => Ok(s),
        _ => Err(vec![Problem::WrongType(expected).into()]),
    }
}

/// Trimmed text with line breaks as `\n`, or the problem with its characters.
fn clean_text(s: &str, multiline: bool) -> Result<String, Problem> {
    let mut t = s.trim().to_owned();
    if multiline && t.contains('\r') {
        t = t.replace("\r\n", "\n").replace('\r', "\n");
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\t');
    if t.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(Problem::TextInvalidCharacter { multiline });
    }
    Ok(t)
}

fn text(raw: &Value, max_len: Option<u32>, multiline: bool) -> Checked {
    let t = clean_text(string(raw, Expected::Text)?, multiline).map_err(|p| vec![p.into()])?;
    let max = u64::from(max_len.unwrap_or(MAX_TEXT_CHARS));
    let len = u64::try_from(t.chars().count()).unwrap_or(u64::MAX);
    if len > max {
        return fail(Problem::TextTooLong { max, len });
    }
    Ok(Value::String(t))
}

/// An integer from a JSON number or a string of digits; `Err` with the problem otherwise.
fn integer(raw: &Value, format: Problem, expected: Expected) -> Result<i64, Problem> {
    match raw {
        Value::Number(n) => n.as_i64().ok_or(if n.is_u64() {
            Problem::NumberTooLarge(i64::MAX)
        } else {
            format
        }),
        Value::String(s) => {
            let t = s.trim();
            let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format);
            }
            t.parse::<i64>().map_err(|_| {
                if t.starts_with('-') {
                    Problem::NumberTooSmall(i64::MIN)
                } else {
                    Problem::NumberTooLarge(i64::MAX)
                }
            })
        }
        _ => Err(Problem::WrongType(expected)),
    }
}

fn number(raw: &Value, min: Option<i64>, max: Option<i64>) -> Checked {
    let n = integer(raw, Problem::NumberFormat, Expected::Integer).map_err(|p| vec![p.into()])?;
    if let Some(min) = min.filter(|m| n < *m) {
        return fail(Problem::NumberTooSmall(min));
    }
    if let Some(max) = max.filter(|m| n > *m) {
        return fail(Problem::NumberTooLarge(max));
    }
    Ok(Value::from(n))
}

fn money(raw: &Value, min_fen: Option<i64>, max_fen: Option<i64>) -> Checked {
    let fen = match raw {
        Value::Number(n) => match n.as_i64() {
            Some(f) => f,
            None if n.is_u64() => return fail(Problem::MoneyTooLarge(max_fen.unwrap_or(i64::MAX))),
            // A JSON fraction is ambiguous (yuan or fen?): amounts in yuan are written as text.
            None => return fail(Problem::MoneyFormat),
        },
        Value::String(s) => match parse_yuan(s.trim()) {
            Some(f) => f,
            None => return fail(Problem::MoneyFormat),
        },
        _ => return fail(Problem::WrongType(Expected::Money)),
    };
    let min = min_fen.unwrap_or(0);
    if fen < min {
        return fail(Problem::MoneyTooSmall(min));
    }
    if let Some(max) = max_fen.filter(|m| fen > *m) {
        return fail(Problem::MoneyTooLarge(max));
    }
    Ok(Value::from(fen))
}

/// A number of `min..=max` ASCII digits.
fn digits(s: &str, min: usize, max: usize) -> Option<i16> {
    if !(min..=max).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses `YYYY-MM-DD`, `YYYY-M-D` with `-`, `/` or `.` as separator, or `YYYY年M月D日`.
pub(super) fn parse_date(s: &str) -> Result<Date, Problem> {
    let parts: Option<(&str, &str, &str)> = if let Some(body) = s.strip_suffix('日') {
        body.split_once('年').and_then(|(y, rest)| {
            let (m, d) = rest.split_once('月')?;
            Some((y, m, d))
        })
    } else {
        ['-', '/', '.'].into_iter().find_map(|sep| {
            let mut it = s.split(sep);
            match (it.next(), it.next(), it.next(), it.next()) {
                (Some(y), Some(m), Some(d), None) => Some((y, m, d)),
                _ => None,
            }
        })
    };
    let (y, m, d) = parts.ok_or(Problem::DateFormat)?;
    let (Some(y), Some(m), Some(d)) = (digits(y, 4, 4), digits(m, 1, 2), digits(d, 1, 2)) else {
        return Err(Problem::DateFormat);
    };
    if y < 1000 {
        return Err(Problem::DateInvalid);
    }
    let (Ok(m), Ok(d)) = (i8::try_from(m), i8::try_from(d)) else {
        return Err(Problem::DateInvalid);
    };
    Date::new(y, m, d).map_err(|_| Problem::DateInvalid)
}

/// `YYYY-MM-DD` (years from 1000 on).
pub(super) fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

fn date(raw: &Value, not_after: bool, not_before: bool, today: Option<Date>) -> Checked {
    let d = parse_date(string(raw, Expected::Date)?.trim()).map_err(|p| vec![p.into()])?;
    if let Some(today) = today {
        if not_after && d > today {
            return fail(Problem::DateAfterToday(format_date(today)));
        }
        if not_before && d < today {
            return fail(Problem::DateBeforeToday(format_date(today)));
        }
    }
    Ok(Value::String(format_date(d)))
}

/// The index of the option whose value is `s` (both trimmed); blank options never match.
fn option_index(options: &[ChoiceOption], s: &str) -> Option<usize> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    options.iter().position(|o| o.value.trim() == s)
}

fn unknown_option(options: &[ChoiceOption]) -> Problem {
    let zh: Vec<&str> = options.iter().map(|o| o.label.as_str()).collect();
    let en: Vec<&str> = options
        .iter()
        .map(|o| o.label_en.as_deref().unwrap_or(&o.label))
        .collect();
    Problem::ChoiceUnknown {
        zh: zh.join("、"),
        en: en.join(", "),
    }
}

fn choice(raw: &Value, options: &[ChoiceOption]) -> Checked {
    let s = string(raw, Expected::Choice)?;
    match option_index(options, s) {
        Some(i) => Ok(Value::String(options[i].value.clone())),
        None => fail(unknown_option(options)),
    }
}

fn multi_choice(
    raw: &Value,
    options: &[ChoiceOption],
    min: Option<u32>,
    max: Option<u32>,
    draft: bool,
) -> Checked {
    let items: Vec<&Value> = match raw {
        Value::Array(a) => a.iter().collect(),
        Value::String(_) => vec![raw],
        _ => return fail(Problem::WrongType(Expected::ChoiceList)),
    };
    let mut chosen = vec![false; options.len()];
    let mut unknown = false;
    for item in items {
        let Value::String(s) = item else {
            return fail(Problem::WrongType(Expected::ChoiceList));
        };
        if s.trim().is_empty() {
            continue;
        }
        match option_index(options, s) {
            Some(i) => chosen[i] = true,
            None => unknown = true,
        }
    }
    if unknown {
        return fail(unknown_option(options));
    }
    let out: Vec<Value> = options
        .iter()
        .zip(&chosen)
        .filter(|(_, c)| **c)
        .map(|(o, _)| Value::String(o.value.clone()))
        .collect();
    let count = u32::try_from(out.len()).unwrap_or(u32::MAX);
    // Nothing chosen is "not filled": the caller decides whether that is allowed.
    if count > 0 {
        if let Some(min) = min.filter(|m| !draft && count < *m) {
            return fail(Problem::ChoiceTooFew(min));
        }
        if let Some(max) = max.filter(|m| count > *m) {
            return fail(Problem::ChoiceTooMany(max));
        }
    }
    Ok(Value::Array(out))
}

fn is_full_width(c: char) -> bool {
    matches!(c, '\u{FF01}'..='\u{FF5E}' | '\u{3000}')
}

fn phone(s: &str) -> Checked {
    let compact: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    let number = compact
        .strip_prefix("+86")
        .or_else(|| compact.strip_prefix("0086"))
        .or_else(|| compact.strip_prefix("86").filter(|rest| rest.len() == 11))
        .unwrap_or(&compact);
    let b = number.as_bytes();
    if b.len() == 11
        && b.iter().all(u8::is_ascii_digit)
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
    {
        Ok(Value::String(number.to_owned()))
    } else {
        fail(Problem::Phone {
            full_width: s.chars().any(is_full_width),
        })
    }
}

fn address(raw: &Value, draft: bool) -> Checked {
    let Value::Object(m) = raw else {
        return fail(Problem::WrongType(Expected::Address));
    };
    let mut issues = Vec::new();
    for k in m.keys() {
        if k != "division_code" && k != "detail" {
            issues.push(Issue {
                part: Some(Part::Key(k.clone())),
                problem: Problem::UnknownField,
            });
        }
    }
    let mut out = Map::new();
    match m.get("division_code").filter(|v| !is_blank(v)) {
        None if !draft => issues.push(Issue {
            part: Some(Part::DivisionCode),
            problem: Problem::Required(Verb::Choose),
        }),
        None => {}
        Some(Value::String(s)) => match DivisionCode::parse(s) {
            Ok(code) => {
                out.insert(
                    "division_code".into(),
                    Value::String(code.as_str().to_owned()),
                );
            }
            Err(e) => issues.push(Issue {
                part: Some(Part::DivisionCode),
                problem: Problem::Division(e),
            }),
        },
        Some(_) => issues.push(Issue {
            part: Some(Part::DivisionCode),
            problem: Problem::WrongType(Expected::Text),
        }),
    }
    match m.get("detail").filter(|v| !is_blank(v)) {
        None if !draft => issues.push(Issue {
            part: Some(Part::Detail),
            problem: Problem::Required(Verb::Enter),
        }),
        None => {}
        Some(Value::String(s)) => match clean_text(s, false) {
            Ok(t) => {
                let len = t.chars().count();
                if len > MAX_ADDRESS_DETAIL_CHARS {
                    issues.push(Issue {
                        part: Some(Part::Detail),
                        problem: Problem::TextTooLong {
                            max: MAX_ADDRESS_DETAIL_CHARS as u64,
                            len: len as u64,
                        },
                    });
                } else {
                    out.insert("detail".into(), Value::String(t));
                }
            }
            Err(p) => issues.push(Issue {
                part: Some(Part::Detail),
                problem: p,
            }),
        },
        Some(_) => issues.push(Issue {
            part: Some(Part::Detail),
            problem: Problem::WrongType(Expected::Text),
        }),
    }
    if issues.is_empty() {
        Ok(Value::Object(out))
    } else {
        Err(issues)
    }
}

/// The essence of a media type (`text/plain; charset=utf-8` → `text/plain`), lower case.
fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Whether `media_type` (an essence) matches an accept pattern (`image/png`, `image/*`, `*/*`).
pub(super) fn media_matches(pattern: &str, media_type: &str) -> bool {
    let p = essence(pattern);
    if p == "*/*" || p == "*" {
        return true;
    }
    match p.strip_suffix("/*") {
        Some(top) => media_type.split_once('/').is_some_and(|(t, _)| t == top),
        None => p == media_type,
    }
}

fn file(raw: &Value, accept: &[String], max_bytes: Option<u64>) -> Checked {
    let malformed = || fail(Problem::WrongType(Expected::File));
    let Value::Object(m) = raw else {
        return malformed();
    };
    if m.keys()
        .any(|k| !matches!(k.as_str(), "id" | "name" | "media_type" | "bytes"))
    {
        return malformed();
    }
    let text = |k: &str| match m.get(k) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    };
    let (Some(id), Some(name), Some(media_type), Some(bytes)) = (
        text("id"),
        text("name"),
        text("media_type"),
        m.get("bytes").and_then(Value::as_u64),
    ) else {
        return malformed();
    };
    if id.chars().any(char::is_control) || name.chars().any(char::is_control) {
        return malformed();
    }
    let media_type = media_type.to_ascii_lowercase();
    let mut issues = Vec::new();
    let media_essence = essence(&media_type);
    if !accept.is_empty() && !accept.iter().any(|a| media_matches(a, &media_essence)) {
        issues.push(
            Problem::FileType {
                media_type: media_type.clone(),
                accept: accept.join(", "),
            }
            .into(),
        );
    }
    if let Some(max) = max_bytes.filter(|m| bytes > *m) {
        issues.push(Problem::FileTooLarge { max }.into());
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    let mut out = Map::new();
    out.insert("id".into(), Value::String(id));
    out.insert("name".into(), Value::String(name));
    out.insert("media_type".into(), Value::String(media_type));
    out.insert("bytes".into(), Value::from(bytes));
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_round_trip_edges() {
        for fen in [0, 1, 5, 10, 99, 100, 1230, -5, -150, i64::MAX, i64::MIN] {
            assert_eq!(parse_yuan(&format_yuan(fen)), Some(fen), "{fen}");
        }
        assert_eq!(parse_yuan("12"), Some(1200));
        assert_eq!(parse_yuan("12.3"), Some(1230));
        assert_eq!(parse_yuan("0.05"), Some(5));
        for bad in [
            "",
            "-",
            ".5",
            "12.",
            "12.345",
            "+1",
            "1,000",
            "¥12",
            " 12",
            "1e3",
            "１２",
            "92233720368547758.08",
        ] {
            assert_eq!(parse_yuan(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn date_forms() {
        let d = Date::constant(2024, 1, 5);
        for s in [
            "2024-01-05",
            "2024-1-5",
            "2024/01/05",
            "2024.1.05",
            "2024年1月5日",
        ] {
            assert_eq!(parse_date(s), Ok(d), "{s}");
        }
        assert_eq!(parse_date("2023-02-29"), Err(Problem::DateInvalid));
        assert_eq!(parse_date("2024-13-01"), Err(Problem::DateInvalid));
        assert_eq!(parse_date("0999-01-01"), Err(Problem::DateInvalid));
        for bad in [
            "24-01-05",
            "2024-01",
            "2024-01-05-01",
            "2024/01-05",
            "20240105",
            "昨天",
        ] {
            assert_eq!(parse_date(bad), Err(Problem::DateFormat), "{bad}");
        }
        assert_eq!(format_date(d), "2024-01-05");
    }

    #[test]
    fn media_type_patterns() {
        assert!(media_matches("image/*", "image/png"));
        assert!(media_matches("application/pdf", "application/pdf"));
        assert!(media_matches("*/*", "text/plain"));
        assert!(!media_matches("image/*", "application/pdf"));
        assert!(!media_matches("image/png", "image/jpeg"));
    }
}
