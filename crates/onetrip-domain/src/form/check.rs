//! [`FormSchema::check`]: the problems of a form definition, all at once.

use std::collections::HashMap;

use serde_json::Value;

use super::value::{Ctx, is_blank, normalise};
use super::{Condition, Field, FieldKind, FormSchema, Prefill};
use crate::Localized;

/// A problem of a form definition, with the path of the offending part
/// (`sections[1].fields[3].visible_when`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", Localized::message_en(self))]
pub struct SchemaProblem {
    /// Path inside the definition.
    pub path: String,
    /// What is wrong.
    pub kind: SchemaProblemKind,
}

impl SchemaProblem {
    fn new(path: impl Into<String>, kind: SchemaProblemKind) -> Self {
        SchemaProblem {
            path: path.into(),
            kind,
        }
    }
}

/// What is wrong with a form definition. Each variant's stable code is in its documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaProblemKind {
    /// A key (form code, section or field key) is empty. `form_schema_empty_key`.
    EmptyKey,
    /// A key is not letters, digits and `_` starting with a letter, at most 64 characters.
    /// `form_schema_key_format`.
    KeyFormat(String),
    /// A key is used twice (fields: in the whole form, or within one group; sections: in the
    /// form). `form_schema_duplicate_key`.
    DuplicateKey {
        /// The key.
        key: String,
        /// Path of its first use.
        first: String,
    },
    /// A title, label or prefill source is empty. `form_schema_blank`.
    Blank,
    /// The version is 0 (versions start at 1). `form_schema_version`.
    Version,
    /// A form without sections or a section without fields. `form_schema_no_fields`.
    NoFields,
    /// A condition refers to a field that does not exist. `form_schema_unknown_field`.
    UnknownField(String),
    /// A condition refers to the field itself or to a field that comes later.
    /// `form_schema_forward_reference`.
    ForwardReference(String),
    /// A condition refers to a child of a group from outside that group.
    /// `form_schema_group_reference`.
    GroupReference {
        /// The child's key.
        field: String,
        /// The group's key.
        group: String,
    },
    /// `all`, `any` or `in` with an empty list. `form_schema_empty_condition`.
    EmptyCondition,
    /// A condition compares a field with a value it can never have (not an option, not a
    /// number…), or compares an address, file or group (only `filled` applies to those).
    /// `form_schema_condition_value`.
    ConditionValue {
        /// The field compared.
        field: String,
        /// The value, as JSON.
        value: String,
    },
    /// A choice without options. `form_schema_no_options`.
    NoOptions,
    /// Two options of a choice with the same value. `form_schema_duplicate_option`.
    DuplicateOption(String),
    /// A minimum above the maximum. `form_schema_min_above_max`.
    MinAboveMax {
        /// The minimum.
        min: i128,
        /// The maximum.
        max: i128,
    },
    /// A maximum of 0 (length, items, bytes, options). `form_schema_zero_max`.
    ZeroMax,
    /// A multi-choice requiring more options than it has. `form_schema_min_above_options`.
    MinAboveOptions {
        /// The minimum.
        min: u32,
        /// Number of options.
        options: usize,
    },
    /// A group without fields. `form_schema_empty_group`.
    EmptyGroup,
    /// A group inside a group (groups do not nest). `form_schema_nested_group`.
    NestedGroup,
    /// A prefill on a group or file field. `form_schema_prefill_not_allowed`.
    PrefillNotAllowed(&'static str),
    /// An account attribute prefilling a field of the wrong kind (a name into a phone field).
    /// `form_schema_prefill_kind`.
    PrefillKind {
        /// The attribute.
        attribute: String,
        /// The field's `type`.
        kind: &'static str,
    },
    /// An accepted media type that is not `type/subtype` or `type/*`. `form_schema_media_type`.
    MediaType(String),
}

