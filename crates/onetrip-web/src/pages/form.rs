//! The form engine on a page: a [`FormSchema`] with its values and problems turned into
//! what the templates draw (sections, fields by kind, repeated groups, the problems next to
//! their fields), and a posted HTML form turned back into [`FormValues`].
//!
//! Names of the inputs follow the problem paths of the domain: `baby_name`,
//! `birth_place.division_code`, `family_members[1].resident_id`, so that a problem finds its
//! field. Visibility is decided on the server from the values known when the page is drawn;
//! a field that a posted answer reveals is shown with its problem on the next page.

use std::collections::BTreeMap;

use onetrip_domain::form::{Field, FieldKind, FormSchema, FormValues, Prefill};
use serde_json::Value;

use super::Page;

/// An option of a choice.
pub struct OptionView {
    /// Value.
    pub value: String,
    /// Label in the page's language.
    pub label: String,
    /// Chosen.
    pub checked: bool,
}

/// One field as drawn.
pub struct FieldView {
    /// Element id (`f-family_members-1-resident_id`).
    pub id: String,
    /// Input name (`family_members[1].resident_id`).
    pub name: String,
    /// Label.
    pub label: String,
    /// Hint under the label.
    pub help: Option<String>,
    /// How it is drawn: the kind's type name (`text`, `multi_choice`, `address`, `group`…),
    /// or `textarea` for multi-line text.
    pub kind: &'static str,
    /// Required.
    pub required: bool,
    /// Current value as text (for an address: its detail).
    pub value: String,
    /// Division code of an address.
    pub division: String,
    /// Options of a choice.
    pub options: Vec<OptionView>,
    /// The problem with it, in the page's language.
    pub error: Option<String>,
    /// Key of the text naming where a prefilled value came from.
    pub source_key: Option<&'static str>,
    /// Rows of a group.
    pub rows: Vec<Vec<FieldView>>,
    /// Whether a group may get another row.
    pub can_add: bool,
    /// The file types a file input offers (its `accept` attribute), comma-separated.
    pub accept: String,
}

/// A section as drawn.
pub struct SectionView {
    /// Title.
    pub title: String,
    /// Its visible fields.
    pub fields: Vec<FieldView>,
}

/// Problems by input name, in the page's language.
pub type Problems = BTreeMap<String, String>;

/// The problem of a field: its own, or the first of its parts (`birth_place.detail`).
fn problem_of(problems: &Problems, name: &str) -> Option<String> {
    problems.get(name).cloned().or_else(|| {
        problems
            .iter()
            .find(|(k, _)| {
                k.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('.'))
            })
            .map(|(_, v)| v.clone())
    })
}

fn id_of(name: &str) -> String {
    let mut id = String::from("f-");
    for c in name.chars() {
        id.push(if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            c
        } else {
            '-'
        });
    }
    while id.ends_with('-') {
        id.pop();
    }
    id
}

/// The element id of the input a problem at `path` points at.
pub fn anchor(path: &str) -> String {
    // An address draws its division picker with the field's own id and its detail with
    // `-detail` after it.
    if let Some(base) = path.strip_suffix(".division_code") {
        return id_of(base);
    }
    if let Some(base) = path.strip_suffix(".detail") {
        return format!("{}-detail", id_of(base));
    }
    id_of(path)
}

fn text_of(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn kind_of(kind: &FieldKind) -> &'static str {
    match kind {
        FieldKind::Text {
            multiline: true, ..
        } => "textarea",
        other => other.type_name(),
    }
}

fn source_key(prefill: Option<&Prefill>) -> Option<&'static str> {
    match prefill? {
        Prefill::Account { .. } => Some("prefill-account"),
        Prefill::SharedData { .. } => Some("prefill-shared-data"),
        Prefill::Certificate { .. } => Some("prefill-certificate"),
    }
}

