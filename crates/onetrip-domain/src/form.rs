//! The form engine (一表申请): form definitions, visibility conditions and validation of what an
//! applicant fills in.
//!
//! A [`FormSchema`] is plain data written by catalog administrators in YAML or JSON: sections of
//! [`Field`]s, each with a [`FieldKind`], an optional visibility [`Condition`] and an optional
//! [`Prefill`] source. Every definition goes through [`FormSchema::check`] before it is saved;
//! [`FormSchema::validate`] (submission) and [`FormSchema::validate_draft`] (saving half-filled
//! work) take the applicant's [`FormValues`] and return either the normalised values or every
//! problem at once, each a [`FieldError`] with the path of the field and messages in Chinese and
//! English that name the field by its label.
//!
//! Decisions the caller must know:
//! - **Blank means missing.** `null`, a string of whitespace, an empty array and an object whose
//!   values are all blank count as "not filled": a required visible field then gets
//!   `form_required` on submission, and an optional one is left out of the normalised output.
//! - **Hidden fields are dropped, never validated**, whatever their value. A field whose condition
//!   refers to a hidden (or unknown) field is hidden too, whatever the condition says.
//! - **Conditions compare normalised values**: `{field: fee, equals: "12.30"}` matches `1230` fen
//!   on a money field, `" yes "` matches `"yes"`. On a multi-choice field, `equals: x` means "x is
//!   among the chosen values" (`equals: [a, b]` means exactly those) and `in: [...]` means "one of
//!   them is chosen". Conditions only look at earlier fields ([`FormSchema::check`] enforces it),
//!   so the normalised output validates to itself.
//! - **Group children**: a child's condition names a sibling in the same item first, then a
//!   top-level field. Use [`FormSchema::is_visible_in_item`] for them. Groups do not nest.
//! - **Normalisation**: strings trimmed; resident ID numbers and credit codes upper case; phone
//!   numbers as 11 digits (a `+86` prefix, spaces and hyphens are accepted on input); money in
//!   integer fen (input: a JSON integer in fen or a string in yuan such as `"12.30"`); dates as
//!   `YYYY-MM-DD` (input also `2024-1-5`, `2024/01/05`, `2024.1.5`, `2024年1月5日`); numbers
//!   as JSON integers (a string of digits is accepted); multi-choice values deduplicated, in the
//!   order of the options; line breaks of multi-line text as `\n`.
//! - **Drafts** ([`FormSchema::validate_draft`]) skip everything that says "something is
//!   missing": required fields, the missing half of an address, `min` of a multi-choice and
//!   `min_items` of a group. Malformed values are still errors.
//! - Text without `max_len` is limited to [`MAX_TEXT_CHARS`] characters. Money is never negative
//!   unless `min_fen` is set below zero.
//! - Error codes of resident ID numbers, credit codes and division codes are those of
//!   [`crate::identifiers`] (`resident_id_checksum`, …); every other code starts with `form_`.

use std::fmt;

use jiff::civil::Date;
use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

mod check;
mod error;
mod text;
mod validate;
mod value;
mod visibility;

pub use check::{SchemaProblem, SchemaProblemKind};
pub use error::FieldError;
pub use text::{ConditionSyntax, Expected as ConditionExpected};
pub use value::{format_yuan, parse_yuan};

/// The values of a form: top-level field key → JSON value (see [`FieldKind`] for the shape of
/// each kind).
pub type FormValues = serde_json::Map<String, Value>;

/// Longest text, in characters, that a text field without `max_len` accepts.
pub const MAX_TEXT_CHARS: u32 = 10_000;

/// Longest detail of an address, in characters.
pub const MAX_ADDRESS_DETAIL_CHARS: usize = 200;

/// A form definition: the unified form (一表) of an item or a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormSchema {
    /// Stable code of the form (for example `birth_unified`).
    pub code: String,
    /// Version, from 1; a submitted application keeps the version it was filled against.
    pub version: u32,
    /// Title in Chinese.
    pub title: String,
    /// Title in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_en: Option<String>,
    /// The sections, in display order.
    pub sections: Vec<Section>,
}

