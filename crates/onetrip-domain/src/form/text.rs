//! The written form of a [`Condition`] for people: what the administrator types into the
//! bundle editor instead of the JSON document's nested maps.
//!
//! ```text
//! parents_married = yes
//! county in (330106, 330108) and not child_enrolled filled
//! (a = yes or b = yes) and c = "two words"
//! ```
//!
//! - `field = value`, `field in (value, …)`, `field filled`;
//! - `not …`, `… and …`, `… or …` (`and` binds tighter than `or`), parentheses (full-width
//!   `（，）` read as `(,)`, as a Chinese keyboard types them);
//! - a value is a bare word (`yes`, `是`, `330106`) or JSON (`"two words"`, `[1, 2]`). A bare
//!   word that reads as a JSON number, `true`, `false` or `null` is that value; every other bare
//!   word is a string. `()` is the empty `all` (always true).
//!
//! [`Condition`]'s `Display` writes this form, and [`Condition::parse_text`] reads it back to a
//! condition that holds exactly when the original holds.

use std::fmt;

use serde_json::Value;

use super::Condition;
use crate::Localized;

const KEYWORDS: [&str; 5] = ["and", "or", "not", "in", "filled"];

/// What the reader expected where it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// A condition: a field, `not` or `(`.
    Condition,
    /// `=`, `in` or `filled` after a field.
    Operator,
    /// A value.
    Value,
    /// `(` after `in`.
    OpenParen,
    /// `,` or `)` in a list of values.
    CommaOrClose,
    /// `)` closing a group.
    Close,
    /// `and`, `or` or the end.
    End,
}

/// A condition that could not be read: where (1-based character position), what was there and
/// what was expected. Code `condition_syntax`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at character {position}: found {found}, expected {expected:?}")]
pub struct ConditionSyntax {
    /// 1-based character position of the problem.
    pub position: usize,
    /// The text found there (empty at the end).
    pub found: String,
    /// What would have been right.
    pub expected: Expected,
}

impl Localized for ConditionSyntax {
    fn code(&self) -> &'static str {
        "condition_syntax"
    }

    fn message_zh(&self) -> String {
        let expected = match self.expected {
            Expected::Condition => "应为条件（字段名、not 或“(”）",
            Expected::Operator => "字段名后应为 =、in 或 filled",
            Expected::Value => "应为取值",
            Expected::OpenParen => "in 后应为“(”",
            Expected::CommaOrClose => "取值之间应为“,”，末尾应为“)”",
            Expected::Close => "缺少“)”",
            Expected::End => "条件之间应为 and 或 or",
        };
        let found = if self.found.is_empty() {
            "条件已结束".to_string()
        } else {
            format!("遇到“{}”", self.found)
        };
        format!("条件第 {} 个字符处{found}：{expected}", self.position)
    }

    fn message_en(&self) -> String {
        let expected = match self.expected {
            Expected::Condition => "expected a condition (a field, not or '(')",
            Expected::Operator => "expected =, in or filled after the field",
            Expected::Value => "expected a value",
            Expected::OpenParen => "expected '(' after in",
            Expected::CommaOrClose => "expected ',' between values or ')' after them",
            Expected::Close => "expected ')'",
            Expected::End => "expected and or or between conditions",
        };
        let found = if self.found.is_empty() {
            "the condition ends".to_string()
        } else {
            format!("found '{}'", self.found)
        };
        format!(
            "At character {} of the condition {found}: {expected}.",
            self.position
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Comma,
    Equals,
    Word(String),
    Json(Value),
}

impl Token {
    fn keyword(&self, k: &str) -> bool {
        matches!(self, Token::Word(w) if w == k)
    }
}

/// Characters that end a bare word.
fn special(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | ',' | '=' | '"' | '（' | '）' | '，')
}