impl Localized for SchemaProblem {
    fn code(&self) -> &'static str {
        use SchemaProblemKind as K;
        match &self.kind {
            K::EmptyKey => "form_schema_empty_key",
            K::KeyFormat(_) => "form_schema_key_format",
            K::DuplicateKey { .. } => "form_schema_duplicate_key",
            K::Blank => "form_schema_blank",
            K::Version => "form_schema_version",
            K::NoFields => "form_schema_no_fields",
            K::UnknownField(_) => "form_schema_unknown_field",
            K::ForwardReference(_) => "form_schema_forward_reference",
            K::GroupReference { .. } => "form_schema_group_reference",
            K::EmptyCondition => "form_schema_empty_condition",
            K::ConditionValue { .. } => "form_schema_condition_value",
            K::NoOptions => "form_schema_no_options",
            K::DuplicateOption(_) => "form_schema_duplicate_option",
            K::MinAboveMax { .. } => "form_schema_min_above_max",
            K::ZeroMax => "form_schema_zero_max",
            K::MinAboveOptions { .. } => "form_schema_min_above_options",
            K::EmptyGroup => "form_schema_empty_group",
            K::NestedGroup => "form_schema_nested_group",
            K::PrefillNotAllowed(_) => "form_schema_prefill_not_allowed",
            K::PrefillKind { .. } => "form_schema_prefill_kind",
            K::MediaType(_) => "form_schema_media_type",
        }
    }

    fn message_zh(&self) -> String {
        use SchemaProblemKind as K;
        let p = &self.path;
        match &self.kind {
            K::EmptyKey => format!("{p}：键不能为空"),
            K::KeyFormat(k) => format!(
                "{p}：键“{k}”格式不正确：只能使用字母、数字和下划线，以字母开头，最多64个字符"
            ),
            K::DuplicateKey { key, first } => {
                format!("{p}：键“{key}”重复（首次出现在 {first}）")
            }
            K::Blank => format!("{p}：不能为空"),
            K::Version => format!("{p}：版本号从1开始"),
            K::NoFields => format!("{p}：至少需要一个分区或填写项"),
            K::UnknownField(k) => format!("{p}：条件引用的填写项“{k}”不存在"),
            K::ForwardReference(k) => format!(
                "{p}：条件引用的填写项“{k}”是本项自身或排在本项之后：条件只能引用前面的填写项"
            ),
            K::GroupReference { field, group } => format!(
                "{p}：条件引用了重复组“{group}”内的填写项“{field}”：组外不能引用组内的填写项"
            ),
            K::EmptyCondition => format!("{p}：条件列表不能为空"),
            K::ConditionValue { field, value } => format!(
                "{p}：填写项“{field}”不可能取值 {value}（不是其选项或格式不符；地址、文件和\
                 重复组只能用 filled 判断）"
            ),
            K::NoOptions => format!("{p}：选择项至少需要一个选项"),
            K::DuplicateOption(v) => format!("{p}：选项值“{v}”重复"),
            K::MinAboveMax { min, max } => format!("{p}：下限{min}大于上限{max}"),
            K::ZeroMax => format!("{p}：上限不能为0"),
            K::MinAboveOptions { min, options } => {
                format!("{p}：至少要选{min}项，但只有{options}个选项")
            }
            K::EmptyGroup => format!("{p}：重复组至少需要一个填写项"),
            K::NestedGroup => format!("{p}：重复组内不能再嵌套重复组"),
            K::PrefillNotAllowed(kind) => format!("{p}：{kind} 类型的填写项不能预填"),
            K::PrefillKind { attribute, kind } => {
                format!("{p}：账号属性 {attribute} 不能预填到 {kind} 类型的填写项")
            }
            K::MediaType(m) => format!(
                "{p}：文件类型“{m}”格式不正确：应为“类型/子类型”，如 application/pdf 或 image/*"
            ),
        }
    }

    fn message_en(&self) -> String {
        use SchemaProblemKind as K;
        let p = &self.path;
        match &self.kind {
            K::EmptyKey => format!("{p}: the key must not be empty"),
            K::KeyFormat(k) => format!(
                "{p}: key \"{k}\" must be letters, digits and underscores, start with a letter \
                 and have at most 64 characters"
            ),
            K::DuplicateKey { key, first } => {
                format!("{p}: key \"{key}\" is used more than once (first at {first})")
            }
            K::Blank => format!("{p}: must not be empty"),
            K::Version => format!("{p}: versions start at 1"),
            K::NoFields => format!("{p}: at least one section or field is required"),
            K::UnknownField(k) => {
                format!("{p}: the condition refers to field \"{k}\", which does not exist")
            }
            K::ForwardReference(k) => format!(
                "{p}: the condition refers to field \"{k}\", which is this field or comes after \
                 it: conditions can only refer to earlier fields"
            ),
            K::GroupReference { field, group } => format!(
                "{p}: the condition refers to field \"{field}\" inside group \"{group}\": fields \
                 inside a group cannot be referred to from outside it"
            ),
            K::EmptyCondition => format!("{p}: the list of the condition must not be empty"),
            K::ConditionValue { field, value } => format!(
                "{p}: field \"{field}\" can never have the value {value} (not an option, or \
                 not of its kind; addresses, files and groups only support `filled`)"
            ),
            K::NoOptions => format!("{p}: a choice needs at least one option"),
            K::DuplicateOption(v) => format!("{p}: option value \"{v}\" is used more than once"),
            K::MinAboveMax { min, max } => {
                format!("{p}: the minimum {min} is above the maximum {max}")
            }
            K::ZeroMax => format!("{p}: the maximum must not be 0"),
            K::MinAboveOptions { min, options } => {
                format!("{p}: at least {min} options must be chosen, but there are only {options}")
            }
            K::EmptyGroup => format!("{p}: a group needs at least one field"),
            K::NestedGroup => format!("{p}: groups cannot contain groups"),
            K::PrefillNotAllowed(kind) => format!("{p}: a {kind} field cannot be prefilled"),
            K::PrefillKind { attribute, kind } => {
                format!("{p}: account attribute {attribute} cannot prefill a {kind} field")
            }
            K::MediaType(m) => format!(
                "{p}: media type \"{m}\" must be type/subtype, such as application/pdf or image/*"
            ),
        }
    }
}