/// A section of a form (出生信息, 申请人信息…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// Key of the section, unique within the form.
    pub key: String,
    /// Title in Chinese.
    pub title: String,
    /// Title in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_en: Option<String>,
    /// The fields, in display order.
    pub fields: Vec<Field>,
}

/// One field of a form.
///
/// Unknown keys are refused when a definition is read (the kind's own keys such as `max_len`
/// sit next to `type` at the same level).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// Key of the value in [`FormValues`]: unique within the whole form (children of a group:
    /// unique within the group). Letters, digits and `_`, starting with a letter.
    pub key: String,
    /// Label in Chinese; messages name the field by it.
    pub label: String,
    /// Label in English (the Chinese label is used when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_en: Option<String>,
    /// The kind of value, with its constraints (serde tag `type`).
    #[serde(flatten)]
    pub kind: FieldKind,
    /// Whether the field must be filled when it is visible.
    #[serde(default)]
    pub required: bool,
    /// The field is shown (and validated) only when this holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible_when: Option<Condition>,
    /// Where the value can be prefilled from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill: Option<Prefill>,
    /// Help text in Chinese.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Help text in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_en: Option<String>,
}

impl Field {
    /// The English label, or the Chinese one when there is none.
    pub fn english_label(&self) -> &str {
        self.label_en.as_deref().unwrap_or(&self.label)
    }

    /// The child fields of a group, empty for every other kind.
    pub fn children(&self) -> &[Field] {
        match &self.kind {
            FieldKind::Group { fields, .. } => fields,
            _ => &[],
        }
    }

    /// A child of a group by key.
    pub fn child(&self, key: &str) -> Option<&Field> {
        self.children().iter().find(|f| f.key == key)
    }
}

/// The kind of a field and its constraints, with the shape of its value.
///
/// Serde: internally tagged by `type`; unknown keys are refused, also for the kinds without
/// settings (`{type: phone, max_len: 3}` is an error).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FieldKind {
    /// Text; value a string, trimmed.
    Text {
        /// Longest text in characters (after trimming); [`MAX_TEXT_CHARS`] when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_len: Option<u32>,
        /// Whether line breaks are allowed.
        #[serde(default)]
        multiline: bool,
    },
    /// A whole number; value a JSON integer (or a string of digits).
    Number {
        /// Smallest value allowed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<i64>,
        /// Largest value allowed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<i64>,
    },
    /// An amount of money; value a JSON integer in fen, or a string in yuan with at most two
    /// decimals (`"12.30"`); normalised to integer fen.
    Money {
        /// Smallest amount in fen; 0 when absent (money is never negative unless this allows it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_fen: Option<i64>,
        /// Largest amount in fen.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_fen: Option<i64>,
    },
    /// A civil date; value `"YYYY-MM-DD"`.
    Date {
        /// The date may not be after today (a date of birth).
        #[serde(default)]
        not_after_today: bool,
        /// The date may not be before today (an appointment).
        #[serde(default)]
        not_before_today: bool,
    },
    /// One of the options; value the option's `value`.
    Choice {
        /// The options, in display order.
        options: Vec<ChoiceOption>,
    },
    /// Several of the options; value an array of option values.
    MultiChoice {
        /// The options, in display order.
        options: Vec<ChoiceOption>,
        /// Fewest options to choose when the field is filled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<u32>,
        /// Most options to choose.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<u32>,
    },
    /// A resident ID number (GB 11643); value a string, normalised to upper case.
    ResidentId,
    /// A unified social credit code (GB 32100); value a string, normalised to upper case.
    CreditCode,
    /// A mainland mobile number `1[3-9]` + 9 digits; value a string, normalised to 11 digits.
    Phone,
    /// An address; value `{"division_code": "330106", "detail": "…"}`: a GB/T 2260 division
    /// code and a non-empty detail of at most [`MAX_ADDRESS_DETAIL_CHARS`] characters.
    Address,
    /// An uploaded file; value `{"id": "…", "name": "…", "media_type": "…", "bytes": n}`
    /// (the app layer stores the file and fills this in).
    File {
        /// Accepted media types (`application/pdf`, `image/*`); empty accepts any.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        accept: Vec<String>,
        /// Largest size in bytes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_bytes: Option<u64>,
    },
    /// A repeated group of fields (family members…); value an array of objects keyed by the
    /// children's keys.
    Group {
        /// The fields of each item (no groups among them).
        fields: Vec<Field>,
        /// Fewest items when the group is filled.
        #[serde(default)]
        min_items: u32,
        /// Most items.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_items: Option<u32>,
    },
}

