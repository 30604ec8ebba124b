//! Validating a whole form: visibility, required fields, unknown keys, groups item by item.

use jiff::civil::Date;
use serde_json::Value;

use super::error::{Expected, FieldError, Label, Problem, Verb};
use super::value::{Ctx, is_blank, normalise};
use super::visibility::Scope;
use super::{Field, FieldKind, FormSchema, FormValues};

/// Collects the errors of one validation.
struct Run {
    ctx: Ctx,
    errors: Vec<FieldError>,
}

impl Run {
    fn push(&mut self, path: String, label: &Label, problem: &Problem) {
        self.errors.push(FieldError::new(path, label, problem));
    }
}

pub(super) fn validate(
    schema: &FormSchema,
    values: &FormValues,
    today: Date,
    draft: bool,
) -> Result<FormValues, Vec<FieldError>> {
    let mut run = Run {
        ctx: Ctx {
            today: Some(today),
            draft,
        },
        errors: Vec::new(),
    };
    let scope = Scope::top(schema, values);
    let out = level(&mut run, &scope, schema.fields(), values, "", None);
    for key in values.keys() {
        if schema.field(key).is_none() {
            run.push(key.clone(), &Label::key(key), &Problem::UnknownField);
        }
    }
    if run.errors.is_empty() {
        Ok(out)
    } else {
        Err(run.errors)
    }
}

pub(super) fn no_form(values: &FormValues) -> Result<(), Vec<FieldError>> {
    let errors: Vec<FieldError> = values
        .keys()
        .map(|key| FieldError::new(key.clone(), &Label::key(key), &Problem::UnknownField))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Validates the visible `fields` of one level (the top, or one item of a group whose label is
/// `item`) against `values`; paths are prefixed by `prefix`.
fn level<'f>(
    run: &mut Run,
    scope: &Scope<'_>,
    fields: impl Iterator<Item = &'f Field>,
    values: &FormValues,
    prefix: &str,
    item: Option<&Label>,
) -> FormValues {
    let mut out = FormValues::new();
    for field in fields {
        if !scope.visible(field) {
            continue;
        }
        let path = format!("{prefix}{}", field.key);
        let label = match item {
            Some(item) => item.child(field),
            None => Label::of(field),
        };
        if let Some(v) = one(run, scope, field, values.get(&field.key), &path, &label) {
            out.insert(field.key.clone(), v);
        }
    }
    out
}

/// Validates one visible field; the normalised value, or `None` when it is blank or invalid.
fn one(
    run: &mut Run,
    scope: &Scope<'_>,
    field: &Field,
    raw: Option<&Value>,
    path: &str,
    label: &Label,
) -> Option<Value> {
    let checked = match raw.filter(|v| !is_blank(v)) {
        None => Ok(None),
        Some(raw) => match &field.kind {
            FieldKind::Group {
                fields,
                min_items,
                max_items,
            } => group(run, scope, fields, *min_items, *max_items, raw, path, label).map(Some),
            kind => match normalise(kind, raw, run.ctx) {
                Ok(v) => Ok(Some(v)),
                Err(issues) => {
                    for issue in issues {
                        let part = issue.part.as_ref();
                        let sub = part.map(|p| p.suffix()).unwrap_or_default();
                        run.push(format!("{path}{sub}"), &label.part(part), &issue.problem);
                    }
                    Err(())
                }
            },
        },
    };
    match checked {
        Err(()) => None,
        Ok(Some(v)) if !is_blank(&v) => Some(v),
        Ok(_) => {
            if field.required && !run.ctx.draft {
                let verb = Verb::for_kind(&field.kind);
                run.push(path.to_owned(), label, &Problem::Required(verb));
            }
            None
        }
    }
}

/// Validates the items of a group (a value that is not blank).
#[allow(clippy::too_many_arguments)]
fn group(
    run: &mut Run,
    scope: &Scope<'_>,
    fields: &[Field],
    min_items: u32,
    max_items: Option<u32>,
    raw: &Value,
    path: &str,
    label: &Label,
) -> Result<Value, ()> {
    let Value::Array(items) = raw else {
        run.push(path.to_owned(), label, &Problem::WrongType(Expected::List));
        return Err(());
    };
    let before = run.errors.len();
    let count = u64::try_from(items.len()).unwrap_or(u64::MAX);
    if !run.ctx.draft && count < u64::from(min_items) {
        run.push(path.to_owned(), label, &Problem::GroupTooFew(min_items));
    }
    if let Some(max) = max_items.filter(|m| count > u64::from(*m)) {
        run.push(path.to_owned(), label, &Problem::GroupTooMany(max));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        let item_label = label.item(i);
        let Value::Object(item) = item else {
            run.push(item_path, &item_label, &Problem::WrongType(Expected::Item));
            continue;
        };
        let item_scope = scope.in_group(fields, item);
        let prefix = format!("{item_path}.");
        let normalised = level(
            run,
            &item_scope,
            fields.iter(),
            item,
            &prefix,
            Some(&item_label),
        );
        for key in item.keys() {
            if !fields.iter().any(|f| f.key == *key) {
                run.push(
                    format!("{prefix}{key}"),
                    &item_label.part(Some(&super::value::Part::Key(key.clone()))),
                    &Problem::UnknownField,
                );
            }
        }
        out.push(Value::Object(normalised));
    }
    if run.errors.len() > before {
        Err(())
    } else {
        Ok(Value::Array(out))
    }
}