/// Longest key.
const MAX_KEY_LEN: usize = 64;

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn check_key(key: &str, path: String, out: &mut Vec<SchemaProblem>) {
    if key.is_empty() {
        out.push(SchemaProblem::new(path, SchemaProblemKind::EmptyKey));
        return;
    }
    let b = key.as_bytes();
    let ok = b.len() <= MAX_KEY_LEN
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_');
    if !ok {
        out.push(SchemaProblem::new(
            path,
            SchemaProblemKind::KeyFormat(key.to_owned()),
        ));
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
}

fn is_media_pattern(s: &str) -> bool {
    match s.split_once('/') {
        Some(("*", "*")) => true,
        Some((t, "*")) => is_token(t),
        Some((t, sub)) => is_token(t) && is_token(sub),
        None => false,
    }
}

/// Where a condition is evaluated, for resolving the fields it names.
#[derive(Clone, Copy)]
struct Place<'a> {
    /// Position of the top-level field (or of the group holding the field).
    top_index: usize,
    /// For a child of a group: the group's fields and the child's position among them.
    group: Option<(&'a [Field], usize)>,
}

/// The top-level fields, by key, and the children of groups.
struct Index<'a> {
    top: HashMap<&'a str, (usize, &'a Field)>,
    /// Child key → key of the (first) group holding it.
    children: HashMap<&'a str, &'a str>,
}