impl Serialize for FieldKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // The derived (remote = "Self") implementation.
        FieldKind::serialize(self, serializer)
    }
}

impl<'de> Deserialize<'de> for FieldKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The derived implementation ignores extra keys next to a kind without settings
        // (`{type: phone, max_len: 3}`): catch them first.
        let map = serde_json::Map::<String, Value>::deserialize(deserializer)?;
        if let Some(Value::String(t)) = map.get("type")
            && matches!(
                t.as_str(),
                "resident_id" | "credit_code" | "phone" | "address"
            )
            && let Some(k) = map.keys().find(|k| *k != "type")
        {
            return Err(D::Error::custom(format_args!(
                "unknown field `{k}`: a field of type `{t}` has no settings"
            )));
        }
        FieldKind::deserialize(Value::Object(map)).map_err(D::Error::custom)
    }
}

impl FieldKind {
    /// The `type` name used in definitions (`text`, `multi_choice`…).
    pub fn type_name(&self) -> &'static str {
        match self {
            FieldKind::Text { .. } => "text",
            FieldKind::Number { .. } => "number",
            FieldKind::Money { .. } => "money",
            FieldKind::Date { .. } => "date",
            FieldKind::Choice { .. } => "choice",
            FieldKind::MultiChoice { .. } => "multi_choice",
            FieldKind::ResidentId => "resident_id",
            FieldKind::CreditCode => "credit_code",
            FieldKind::Phone => "phone",
            FieldKind::Address => "address",
            FieldKind::File { .. } => "file",
            FieldKind::Group { .. } => "group",
        }
    }

    /// The options of a choice or multi-choice, empty for every other kind.
    pub fn options(&self) -> &[ChoiceOption] {
        match self {
            FieldKind::Choice { options } | FieldKind::MultiChoice { options, .. } => options,
            _ => &[],
        }
    }
}

/// An option of a choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    /// The value stored in [`FormValues`]; unique within the field.
    pub value: String,
    /// Label in Chinese.
    pub label: String,
    /// Label in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_en: Option<String>,
}

/// When a field is visible.
///
/// Written as `{field: parents_married, equals: "yes"}`, `{field: x, in: [a, b]}`,
/// `{field: x, filled: true}` (`filled: false` reads as `not: {field: x, filled: true}`),
/// `{all: [...]}`, `{any: [...]}` and `{not: {...}}`. See the module documentation for how
/// values are compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The field's normalised value equals `equals` (normalised the same way).
    Equals {
        /// Key of the field.
        field: String,
        /// The value to compare with.
        equals: Value,
    },
    /// The field's normalised value equals one of `values`.
    In {
        /// Key of the field.
        field: String,
        /// The values to compare with (serde key `in`).
        values: Vec<Value>,
    },
    /// The field is filled (not blank).
    Filled {
        /// Key of the field.
        field: String,
    },
    /// Every condition holds (true when empty).
    All(Vec<Condition>),
    /// At least one condition holds (false when empty).
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
}

impl Condition {
    /// Whether the condition holds on plain `values` compared as they are (no field types):
    /// what the questionnaire of a bundle uses, whose answers are option values. A missing or
    /// blank value is unequal to everything and not filled.
    pub fn holds(&self, values: &FormValues) -> bool {
        let get = |field: &str| values.get(field).filter(|v| !value::is_blank(v));
        match self {
            Condition::Equals { field, equals } => get(field) == Some(equals),
            Condition::In {
                field,
                values: options,
            } => get(field).is_some_and(|v| options.contains(v)),
            Condition::Filled { field } => get(field).is_some(),
            Condition::All(cs) => cs.iter().all(|c| c.holds(values)),
            Condition::Any(cs) => cs.iter().any(|c| c.holds(values)),
            Condition::Not(c) => !c.holds(values),
        }
    }

    /// Every field key the condition refers to, in order, with repetitions.
    pub fn referenced_fields(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_fields(&mut out);
        out
    }

