//! Reading and writing catalog documents as JSON or YAML.
//!
//! A document is read in two passes so that an import reports every problem at once: first the
//! syntax (one error, with its line), then each division, department and item on its own, each
//! shape error with its path; [`crate::catalog`] then applies the consistency rules.

use std::path::Path;

use onetrip_domain::catalog::{Catalog, Rule, ServiceItem, Violation};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{AppError, Result};

/// A document format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentFormat {
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

impl DocumentFormat {
    /// The format a file name implies (`.json`, `.yaml`, `.yml`).
    pub fn from_path(path: &Path) -> Option<DocumentFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "json" => Some(DocumentFormat::Json),
            "yaml" | "yml" => Some(DocumentFormat::Yaml),
            _ => None,
        }
    }

    /// Guesses from the content: JSON documents start with `{` or `[`.
    pub fn sniff(text: &str) -> DocumentFormat {
        match text.trim_start().chars().next() {
            Some('{') | Some('[') => DocumentFormat::Json,
            _ => DocumentFormat::Yaml,
        }
    }
}

/// Reads a document into a JSON value (syntax only).
pub fn parse_value(text: &str, format: DocumentFormat) -> Result<Value> {
    match format {
        DocumentFormat::Json => serde_json::from_str(text).map_err(|e| {
            AppError::Unreadable(format!("JSON line {} column {}: {e}", e.line(), e.column()))
        }),
        DocumentFormat::Yaml => {
            serde_norway::from_str(text).map_err(|e| AppError::Unreadable(format!("YAML {e}")))
        }
    }
}

fn typed<T: DeserializeOwned>(value: Value, path: &str, out: &mut Vec<Violation>) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(v) => Some(v),
        Err(e) => {
            let inner = e.path().to_string();
            let full = if inner.is_empty() || inner == "." {
                path.to_string()
            } else if path.is_empty() {
                inner
            } else {
                format!("{path}.{inner}")
            };
            out.push(Violation::new(
                full,
                Rule::Malformed(e.into_inner().to_string()),
            ));
            None
        }
    }
}

fn list<T: DeserializeOwned>(
    root: &mut serde_json::Map<String, Value>,
    key: &str,
    out: &mut Vec<Violation>,
) -> Vec<T> {
    match root.remove(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(values)) => values
            .into_iter()
            .enumerate()
            .filter_map(|(i, v)| typed(v, &format!("{key}[{i}]"), out))
            .collect(),
        Some(_) => {
            out.push(Violation::new(
                key,
                Rule::Malformed("expected a list".into()),
            ));
            Vec::new()
        }
    }
}

/// Reads a catalog document, reporting every shape error (the consistency rules come after).
pub fn parse_catalog(text: &str, format: DocumentFormat) -> Result<Catalog, Vec<Violation>> {
    let value = parse_value(text, format)
        .map_err(|e| vec![Violation::new("", Rule::Malformed(e.to_string()))])?;
    catalog_from_value(value)
}

/// Shapes a JSON value into a catalog, reporting every shape error.
pub fn catalog_from_value(value: Value) -> Result<Catalog, Vec<Violation>> {
    let Value::Object(mut root) = value else {
        return Err(vec![Violation::new(
            "",
            Rule::Malformed("expected a document with divisions, departments and items".into()),
        )]);
    };
    let mut problems = Vec::new();
    let catalog = Catalog {
        divisions: list(&mut root, "divisions", &mut problems),
        departments: list(&mut root, "departments", &mut problems),
        items: list(&mut root, "items", &mut problems),
    };
    for key in root.keys() {
        problems.push(Violation::new(
            key.clone(),
            Rule::Malformed("unknown field (expected divisions, departments, items)".into()),
        ));
    }
    if problems.is_empty() {
        Ok(catalog)
    } else {
        Err(problems)
    }
}

/// Shapes a JSON value into one item, reporting the shape error with its path.
pub fn item_from_value(value: Value) -> Result<ServiceItem, Vec<Violation>> {
    let mut problems = Vec::new();
    match typed(value, "", &mut problems) {
        Some(item) => Ok(item),
        None => Err(problems),
    }
}

/// Writes a catalog as JSON (pretty) or YAML.
pub fn write_catalog(catalog: &Catalog, format: DocumentFormat) -> Result<String> {
    match format {
        DocumentFormat::Json => {
            serde_json::to_string_pretty(catalog).map_err(|e| AppError::Unreadable(e.to_string()))
        }
        DocumentFormat::Yaml => {
            serde_norway::to_string(catalog).map_err(|e| AppError::Unreadable(e.to_string()))
        }
    }
}