impl<'a> Index<'a> {
    /// The field a condition at `place` can refer to as `key`, or the problem.
    fn resolve(&self, key: &str, place: Place<'a>) -> Result<&'a Field, SchemaProblemKind> {
        if let Some((siblings, own)) = place.group
            && let Some(i) = siblings.iter().position(|f| f.key == key)
        {
            return if i < own {
                Ok(&siblings[i])
            } else {
                Err(SchemaProblemKind::ForwardReference(key.to_owned()))
            };
        }
        match self.top.get(key) {
            Some((i, f)) if *i < place.top_index => Ok(f),
            Some(_) => Err(SchemaProblemKind::ForwardReference(key.to_owned())),
            None => Err(match self.children.get(key) {
                Some(group) => SchemaProblemKind::GroupReference {
                    field: key.to_owned(),
                    group: (*group).to_owned(),
                },
                None => SchemaProblemKind::UnknownField(key.to_owned()),
            }),
        }
    }
}

pub(super) fn check(schema: &FormSchema) -> Vec<SchemaProblem> {
    use SchemaProblemKind as K;
    let mut out = Vec::new();
    check_key(&schema.code, "code".into(), &mut out);
    if schema.version == 0 {
        out.push(SchemaProblem::new("version", K::Version));
    }
    if blank(&schema.title) {
        out.push(SchemaProblem::new("title", K::Blank));
    }
    if schema.sections.is_empty() {
        out.push(SchemaProblem::new("sections", K::NoFields));
    }

    let mut section_keys: HashMap<&str, String> = HashMap::new();
    let mut flat: Vec<(String, &Field)> = Vec::new();
    for (si, section) in schema.sections.iter().enumerate() {
        let path = format!("sections[{si}]");
        check_key(&section.key, format!("{path}.key"), &mut out);
        if !section.key.is_empty() {
            if let Some(first) = section_keys.get(section.key.as_str()) {
                out.push(SchemaProblem::new(
                    format!("{path}.key"),
                    K::DuplicateKey {
                        key: section.key.clone(),
                        first: first.clone(),
                    },
                ));
            } else {
                section_keys.insert(&section.key, path.clone());
            }
        }
        if blank(&section.title) {
            out.push(SchemaProblem::new(format!("{path}.title"), K::Blank));
        }
        if section.fields.is_empty() {
            out.push(SchemaProblem::new(format!("{path}.fields"), K::NoFields));
        }
        for (fi, field) in section.fields.iter().enumerate() {
            flat.push((format!("{path}.fields[{fi}]"), field));
        }
    }

    let mut index = Index {
        top: HashMap::new(),
        children: HashMap::new(),
    };
    let mut first_paths: HashMap<&str, &str> = HashMap::new();
    for (i, (path, field)) in flat.iter().enumerate() {
        check_key(&field.key, format!("{path}.key"), &mut out);
        if field.key.is_empty() {
            continue;
        }
        if let Some(first) = first_paths.get(field.key.as_str()) {
            out.push(SchemaProblem::new(
                format!("{path}.key"),
                K::DuplicateKey {
                    key: field.key.clone(),
                    first: (*first).to_owned(),
                },
            ));
        } else {
            first_paths.insert(&field.key, path);
            index.top.insert(&field.key, (i, field));
        }
        for child in field.children() {
            index
                .children
                .entry(child.key.as_str())
                .or_insert(field.key.as_str());
        }
    }

    for (i, (path, field)) in flat.iter().enumerate() {
        check_field(field, path, &mut out);
        let place = Place {
            top_index: i,
            group: None,
        };
        if let Some(c) = &field.visible_when {
            check_condition(c, &format!("{path}.visible_when"), &index, place, &mut out);
        }
        let FieldKind::Group { fields, .. } = &field.kind else {
            continue;
        };
        if fields.is_empty() {
            out.push(SchemaProblem::new(format!("{path}.fields"), K::EmptyGroup));
        }
        let mut child_paths: HashMap<&str, String> = HashMap::new();
        for (ci, child) in fields.iter().enumerate() {
            let cpath = format!("{path}.fields[{ci}]");
            check_key(&child.key, format!("{cpath}.key"), &mut out);
            if !child.key.is_empty() {
                if let Some(first) = child_paths.get(child.key.as_str()) {
                    out.push(SchemaProblem::new(
                        format!("{cpath}.key"),
                        K::DuplicateKey {
                            key: child.key.clone(),
                            first: first.clone(),
                        },
                    ));
                } else {
                    child_paths.insert(&child.key, cpath.clone());
                }
            }
            if matches!(child.kind, FieldKind::Group { .. }) {
                out.push(SchemaProblem::new(cpath.clone(), K::NestedGroup));
            }
            check_field(child, &cpath, &mut out);
            if let Some(c) = &child.visible_when {
                let place = Place {
                    top_index: i,
                    group: Some((fields, ci)),
                };
                check_condition(c, &format!("{cpath}.visible_when"), &index, place, &mut out);
            }
        }
    }
    out
}

/// The checks of one field on its own (not its key, condition or children).
fn check_field(field: &Field, path: &str, out: &mut Vec<SchemaProblem>) {
    use SchemaProblemKind as K;
    if blank(&field.label) {
        out.push(SchemaProblem::new(format!("{path}.label"), K::Blank));
    }
    let min_max = |min: i128, max: i128, out: &mut Vec<SchemaProblem>| {
        if min > max {
            out.push(SchemaProblem::new(path, K::MinAboveMax { min, max }));
        }
    };
    match &field.kind {
        FieldKind::Text { max_len, .. } => {
            if *max_len == Some(0) {
                out.push(SchemaProblem::new(format!("{path}.max_len"), K::ZeroMax));
            }
        }
        FieldKind::Number { min, max } => {
            if let (Some(min), Some(max)) = (min, max) {
                min_max(i128::from(*min), i128::from(*max), out);
            }
        }
        FieldKind::Money { min_fen, max_fen } => {
            if let Some(max) = max_fen {
                min_max(i128::from(min_fen.unwrap_or(0)), i128::from(*max), out);
            }
        }
        FieldKind::Choice { options } => check_options(options, path, out),
        FieldKind::MultiChoice { options, min, max } => {
            check_options(options, path, out);
            if let (Some(min), Some(max)) = (min, max) {
                min_max(i128::from(*min), i128::from(*max), out);
            }
            if *max == Some(0) {
                out.push(SchemaProblem::new(format!("{path}.max"), K::ZeroMax));
            }
            if let Some(min) =
                min.filter(|m| usize::try_from(*m).unwrap_or(usize::MAX) > options.len())
            {
                out.push(SchemaProblem::new(
                    format!("{path}.min"),
                    K::MinAboveOptions {
                        min,
                        options: options.len(),
                    },
                ));
            }
        }
        FieldKind::File { accept, max_bytes } => {
            if *max_bytes == Some(0) {
                out.push(SchemaProblem::new(format!("{path}.max_bytes"), K::ZeroMax));
            }
            for (i, a) in accept.iter().enumerate() {
                if !is_media_pattern(a.trim()) {
                    out.push(SchemaProblem::new(
                        format!("{path}.accept[{i}]"),
                        K::MediaType(a.clone()),
                    ));
                }
            }
        }
        FieldKind::Group {
            min_items,
            max_items,
            ..
        } => {
            if let Some(max) = max_items {
                min_max(i128::from(*min_items), i128::from(*max), out);
                if *max == 0 {
                    out.push(SchemaProblem::new(format!("{path}.max_items"), K::ZeroMax));
                }
            }
        }
        FieldKind::Date { .. }
        | FieldKind::ResidentId
        | FieldKind::CreditCode
        | FieldKind::Phone
        | FieldKind::Address => {}
    }
    if let Some(prefill) = &field.prefill {
        let ppath = format!("{path}.prefill");
        match (&field.kind, prefill) {
            (FieldKind::Group { .. } | FieldKind::File { .. }, _) => out.push(SchemaProblem::new(
                ppath,
                K::PrefillNotAllowed(field.kind.type_name()),
            )),
            (kind, Prefill::Account { attribute }) if !attribute.fits(kind) => {
                out.push(SchemaProblem::new(
                    ppath,
                    K::PrefillKind {
                        attribute: attribute.to_string(),
                        kind: kind.type_name(),
                    },
                ));
            }
            (_, Prefill::Account { .. }) => {}
            (_, Prefill::SharedData { resource, field }) => {
                if blank(resource) {
                    out.push(SchemaProblem::new(format!("{ppath}.resource"), K::Blank));
                }
                if blank(field) {
                    out.push(SchemaProblem::new(format!("{ppath}.field"), K::Blank));
                }
            }
            (
                _,
                Prefill::Certificate {
                    certificate_type,
                    field,
                },
            ) => {
                if blank(certificate_type) {
                    out.push(SchemaProblem::new(
                        format!("{ppath}.certificate_type"),
                        K::Blank,
                    ));
                }
                if blank(field) {
                    out.push(SchemaProblem::new(format!("{ppath}.field"), K::Blank));
                }
            }
        }
    }
}

fn check_options(options: &[super::ChoiceOption], path: &str, out: &mut Vec<SchemaProblem>) {
    use SchemaProblemKind as K;
    if options.is_empty() {
        out.push(SchemaProblem::new(format!("{path}.options"), K::NoOptions));
    }
    let mut seen: Vec<&str> = Vec::new();
    for (i, o) in options.iter().enumerate() {
        let opath = format!("{path}.options[{i}]");
        if blank(&o.value) {
            out.push(SchemaProblem::new(format!("{opath}.value"), K::Blank));
        } else if seen.contains(&o.value.trim()) {
            out.push(SchemaProblem::new(
                format!("{opath}.value"),
                K::DuplicateOption(o.value.clone()),
            ));
        } else {
            seen.push(o.value.trim());
        }
        if blank(&o.label) {
            out.push(SchemaProblem::new(format!("{opath}.label"), K::Blank));
        }
    }
}

fn check_condition<'a>(
    condition: &Condition,
    path: &str,
    index: &Index<'a>,
    place: Place<'a>,
    out: &mut Vec<SchemaProblem>,
) {
    use SchemaProblemKind as K;
    match condition {
        Condition::Equals { field, equals } => {
            check_compared(field, std::slice::from_ref(equals), path, index, place, out);
        }
        Condition::In { field, values } => {
            if values.is_empty() {
                out.push(SchemaProblem::new(path, K::EmptyCondition));
            }
            check_compared(field, values, path, index, place, out);
        }
        Condition::Filled { field } => {
            if let Err(kind) = index.resolve(field, place) {
                out.push(SchemaProblem::new(path, kind));
            }
        }
        Condition::All(cs) | Condition::Any(cs) => {
            if cs.is_empty() {
                out.push(SchemaProblem::new(path, K::EmptyCondition));
            }
            let key = if matches!(condition, Condition::All(_)) {
                "all"
            } else {
                "any"
            };
            for (i, c) in cs.iter().enumerate() {
                check_condition(c, &format!("{path}.{key}[{i}]"), index, place, out);
            }
        }
        Condition::Not(c) => check_condition(c, &format!("{path}.not"), index, place, out),
    }
}

/// Checks that `field` can be referred to and can take each of `values`.
fn check_compared<'a>(
    key: &str,
    values: &[Value],
    path: &str,
    index: &Index<'a>,
    place: Place<'a>,
    out: &mut Vec<SchemaProblem>,
) {
    let field = match index.resolve(key, place) {
        Ok(f) => f,
        Err(kind) => {
            out.push(SchemaProblem::new(path, kind));
            return;
        }
    };
    let shape = Ctx {
        today: None,
        draft: true,
    };
    for v in values {
        let possible = match &field.kind {
            FieldKind::Group { .. } | FieldKind::File { .. } | FieldKind::Address => false,
            // Blank: "not filled", which any field can be.
            _ if is_blank(v) => true,
            kind => normalise(kind, v, shape).is_ok(),
        };
        if !possible {
            out.push(SchemaProblem::new(
                path,
                SchemaProblemKind::ConditionValue {
                    field: key.to_owned(),
                    value: v.to_string(),
                },
            ));
        }
    }
}