    fn collect_fields<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Condition::Equals { field, .. }
            | Condition::In { field, .. }
            | Condition::Filled { field } => out.push(field),
            Condition::All(cs) | Condition::Any(cs) => {
                cs.iter().for_each(|c| c.collect_fields(out));
            }
            Condition::Not(c) => c.collect_fields(out),
        }
    }
}

/// Deserializes a present value, so that `equals: null` is `Some(Null)`, not absent.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The written form of a [`Condition`]: a map with the keys of exactly one operator.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionRepr {
    #[serde(default)]
    field: Option<String>,
    #[serde(default, deserialize_with = "present")]
    equals: Option<Value>,
    #[serde(default, rename = "in")]
    values: Option<Vec<Value>>,
    #[serde(default)]
    filled: Option<bool>,
    #[serde(default)]
    all: Option<Vec<Condition>>,
    #[serde(default)]
    any: Option<Vec<Condition>>,
    #[serde(default)]
    not: Option<Box<Condition>>,
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let r = ConditionRepr::deserialize(deserializer)?;
        let operators = [
            r.equals.is_some(),
            r.values.is_some(),
            r.filled.is_some(),
            r.all.is_some(),
            r.any.is_some(),
            r.not.is_some(),
        ]
        .into_iter()
        .filter(|&b| b)
        .count();
        if operators != 1 {
            return Err(D::Error::custom(
                "a condition needs exactly one of `equals`, `in`, `filled` (each with `field`), \
                 `all`, `any` or `not`",
            ));
        }
        let needs_field = r.equals.is_some() || r.values.is_some() || r.filled.is_some();
        match (r.field, needs_field) {
            (None, true) => {
                return Err(D::Error::custom(
                    "`equals`, `in` and `filled` need the `field` they look at",
                ));
            }
            (Some(_), false) => {
                return Err(D::Error::custom(
                    "`field` goes with `equals`, `in` or `filled`, not with `all`, `any` or `not`",
                ));
            }
            (Some(field), true) => {
                if let Some(equals) = r.equals {
                    return Ok(Condition::Equals { field, equals });
                }
                if let Some(values) = r.values {
                    return Ok(Condition::In { field, values });
                }
                let filled = Condition::Filled { field };
                return Ok(if r.filled == Some(false) {
                    Condition::Not(Box::new(filled))
                } else {
                    filled
                });
            }
            (None, false) => {}
        }
        if let Some(all) = r.all {
            Ok(Condition::All(all))
        } else if let Some(any) = r.any {
            Ok(Condition::Any(any))
        } else if let Some(not) = r.not {
            Ok(Condition::Not(not))
        } else {
            Err(D::Error::custom("empty condition"))
        }
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Condition::Equals { field, equals } => {
                let mut m = serializer.serialize_map(Some(2))?;
                m.serialize_entry("field", field)?;
                m.serialize_entry("equals", equals)?;
                m.end()
            }
            Condition::In { field, values } => {
                let mut m = serializer.serialize_map(Some(2))?;
                m.serialize_entry("field", field)?;
                m.serialize_entry("in", values)?;
                m.end()
            }
            Condition::Filled { field } => {
                let mut m = serializer.serialize_map(Some(2))?;
                m.serialize_entry("field", field)?;
                m.serialize_entry("filled", &true)?;
                m.end()
            }
            Condition::All(cs) => {
                let mut m = serializer.serialize_map(Some(1))?;
                m.serialize_entry("all", cs)?;
                m.end()
            }
            Condition::Any(cs) => {
                let mut m = serializer.serialize_map(Some(1))?;
                m.serialize_entry("any", cs)?;
                m.end()
            }
            Condition::Not(c) => {
                let mut m = serializer.serialize_map(Some(1))?;
                m.serialize_entry("not", c)?;
                m.end()
            }
        }
    }
}