fn field_view(
    page: &Page,
    field: &Field,
    name: String,
    value: Option<&Value>,
    problems: &Problems,
) -> FieldView {
    let mut view = FieldView {
        id: id_of(&name),
        label: page
            .pick(&field.label, field.label_en.as_deref())
            .to_string(),
        help: field
            .help
            .as_deref()
            .map(|h| page.pick(h, field.help_en.as_deref()).to_string()),
        kind: kind_of(&field.kind),
        required: field.required,
        value: String::new(),
        division: String::new(),
        options: Vec::new(),
        error: problem_of(problems, &name),
        source_key: value
            .filter(|v| !v.is_null())
            .and_then(|_| source_key(field.prefill.as_ref())),
        rows: Vec::new(),
        can_add: false,
        accept: String::new(),
        name,
    };
    match &field.kind {
        FieldKind::Choice { options } | FieldKind::MultiChoice { options, .. } => {
            let chosen: Vec<String> = match value {
                Some(Value::Array(list)) => list.iter().map(|v| text_of(Some(v))).collect(),
                other => vec![text_of(other)],
            };
            view.options = options
                .iter()
                .map(|o| OptionView {
                    value: o.value.clone(),
                    label: page.pick(&o.label, o.label_en.as_deref()).to_string(),
                    checked: chosen.contains(&o.value),
                })
                .collect();
        }
        FieldKind::Address => {
            if let Some(Value::Object(a)) = value {
                view.division = text_of(a.get("division_code"));
                view.value = text_of(a.get("detail"));
            }
        }
        FieldKind::Money { .. } => {
            // Stored in integer fen, shown in yuan.
            view.value = match value {
                Some(Value::Number(n)) => n
                    .as_i64()
                    .map(|fen| format!("{}.{:02}", fen / 100, (fen % 100).abs()))
                    .unwrap_or_default(),
                other => text_of(other),
            };
        }
        FieldKind::File { accept, .. } => {
            if let Some(Value::Object(f)) = value {
                view.value = text_of(f.get("name"));
            }
            view.accept = accept.join(",");
        }
        FieldKind::Group {
            fields, max_items, ..
        } => {
            let rows: Vec<&FormValues> = match value {
                Some(Value::Array(list)) => list.iter().filter_map(Value::as_object).collect(),
                _ => Vec::new(),
            };
            view.can_add = max_items.is_none_or(|m| rows.len() < m as usize);
            view.rows = rows
                .iter()
                .enumerate()
                .map(|(i, row)| {
                    fields
                        .iter()
                        .filter(|f| f.visible_when.as_ref().is_none_or(|c| c.holds(row)))
                        .map(|f| {
                            field_view(
                                page,
                                f,
                                format!("{}[{i}].{}", view.name, f.key),
                                row.get(&f.key),
                                problems,
                            )
                        })
                        .collect()
                })
                .collect();
        }
        _ => view.value = text_of(value),
    }
    view
}

/// The sections of `schema` with their visible fields, for `values` and `problems`.
pub fn sections(
    page: &Page,
    schema: &FormSchema,
    values: &FormValues,
    problems: &Problems,
) -> Vec<SectionView> {
    schema
        .sections
        .iter()
        .map(|s| SectionView {
            title: page.pick(&s.title, s.title_en.as_deref()).to_string(),
            fields: s
                .fields
                .iter()
                .filter(|f| f.visible_when.as_ref().is_none_or(|c| c.holds(values)))
                .map(|f| field_view(page, f, f.key.clone(), values.get(&f.key), problems))
                .collect(),
        })
        .filter(|s| !s.fields.is_empty())
        .collect()
}

