//! Evaluating visibility conditions.

use std::cell::RefCell;
use std::collections::HashMap;

use serde_json::Value;

use super::value::{Ctx, is_blank, normalise};
use super::{Condition, Field, FieldKind, FormSchema, FormValues};

/// Longest chain of conditions followed before giving up (the field is then hidden). Checked
/// schemas only refer backwards, so the chain is bounded by the number of fields anyway.
const MAX_DEPTH: usize = 128;

/// Where conditions are evaluated: the top level of the form, or one item of a group (whose
/// parent is the top level).
pub(super) struct Scope<'a> {
    schema: &'a FormSchema,
    /// The fields of the group, `None` at the top level.
    fields: Option<&'a [Field]>,
    /// The values at this level.
    values: &'a FormValues,
    parent: Option<&'a Scope<'a>>,
    /// Visibility of the fields of this level by address; `None` while being computed (a
    /// cycle, which only an unchecked schema can have, makes the field hidden).
    memo: RefCell<HashMap<usize, Option<bool>>>,
}

impl<'a> Scope<'a> {
    /// The top level of a form.
    pub fn top(schema: &'a FormSchema, values: &'a FormValues) -> Self {
        Scope {
            schema,
            fields: None,
            values,
            parent: None,
            memo: RefCell::default(),
        }
    }

    /// One item of a group inside this scope.
    pub fn in_group<'b>(&'b self, fields: &'b [Field], item: &'b FormValues) -> Scope<'b> {
        Scope {
            schema: self.schema,
            fields: Some(fields),
            values: item,
            parent: Some(self),
            memo: RefCell::default(),
        }
    }

    /// Whether `field`, a field of this level, is visible.
    pub fn visible(&self, field: &Field) -> bool {
        self.visible_at(field, 0)
    }

    fn visible_at(&self, field: &Field, depth: usize) -> bool {
        let Some(condition) = &field.visible_when else {
            return true;
        };
        let id = std::ptr::from_ref(field).addr();
        if let Some(known) = self.memo.borrow().get(&id) {
            return known.unwrap_or(false);
        }
        if depth > MAX_DEPTH {
            return false;
        }
        self.memo.borrow_mut().insert(id, None);
        let visible = self.eval(condition, depth) == Some(true);
        self.memo.borrow_mut().insert(id, Some(visible));
        visible
    }

    /// The condition's truth, or `None` when it refers to a hidden or unknown field.
    fn eval(&self, condition: &Condition, depth: usize) -> Option<bool> {
        match condition {
            Condition::Equals { field, equals } => {
                let (f, actual) = self.lookup(field, depth)?;
                Some(matches(f, &actual, equals))
            }
            Condition::In { field, values } => {
                let (f, actual) = self.lookup(field, depth)?;
                Some(values.iter().any(|v| matches(f, &actual, v)))
            }
            Condition::Filled { field } => {
                let (_, actual) = self.lookup(field, depth)?;
                Some(!actual.is_null())
            }
            Condition::All(cs) => {
                let results = cs
                    .iter()
                    .map(|c| self.eval(c, depth))
                    .collect::<Option<Vec<bool>>>()?;
                Some(results.into_iter().all(|b| b))
            }
            Condition::Any(cs) => {
                let results = cs
                    .iter()
                    .map(|c| self.eval(c, depth))
                    .collect::<Option<Vec<bool>>>()?;
                Some(results.into_iter().any(|b| b))
            }
            Condition::Not(c) => self.eval(c, depth).map(|b| !b),
        }
    }

    /// The field `key` refers to from this level (a sibling first, then the enclosing level)
    /// and its canonical value (`Null` when blank); `None` if it is unknown or hidden.
    fn lookup(&self, key: &str, depth: usize) -> Option<(&'a Field, Value)> {
        let found = match self.fields {
            Some(fields) => fields.iter().find(|f| f.key == key),
            None => self.schema.field(key),
        };
        match found {
            Some(f) => {
                if !self.visible_at(f, depth + 1) {
                    return None;
                }
                Some((f, canonical(f, self.values.get(key))))
            }
            None => self.parent?.lookup(key, depth),
        }
    }
}

/// The value a condition sees: `Null` when blank, the normalised value when it is valid (dates
/// relative to today are not checked), the raw value otherwise.
pub(super) fn canonical(field: &Field, raw: Option<&Value>) -> Value {
    let Some(raw) = raw.filter(|v| !is_blank(v)) else {
        return Value::Null;
    };
    let v = match &field.kind {
        // Only `filled` makes sense on these; keep the value as it is.
        FieldKind::Group { .. } | FieldKind::File { .. } | FieldKind::Address => raw.clone(),
        kind => normalise(
            kind,
            raw,
            Ctx {
                today: None,
                draft: true,
            },
        )
        .unwrap_or_else(|_| raw.clone()),
    };
    if is_blank(&v) { Value::Null } else { v }
}

/// Whether the canonical `actual` value of `field` matches `expected` (as written).
fn matches(field: &Field, actual: &Value, expected: &Value) -> bool {
    if let (FieldKind::MultiChoice { .. }, Value::String(_)) = (&field.kind, expected) {
        // One value on a multi-choice: is it among the chosen ones? (Its canonical form is a
        // one-element array.)
        let Value::Array(chosen) = actual else {
            return false;
        };
        return match canonical(field, Some(expected)) {
            Value::Array(e) => e.first().is_some_and(|x| chosen.contains(x)),
            other => chosen.contains(&other),
        };
    }
    *actual == canonical(field, Some(expected))
}