/// Where a field's value can be prefilled from; the app layer does the reading, and the
/// applicant can still change the value. Written with the tag `from`:
/// `{from: account, attribute: name}`, `{from: shared_data, resource: …, field: …}`,
/// `{from: certificate, certificate_type: …, field: …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case", deny_unknown_fields)]
pub enum Prefill {
    /// An attribute of the signed-in account.
    Account {
        /// Which attribute.
        attribute: AccountAttribute,
    },
    /// A field of a data-platform resource about the applicant.
    SharedData {
        /// Code of the data resource.
        resource: String,
        /// Field of the resource.
        field: String,
    },
    /// A field of the applicant's valid electronic certificate of a type.
    Certificate {
        /// Code of the certificate type.
        certificate_type: String,
        /// Field of the certificate.
        field: String,
    },
}

/// An attribute of the signed-in account that can prefill a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountAttribute {
    /// The person's real name (text field).
    Name,
    /// The person's resident ID number (resident ID field).
    ResidentId,
    /// The verified mobile number (phone field).
    Phone,
    /// The enterprise's name (text field).
    OrganisationName,
    /// The enterprise's unified social credit code (credit code field).
    CreditCode,
}

impl AccountAttribute {
    /// Whether a field of `kind` can hold this attribute.
    pub fn fits(self, kind: &FieldKind) -> bool {
        matches!(
            (self, kind),
            (
                AccountAttribute::Name | AccountAttribute::OrganisationName,
                FieldKind::Text { .. }
            ) | (AccountAttribute::ResidentId, FieldKind::ResidentId)
                | (AccountAttribute::Phone, FieldKind::Phone)
                | (AccountAttribute::CreditCode, FieldKind::CreditCode)
        )
    }
}

impl fmt::Display for AccountAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AccountAttribute::Name => "name",
            AccountAttribute::ResidentId => "resident_id",
            AccountAttribute::Phone => "phone",
            AccountAttribute::OrganisationName => "organisation_name",
            AccountAttribute::CreditCode => "credit_code",
        })
    }
}

impl FormSchema {
    /// Every problem of the definition, each with its path (`sections[1].fields[3]`); empty when
    /// the definition may be saved. See [`SchemaProblemKind`] for the rules.
    pub fn check(&self) -> Vec<SchemaProblem> {
        check::check(self)
    }

    /// The top-level fields of all sections, in order (children of groups not included).
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.sections.iter().flat_map(|s| s.fields.iter())
    }

    /// A top-level field by key.
    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields().find(|f| f.key == key)
    }

    /// Keys of the top-level fields marked required (whether visible or not), in order.
    pub fn required_keys(&self) -> Vec<&str> {
        self.fields()
            .filter(|f| f.required)
            .map(|f| f.key.as_str())
            .collect()
    }

    /// Whether a top-level `field` is visible given the form's `values` (raw or normalised):
    /// its condition holds and every field the condition refers to is visible itself. For a
    /// child of a group use [`FormSchema::is_visible_in_item`].
    pub fn is_visible(&self, field: &Field, values: &FormValues) -> bool {
        visibility::Scope::top(self, values).visible(field)
    }

    /// Whether `child`, a field of the group `group`, is visible in one item of the group:
    /// `item` holds the item's values and `values` the form's top-level values.
    pub fn is_visible_in_item(
        &self,
        group: &Field,
        child: &Field,
        item: &FormValues,
        values: &FormValues,
    ) -> bool {
        visibility::Scope::top(self, values)
            .in_group(group.children(), item)
            .visible(child)
    }

    /// Validates a submission: every problem at once, or the normalised values (hidden and
    /// blank fields left out). `today` is the civil date in Asia/Shanghai.
    pub fn validate(
        &self,
        values: &FormValues,
        today: Date,
    ) -> Result<FormValues, Vec<FieldError>> {
        validate::validate(self, values, today, false)
    }

    /// Validates a draft: like [`FormSchema::validate`], but nothing missing is an error
    /// (required fields, half an address, minimum counts); malformed values still are.
    pub fn validate_draft(
        &self,
        values: &FormValues,
        today: Date,
    ) -> Result<FormValues, Vec<FieldError>> {
        validate::validate(self, values, today, true)
    }
}

/// Checks the values sent for something that has no form (an item that asks for nothing
/// beyond its materials): there must be none, and each one sent is a `form_unknown_field`.
pub fn validate_no_form(values: &FormValues) -> Result<(), Vec<FieldError>> {
    validate::no_form(values)
}

#[cfg(test)]
mod tests;