fn posted<'a>(pairs: &'a [(String, String)], name: &str) -> impl Iterator<Item = &'a str> {
    pairs
        .iter()
        .filter(move |(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// The value of one field from the posted pairs under `name`; `None` when nothing was filled
/// in.
fn posted_value(field: &Field, name: &str, pairs: &[(String, String)]) -> Option<Value> {
    match &field.kind {
        FieldKind::MultiChoice { .. } => {
            let list: Vec<Value> = posted(pairs, name)
                .map(|v| Value::String(v.to_string()))
                .collect();
            (!list.is_empty()).then_some(Value::Array(list))
        }
        FieldKind::Address => {
            let division = posted(pairs, &format!("{name}.division_code")).next();
            let detail = posted(pairs, &format!("{name}.detail")).next();
            if division.is_none() && detail.is_none() {
                return None;
            }
            let mut address = serde_json::Map::new();
            address.insert("division_code".into(), division.unwrap_or_default().into());
            address.insert("detail".into(), detail.unwrap_or_default().into());
            Some(Value::Object(address))
        }
        FieldKind::Group { fields, .. } => {
            let prefix = format!("{name}[");
            let mut indexes: Vec<usize> = pairs
                .iter()
                .filter_map(|(k, _)| k.strip_prefix(&prefix)?.split_once(']')?.0.parse().ok())
                .collect();
            indexes.sort_unstable();
            indexes.dedup();
            let rows: Vec<Value> = indexes
                .into_iter()
                .filter_map(|i| {
                    let row: FormValues = fields
                        .iter()
                        .filter_map(|f| {
                            posted_value(f, &format!("{name}[{i}].{}", f.key), pairs)
                                .map(|v| (f.key.clone(), v))
                        })
                        .collect();
                    (!row.is_empty()).then_some(Value::Object(row))
                })
                .collect();
            (!rows.is_empty()).then_some(Value::Array(rows))
        }
        FieldKind::File { .. } => None,
        _ => posted(pairs, name)
            .next()
            .map(|v| Value::String(v.to_string())),
    }
}

/// The form's values after a post: every field that was on the page takes what was posted
/// (cleared when left empty); fields that were not on the page (hidden, files) keep their
/// earlier value.
pub fn values_from_post(
    schema: &FormSchema,
    earlier: &FormValues,
    pairs: &[(String, String)],
) -> FormValues {
    let shown: Vec<&str> = pairs
        .iter()
        .filter_map(|(k, v)| (k == "shown").then_some(v.as_str()))
        .collect();
    let mut values = earlier.clone();
    for field in schema.fields() {
        if !shown.contains(&field.key.as_str()) {
            continue;
        }
        match posted_value(field, &field.key, pairs) {
            Some(v) => {
                values.insert(field.key.clone(), v);
            }
            None if matches!(field.kind, FieldKind::File { .. }) => {}
            None => {
                values.remove(&field.key);
            }
        }
    }
    values
}

/// Adds or removes a row of a group when the post asks for it (`add=<group>`, or
/// `remove=<group>:<index>`); whether it did (the form is then shown again, not checked).
pub fn row_change(
    schema: &FormSchema,
    values: &mut FormValues,
    pairs: &[(String, String)],
) -> bool {
    if let Some(key) = super::first(pairs, "add") {
        if schema.field(key).is_some() {
            add_row(values, key);
        }
        true
    } else if let Some((key, index)) =
        super::first(pairs, "remove").and_then(|v| v.rsplit_once(':'))
    {
        if let Ok(i) = index.parse() {
            remove_row(values, key, i);
        }
        true
    } else {
        false
    }
}

/// Every problem of `values` for `schema`, by input name, in the page's language.
pub fn check(
    page: &Page,
    schema: &FormSchema,
    values: &FormValues,
    today: jiff::civil::Date,
) -> Problems {
    match schema.validate(values, today) {
        Ok(_) => Problems::new(),
        Err(list) => list
            .into_iter()
            .map(|e| (e.path, if page.en { e.message_en } else { e.message_zh }))
            .collect(),
    }
}

/// Adds an empty row to the group `key`.
pub fn add_row(values: &mut FormValues, key: &str) {
    let rows = values
        .entry(key.to_string())
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = rows {
        list.push(Value::Object(serde_json::Map::new()));
    }
}

/// Removes row `index` of the group `key`.
pub fn remove_row(values: &mut FormValues, key: &str, index: usize) {
    if let Some(Value::Array(list)) = values.get_mut(key)
        && index < list.len()
    {
        list.remove(index);
        if list.is_empty() {
            values.remove(key);
        }
    }
}

/// The values as the check-your-answers page lists them: label and text, in form order,
/// visible fields only.
pub fn summary(page: &Page, schema: &FormSchema, values: &FormValues) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for section in sections(page, schema, values, &Problems::new()) {
        for f in section.fields {
            let text = match f.kind {
                "choice" | "multi_choice" => f
                    .options
                    .iter()
                    .filter(|o| o.checked)
                    .map(|o| o.label.clone())
                    .collect::<Vec<_>>()
                    .join("、"),
                "address" => format!("{} {}", f.division, f.value).trim().to_string(),
                "group" => f
                    .rows
                    .iter()
                    .map(|row| {
                        row.iter()
                            .map(|c| match c.kind {
                                "choice" => c
                                    .options
                                    .iter()
                                    .filter(|o| o.checked)
                                    .map(|o| o.label.clone())
                                    .collect::<Vec<_>>()
                                    .join("、"),
                                _ => c.value.clone(),
                            })
                            .filter(|t| !t.is_empty())
                            .collect::<Vec<_>>()
                            .join(" / ")
                    })
                    .collect::<Vec<_>>()
                    .join("；"),
                _ => f.value.clone(),
            };
            out.push((f.label, text));
        }
    }
    out
}