struct Reader<'a> {
    text: &'a str,
    tokens: Vec<(usize, usize, Token)>,
    next: usize,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Result<Self, ConditionSyntax> {
        let mut tokens = Vec::new();
        let mut at = 0;
        while let Some(c) = text[at..].chars().next() {
            if c.is_whitespace() {
                at += c.len_utf8();
                continue;
            }
            let simple = match c {
                '(' | '（' => Some(Token::Open),
                ')' | '）' => Some(Token::Close),
                ',' | '，' => Some(Token::Comma),
                '=' => Some(Token::Equals),
                _ => None,
            };
            if let Some(t) = simple {
                tokens.push((at, at + c.len_utf8(), t));
                at += c.len_utf8();
                continue;
            }
            if matches!(c, '"' | '[' | '{') {
                let mut values = serde_json::Deserializer::from_str(&text[at..]).into_iter();
                match values.next() {
                    Some(Ok(v)) => {
                        let end = at + values.byte_offset();
                        tokens.push((at, end, Token::Json(v)));
                        at = end;
                        continue;
                    }
                    _ => {
                        return Err(ConditionSyntax {
                            position: position(text, at),
                            found: text[at..].chars().take(12).collect(),
                            expected: Expected::Value,
                        });
                    }
                }
            }
            let len: usize = text[at..]
                .chars()
                .take_while(|&c| !special(c))
                .map(char::len_utf8)
                .sum();
            tokens.push((at, at + len, Token::Word(text[at..at + len].to_string())));
            at += len;
        }
        Ok(Reader {
            text,
            tokens,
            next: 0,
        })
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(_, _, t)| t)
    }

    fn fail(&self, expected: Expected) -> ConditionSyntax {
        match self.tokens.get(self.next) {
            Some((start, end, _)) => ConditionSyntax {
                position: position(self.text, *start),
                found: self.text[*start..*end].to_string(),
                expected,
            },
            None => ConditionSyntax {
                position: self.text.chars().count() + 1,
                found: String::new(),
                expected,
            },
        }
    }

    fn take(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.next).map(|(_, _, t)| t.clone());
        self.next += 1;
        t
    }

    fn any(&mut self) -> Result<Condition, ConditionSyntax> {
        let mut list = vec![self.all()?];
        while self.peek().is_some_and(|t| t.keyword("or")) {
            self.next += 1;
            list.push(self.all()?);
        }
        Ok(single_or(list, Condition::Any))
    }

    fn all(&mut self) -> Result<Condition, ConditionSyntax> {
        let mut list = vec![self.not()?];
        while self.peek().is_some_and(|t| t.keyword("and")) {
            self.next += 1;
            list.push(self.not()?);
        }
        Ok(single_or(list, Condition::All))
    }

    fn not(&mut self) -> Result<Condition, ConditionSyntax> {
        if self.peek().is_some_and(|t| t.keyword("not")) {
            self.next += 1;
            return Ok(Condition::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Condition, ConditionSyntax> {
        match self.peek() {
            Some(Token::Open) => {
                self.next += 1;
                if self.peek() == Some(&Token::Close) {
                    self.next += 1;
                    return Ok(Condition::All(Vec::new()));
                }
                let inner = self.any()?;
                if self.peek() != Some(&Token::Close) {
                    return Err(self.fail(Expected::Close));
                }
                self.next += 1;
                Ok(inner)
            }
            Some(Token::Word(w)) if !KEYWORDS.contains(&w.as_str()) => {
                let field = w.clone();
                self.next += 1;
                match self.peek() {
                    Some(Token::Equals) => {
                        self.next += 1;
                        let equals = self.value()?;
                        Ok(Condition::Equals { field, equals })
                    }
                    Some(t) if t.keyword("filled") => {
                        self.next += 1;
                        Ok(Condition::Filled { field })
                    }
                    Some(t) if t.keyword("in") => {
                        self.next += 1;
                        if self.peek() != Some(&Token::Open) {
                            return Err(self.fail(Expected::OpenParen));
                        }
                        self.next += 1;
                        let mut values = Vec::new();
                        if self.peek() == Some(&Token::Close) {
                            self.next += 1;
                            return Ok(Condition::In { field, values });
                        }
                        loop {
                            values.push(self.value()?);
                            match self.peek() {
                                Some(Token::Comma) => self.next += 1,
                                Some(Token::Close) => {
                                    self.next += 1;
                                    return Ok(Condition::In { field, values });
                                }
                                _ => return Err(self.fail(Expected::CommaOrClose)),
                            }
                        }
                    }
                    _ => Err(self.fail(Expected::Operator)),
                }
            }
            _ => Err(self.fail(Expected::Condition)),
        }
    }

    fn value(&mut self) -> Result<Value, ConditionSyntax> {
        match self.peek() {
            Some(Token::Json(_)) => match self.take() {
                Some(Token::Json(v)) => Ok(v),
                _ => Err(self.fail(Expected::Value)),
            },
            Some(Token::Word(w)) if !KEYWORDS.contains(&w.as_str()) => {
                let v = bare_value(w);
                self.next += 1;
                Ok(v)
            }
            _ => Err(self.fail(Expected::Value)),
        }
    }
}

fn single_or(mut list: Vec<Condition>, many: fn(Vec<Condition>) -> Condition) -> Condition {
    if list.len() == 1
        && let Some(only) = list.pop()
    {
        return only;
    }
    many(list)
}

fn position(text: &str, byte: usize) -> usize {
    text[..byte].chars().count() + 1
}

/// The value a bare word stands for: a JSON scalar when it reads as one, else the string.
fn bare_value(word: &str) -> Value {
    match serde_json::from_str::<Value>(word) {
        Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => v,
        _ => Value::String(word.to_string()),
    }
}

impl Condition {
    /// Reads the written form (module documentation of [`crate::form`]'s `text`): blank text
    /// is `None` (no condition).
    pub fn parse_text(text: &str) -> Result<Option<Condition>, ConditionSyntax> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        let mut reader = Reader::new(text)?;
        let c = reader.any()?;
        if reader.peek().is_some() {
            return Err(reader.fail(Expected::End));
        }
        Ok(Some(c))
    }
}

fn write_value(f: &mut fmt::Formatter<'_>, v: &Value) -> fmt::Result {
    if let Value::String(s) = v {
        let bare = !s.is_empty()
            && !s.chars().any(special)
            && !s.starts_with(['[', '{'])
            && !KEYWORDS.contains(&s.as_str())
            && matches!(bare_value(s), Value::String(_));
        if bare {
            return f.write_str(s);
        }
    }
    f.write_str(&v.to_string())
}

/// Writes `c` so that it reads back alone (parenthesised when it is a list).
fn write_operand(f: &mut fmt::Formatter<'_>, c: &Condition) -> fmt::Result {
    match c {
        Condition::All(_) | Condition::Any(_) => write!(f, "({c})"),
        _ => write!(f, "{c}"),
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Equals { field, equals } => {
                write!(f, "{field} = ")?;
                write_value(f, equals)
            }
            Condition::In { field, values } => {
                write!(f, "{field} in (")?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_value(f, v)?;
                }
                f.write_str(")")
            }
            Condition::Filled { field } => write!(f, "{field} filled"),
            Condition::All(cs) | Condition::Any(cs) if cs.is_empty() => {
                let always = matches!(self, Condition::All(_));
                f.write_str(if always { "()" } else { "not ()" })
            }
            Condition::All(cs) | Condition::Any(cs) => {
                let joint = if matches!(self, Condition::All(_)) {
                    " and "
                } else {
                    " or "
                };
                if cs.len() == 1 {
                    return write!(f, "({})", cs[0]);
                }
                for (i, c) in cs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(joint)?;
                    }
                    write_operand(f, c)?;
                }
                Ok(())
            }
            Condition::Not(c) => {
                f.write_str("not ")?;
                write_operand(f, c)
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::form::FormValues;

    fn parse(text: &str) -> Condition {
        match Condition::parse_text(text) {
            Ok(Some(c)) => c,
            other => panic!("{text:?} → {other:?}"),
        }
    }

    #[test]
    fn reads_the_documented_examples() {
        assert_eq!(
            parse("parents_married = yes"),
            Condition::Equals {
                field: "parents_married".into(),
                equals: json!("yes")
            }
        );
        assert_eq!(
            parse("county in (330106, \"330108\") and not enrolled filled"),
            Condition::All(vec![
                Condition::In {
                    field: "county".into(),
                    values: vec![json!(330106), json!("330108")]
                },
                Condition::Not(Box::new(Condition::Filled {
                    field: "enrolled".into()
                })),
            ])
        );
        // and binds tighter than or.
        assert_eq!(
            parse("a = 1 or b = 是 and c = true"),
            Condition::Any(vec![
                Condition::Equals {
                    field: "a".into(),
                    equals: json!(1)
                },
                Condition::All(vec![
                    Condition::Equals {
                        field: "b".into(),
                        equals: json!("是")
                    },
                    Condition::Equals {
                        field: "c".into(),
                        equals: json!(true)
                    },
                ]),
            ])
        );
        assert_eq!(parse("()"), Condition::All(vec![]));
        assert_eq!(parse("a in（1，2）"), parse("a in (1, 2)"));
        assert_eq!(Condition::parse_text("  "), Ok(None));
    }

    #[test]
    fn says_where_and_what_is_wrong() {
        let e = Condition::parse_text("a = yes and").unwrap_err();
        assert_eq!((e.position, e.expected), (12, Expected::Condition));
        assert_eq!(e.found, "");
        let e = Condition::parse_text("a yes").unwrap_err();
        assert_eq!((e.position, e.found.as_str()), (3, "yes"));
        assert_eq!(e.expected, Expected::Operator);
        let e = Condition::parse_text("(a = 1").unwrap_err();
        assert_eq!(e.expected, Expected::Close);
        let e = Condition::parse_text("a in (1 2)").unwrap_err();
        assert_eq!(e.expected, Expected::CommaOrClose);
        let e = Condition::parse_text("a = \"open").unwrap_err();
        assert_eq!((e.position, e.expected), (5, Expected::Value));
        let e = Condition::parse_text("a = 1 b = 2").unwrap_err();
        assert_eq!((e.position, e.expected), (7, Expected::End));
        assert!(e.message_zh().contains("第 7 个字符"));
        assert!(e.message_en().contains("character 7"));
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            "[a-z是否]{0,6}".prop_map(Value::String),
            "[ -~]{0,6}".prop_map(Value::String),
            prop_oneof![
                Just("and"),
                Just("in"),
                Just("12"),
                Just("true"),
                Just("[1]")
            ]
            .prop_map(|s| Value::String(s.to_string())),
            any::<i32>().prop_map(|n| json!(n)),
            any::<bool>().prop_map(Value::Bool),
            Just(Value::Null),
        ]
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![Just("a"), Just("b"), Just("c_1"), Just("county")].prop_map(String::from)
    }

    fn condition() -> impl Strategy<Value = Condition> {
        let leaf = prop_oneof![
            (key(), value()).prop_map(|(field, equals)| Condition::Equals { field, equals }),
            (key(), prop::collection::vec(value(), 0..3))
                .prop_map(|(field, values)| Condition::In { field, values }),
            key().prop_map(|field| Condition::Filled { field }),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Condition::All),
                prop::collection::vec(inner.clone(), 0..4).prop_map(Condition::Any),
                inner.prop_map(|c| Condition::Not(Box::new(c))),
            ]
        })
    }

    fn values() -> impl Strategy<Value = FormValues> {
        prop::collection::btree_map(key(), value(), 0..4)
            .prop_map(|m| m.into_iter().collect::<FormValues>())
    }

    proptest! {
        /// What is written reads back to a condition that holds on exactly the same answers,
        /// and writing that gives the same text.
        #[test]
        fn written_conditions_read_back_the_same(c in condition(), vs in prop::collection::vec(values(), 8)) {
            let text = c.to_string();
            let back = Condition::parse_text(&text)
                .map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?
                .ok_or_else(|| TestCaseError::fail(format!("{text:?} read as blank")))?;
            for v in &vs {
                prop_assert_eq!(back.holds(v), c.holds(v), "{} on {:?}", text, v);
            }
            let again = back.to_string();
            let twice = Condition::parse_text(&again).ok().flatten().map(|c| c.to_string());
            prop_assert_eq!(twice, Some(again));
        }

        /// No text makes the reader panic.
        #[test]
        fn any_text_is_read_or_refused(text in "[a-z =(),\"\\[\\]1是]{0,24}") {
            let _ = Condition::parse_text(&text);
        }
    }
}
