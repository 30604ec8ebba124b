//! The catalog editor (事项管理): the list of items with search, and one item's editor with its
//! time limits, materials and situations. The editor is one form: every material and
//! situation is a group of fields, with an empty group to add one and a box to remove one.
//! Saving rebuilds the whole item document from the stored version and the posted fields and
//! publishes it with the same use case as `PUT /api/v1/items/{code}`, so each save that changes
//! something makes a new version. The domain's consistency problems (a situation naming a
//! material the item does not define, a duplicate code, a promised limit above the statutory
//! one…) come back next to the fields they concern, with everything typed kept.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use onetrip_app::catalog::ItemQuery;
use onetrip_domain::catalog::{Material, MaterialForm, MaterialSource, ServiceItem, Situation};
use serde::Deserialize;
use tower_sessions::Session;

use super::{Field, field_problems, ids, is_input_problem, lines, optional, place_problems};
use crate::Shared;
use crate::extract::{Path, Query};
use crate::pages::{Page, check_csrf, china_time, encode, form_pairs, ok, render};
use crate::problem::ApiError;

/// Items per page of the list.
const PAGE_SIZE: usize = 20;

/// The material forms, with the keys of their names.
const FORMS: [(&str, &str); 3] = [
    ("original", "admin-form-original"),
    ("copy", "admin-form-copy"),
    ("electronic", "admin-form-electronic"),
];

/// The material sources, with the keys of their names.
const SOURCES: [(&str, &str); 4] = [
    ("upload", "admin-source-upload"),
    ("certificate", "admin-source-certificate"),
    ("shared_data", "admin-source-shared_data"),
    ("bundle_output", "admin-source-bundle_output"),
];

/// Query of the item list.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Free text.
    pub q: Option<String>,
    /// Items to skip.
    pub offset: Option<usize>,
}

/// One item of the list.
pub struct ListRow {
    /// Implementation code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Department credit code.
    pub department: String,
    /// Status (snake_case).
    pub status: String,
    /// Current version.
    pub version: i64,
}

#[derive(Template)]
#[template(path = "pages/admin/catalog.html")]
struct ListPage {
    page: Page,
    q: String,
    total: u64,
    rows: Vec<ListRow>,
    prev_href: Option<String>,
    next_href: Option<String>,
}

/// `GET /admin/catalog`: the items, searched by text, with links to their editors.
pub async fn list(
    State(state): State<Shared>,
    page: Page,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let text = q.q.unwrap_or_default().trim().to_string();
    let offset = q.offset.unwrap_or(0);
    let found = state
        .app
        .find_items(&ItemQuery {
            text: (!text.is_empty()).then(|| text.clone()),
            include_cancelled: true,
            limit: PAGE_SIZE,
            offset,
            ..ItemQuery::default()
        })
        .await?;
    let href = |offset: usize| format!("/admin/catalog?q={}&offset={offset}", encode(&text));
    let rows = found
        .items
        .into_iter()
        .map(|h| ListRow {
            code: h.summary.implementation_code,
            name: h.summary.name,
            department: h.summary.department_code,
            status: h.summary.status,
            version: h.summary.version,
        })
        .collect();
    Ok(ok(&ListPage {
        page,
        q: text.clone(),
        total: found.total,
        rows,
        prev_href: (offset > 0).then(|| href(offset.saturating_sub(PAGE_SIZE))),
        next_href: ((offset + PAGE_SIZE) < usize::try_from(found.total).unwrap_or(usize::MAX))
            .then(|| href(offset + PAGE_SIZE)),
    }))
}

/// An option of a select.
pub struct Choice {
    /// Posted value.
    pub value: &'static str,
    /// Key of its name.
    pub key: &'static str,
    /// Chosen.
    pub selected: bool,
}

pub(super) fn choices(table: &[(&'static str, &'static str)], chosen: &str) -> Vec<Choice> {
    table
        .iter()
        .map(|&(value, key)| Choice {
            value,
            key,
            selected: value == chosen,
        })
        .collect()
}

/// A material of the editor.
pub struct MaterialRow {
    /// Added with this save (the empty group).
    pub added: bool,
    /// `materials[i].id`…
    pub id: Field,
    /// Name.
    pub name: Field,
    /// Required (ticked).
    pub required: Field,
    /// Original, copy or electronic.
    pub form: Field,
    /// Copies.
    pub count: Field,
    /// Source kind.
    pub source: Field,
    /// Certificate type, data resource or item of the source.
    pub source_ref: Field,
    /// May be supplied after acceptance (ticked).
    pub deferrable: Field,
    /// Remarks.
    pub notes: Field,
    /// Remove on save.
    pub remove: Field,
}

impl MaterialRow {
    /// The form's options.
    pub fn form_choices(&self) -> Vec<Choice> {
        choices(&FORMS, &self.form.value)
    }

    /// The source's options.
    pub fn source_choices(&self) -> Vec<Choice> {
        choices(&SOURCES, &self.source.value)
    }

    fn fields_mut(&mut self) -> [&mut Field; 10] {
        [
            &mut self.id,
            &mut self.name,
            &mut self.required,
            &mut self.form,
            &mut self.count,
            &mut self.source,
            &mut self.source_ref,
            &mut self.deferrable,
            &mut self.notes,
            &mut self.remove,
        ]
    }
}

/// A situation of the editor.
pub struct SituationRow {
    /// Added with this save (the empty group).
    pub added: bool,
    /// `situations[i].code`…
    pub code: Field,
    /// Name.
    pub name: Field,
    /// Conditions, one per line.
    pub conditions: Field,
    /// Ids of its materials, separated by commas or blanks.
    pub materials: Field,
    /// Promised limit, empty for the item's.
    pub promised_limit: Field,
    /// Guide text.
    pub guide: Field,
    /// Remove on save.
    pub remove: Field,
}

impl SituationRow {
    fn fields_mut(&mut self) -> [&mut Field; 7] {
        [
            &mut self.code,
            &mut self.name,
            &mut self.conditions,
            &mut self.materials,
            &mut self.promised_limit,
            &mut self.guide,
            &mut self.remove,
        ]
    }
}

/// The item-wide fields of the editor.
pub struct ItemFields {
    /// Name.
    pub name: Field,
    /// Statutory limit (working days).
    pub statutory_limit: Field,
    /// Promised limit (working days).
    pub promised_limit: Field,
    /// Explanation of the limits.
    pub limit_explanation: Field,
}

/// A version of the item.
pub struct VersionRow {
    /// Number.
    pub version: i64,
    /// Publication time, China time.
    pub at: String,
}

#[derive(Template)]
#[template(path = "pages/admin/item.html")]
struct ItemPage {
    page: Page,
    code: String,
    base_version: i64,
    item_name: String,
    base_code: String,
    department: String,
    division: String,
    item: ItemFields,
    materials: Vec<MaterialRow>,
    situations: Vec<SituationRow>,
    versions: Vec<VersionRow>,
    /// The version just saved.
    saved: Option<i64>,
    /// The last save changed nothing.
    unchanged: bool,
    /// Problems for the summary: anchor and message.
    errors: Vec<(String, String)>,
    /// Problems with parts of the item this page does not edit.
    other_problems: Vec<String>,
}

fn material_row(i: usize, m: &Material) -> MaterialRow {
    let p = |field: &str| format!("materials[{i}].{field}");
    let (source, source_ref) = match &m.source {
        MaterialSource::Upload => ("upload", String::new()),
        MaterialSource::Certificate { certificate_type } => {
            ("certificate", certificate_type.clone())
        }
        MaterialSource::SharedData { resource } => ("shared_data", resource.clone()),
        MaterialSource::BundleOutput { item } => ("bundle_output", item.clone()),
    };
    let form = match m.form {
        MaterialForm::Original => "original",
        MaterialForm::Copy => "copy",
        MaterialForm::Electronic => "electronic",
    };
    MaterialRow {
        added: false,
        id: Field::new(p("id"), m.id.clone()),
        name: Field::new(p("name"), m.name.clone()),
        required: Field::new(p("required"), if m.required { "1" } else { "" }),
        form: Field::new(p("form"), form),
        count: Field::new(p("count"), m.count.to_string()),
        source: Field::new(p("source"), source),
        source_ref: Field::new(p("source_ref"), source_ref),
        deferrable: Field::new(p("deferrable"), if m.deferrable { "1" } else { "" }),
        notes: Field::new(p("notes"), m.notes.clone().unwrap_or_default()),
        remove: Field::new(p("remove"), ""),
    }
}

fn empty_material(i: usize) -> MaterialRow {
    let mut row = material_row(
        i,
        &Material {
            id: String::new(),
            name: String::new(),
            required: true,
            form: MaterialForm::Original,
            count: 1,
            source: MaterialSource::Upload,
            deferrable: false,
            notes: None,
        },
    );
    row.added = true;
    row
}

fn situation_row(i: usize, s: &Situation) -> SituationRow {
    let p = |field: &str| format!("situations[{i}].{field}");
    SituationRow {
        added: false,
        code: Field::new(p("code"), s.code.clone()),
        name: Field::new(p("name"), s.name.clone()),
        conditions: Field::new(p("conditions"), s.conditions.join("\n")),
        materials: Field::new(p("materials"), s.materials.join(", ")),
        promised_limit: Field::new(
            p("promised_limit"),
            s.promised_limit.map(|d| d.to_string()).unwrap_or_default(),
        ),
        guide: Field::new(p("guide"), s.guide.clone()),
        remove: Field::new(p("remove"), ""),
    }
}

fn empty_situation(i: usize) -> SituationRow {
    let mut row = situation_row(
        i,
        &Situation {
            code: String::new(),
            name: String::new(),
            conditions: Vec::new(),
            materials: Vec::new(),
            promised_limit: None,
            guide: String::new(),
        },
    );
    row.added = true;
    row
}

fn item_fields(item: &ServiceItem) -> ItemFields {
    ItemFields {
        name: Field::new("name".into(), item.name.clone()),
        statutory_limit: Field::new("statutory_limit".into(), item.statutory_limit.to_string()),
        promised_limit: Field::new("promised_limit".into(), item.promised_limit.to_string()),
        limit_explanation: Field::new(
            "limit_explanation".into(),
            item.limit_explanation.clone().unwrap_or_default(),
        ),
    }
}

/// Query of the editor.
#[derive(Debug, Deserialize)]
pub struct ItemQueryParams {
    /// The version just saved.
    pub saved: Option<i64>,
    /// Set when the last save changed nothing.
    pub unchanged: Option<u8>,
}

/// What the editor shows around the form: the stored item and its versions.
struct Stored {
    item: ServiceItem,
    version: i64,
    versions: Vec<VersionRow>,
}

async fn stored(state: &Shared, code: &str) -> Result<Stored, ApiError> {
    let current = state.app.item(code).await?;
    let item = current.item().map_err(onetrip_app::AppError::from)?;
    let mut versions: Vec<VersionRow> = state
        .app
        .item_versions(code)
        .await?
        .into_iter()
        .map(|v| VersionRow {
            version: v.version,
            at: china_time(v.published_at),
        })
        .collect();
    versions.reverse();
    Ok(Stored {
        item,
        version: current.version,
        versions,
    })
}

fn editor(
    page: Page,
    code: &str,
    stored: Stored,
    item: ItemFields,
    mut materials: Vec<MaterialRow>,
    mut situations: Vec<SituationRow>,
) -> ItemPage {
    materials.push(empty_material(materials.len()));
    situations.push(empty_situation(situations.len()));
    ItemPage {
        page,
        code: code.to_string(),
        base_version: stored.version,
        item_name: stored.item.name.clone(),
        base_code: stored.item.base_code.clone(),
        department: stored.item.department_code.clone(),
        division: stored.item.division_code.clone(),
        item,
        materials,
        situations,
        versions: stored.versions,
        saved: None,
        unchanged: false,
        errors: Vec::new(),
        other_problems: Vec::new(),
    }
}

/// `GET /admin/catalog/items/{code}`: the editor of an item's current version.
pub async fn item_page(
    State(state): State<Shared>,
    page: Page,
    Path(code): Path<String>,
    Query(q): Query<ItemQueryParams>,
) -> Result<Response, ApiError> {
    let stored = stored(&state, &code).await?;
    let fields = item_fields(&stored.item);
    let materials = stored
        .item
        .materials
        .iter()
        .enumerate()
        .map(|(i, m)| material_row(i, m))
        .collect();
    let situations = stored
        .item
        .situations
        .iter()
        .enumerate()
        .map(|(i, s)| situation_row(i, s))
        .collect();
    let mut view = editor(page, &code, stored, fields, materials, situations);
    view.saved = q.saved;
    view.unchanged = q.unchanged.is_some();
    Ok(ok(&view))
}

/// The posted value of `name`, or empty.
fn posted(pairs: &BTreeMap<String, String>, name: &str) -> String {
    pairs.get(name).cloned().unwrap_or_default()
}

/// The materials and situations posted, in order, without the removed ones and the empty
/// groups, renumbered as they go into the document.
fn posted_rows(pairs: &[(String, String)]) -> (Vec<MaterialRow>, Vec<SituationRow>) {
    let map: BTreeMap<String, String> = pairs.iter().cloned().collect();
    let mut materials = Vec::new();
    let mut i = 0;
    while map.contains_key(&format!("materials[{i}].id")) {
        let p = |f: &str| posted(&map, &format!("materials[{i}].{f}"));
        let text = [p("id"), p("name"), p("notes"), p("source_ref")];
        let empty = text.iter().all(|t| t.trim().is_empty());
        if p("remove") != "1" && !empty {
            let k = materials.len();
            let n = |f: &str| format!("materials[{k}].{f}");
            materials.push(MaterialRow {
                added: false,
                id: Field::new(n("id"), p("id").trim()),
                name: Field::new(n("name"), p("name")),
                required: Field::new(n("required"), p("required")),
                form: Field::new(n("form"), p("form")),
                count: Field::new(n("count"), p("count").trim()),
                source: Field::new(n("source"), p("source")),
                source_ref: Field::new(n("source_ref"), p("source_ref").trim()),
                deferrable: Field::new(n("deferrable"), p("deferrable")),
                notes: Field::new(n("notes"), p("notes")),
                remove: Field::new(n("remove"), ""),
            });
        }
        i += 1;
    }
    let mut situations = Vec::new();
    let mut i = 0;
    while map.contains_key(&format!("situations[{i}].code")) {
        let p = |f: &str| posted(&map, &format!("situations[{i}].{f}"));
        let text = [
            p("code"),
            p("name"),
            p("conditions"),
            p("materials"),
            p("promised_limit"),
            p("guide"),
        ];
        let empty = text.iter().all(|t| t.trim().is_empty());
        if p("remove") != "1" && !empty {
            let k = situations.len();
            let n = |f: &str| format!("situations[{k}].{f}");
            situations.push(SituationRow {
                added: false,
                code: Field::new(n("code"), p("code").trim()),
                name: Field::new(n("name"), p("name")),
                conditions: Field::new(n("conditions"), p("conditions")),
                materials: Field::new(n("materials"), p("materials")),
                promised_limit: Field::new(n("promised_limit"), p("promised_limit").trim()),
                guide: Field::new(n("guide"), p("guide")),
                remove: Field::new(n("remove"), ""),
            });
        }
        i += 1;
    }
    (materials, situations)
}

/// Problems the page finds before the document exists: numbers that are not numbers, a
/// source without its reference.
struct Checks<'a> {
    page: &'a Page,
    problems: Vec<(String, String)>,
}

impl Checks<'_> {
    fn number<T: std::str::FromStr>(&mut self, f: &Field) -> Option<T> {
        match f.value.trim().parse::<T>() {
            Ok(v) => Some(v),
            Err(_) => {
                self.problems
                    .push((f.name.clone(), self.page.t("admin-error-number")));
                None
            }
        }
    }
}

/// The item document from the stored one and the posted fields, or the problems found.
fn document(
    page: &Page,
    mut item: ServiceItem,
    fields: &ItemFields,
    materials: &[MaterialRow],
    situations: &[SituationRow],
) -> Result<ServiceItem, Vec<(String, String)>> {
    let mut checks = Checks {
        page,
        problems: Vec::new(),
    };
    item.name = fields.name.value.trim().to_string();
    if let Some(days) = checks.number(&fields.statutory_limit) {
        item.statutory_limit = days;
    }
    if let Some(days) = checks.number(&fields.promised_limit) {
        item.promised_limit = days;
    }
    item.limit_explanation = optional(&fields.limit_explanation.value);
    item.materials = materials
        .iter()
        .map(|m| {
            let form = match m.form.value.as_str() {
                "copy" => MaterialForm::Copy,
                "electronic" => MaterialForm::Electronic,
                _ => MaterialForm::Original,
            };
            let reference = m.source_ref.value.trim().to_string();
            let source = match m.source.value.as_str() {
                "certificate" => MaterialSource::Certificate {
                    certificate_type: reference,
                },
                "shared_data" => MaterialSource::SharedData {
                    resource: reference,
                },
                "bundle_output" => MaterialSource::BundleOutput { item: reference },
                _ => MaterialSource::Upload,
            };
            if !matches!(source, MaterialSource::Upload) && m.source_ref.value.trim().is_empty() {
                checks
                    .problems
                    .push((m.source_ref.name.clone(), page.t("admin-error-source-ref")));
            }
            Material {
                id: m.id.value.clone(),
                name: m.name.value.trim().to_string(),
                required: m.required.ticked(),
                form,
                count: checks.number(&m.count).unwrap_or(1),
                source,
                deferrable: m.deferrable.ticked(),
                notes: optional(&m.notes.value),
            }
        })
        .collect();
    item.situations = situations
        .iter()
        .map(|s| Situation {
            code: s.code.value.clone(),
            name: s.name.value.trim().to_string(),
            conditions: lines(&s.conditions.value),
            materials: ids(&s.materials.value),
            promised_limit: if s.promised_limit.value.trim().is_empty() {
                None
            } else {
                checks.number(&s.promised_limit)
            },
            guide: s.guide.value.trim().to_string(),
        })
        .collect();
    if checks.problems.is_empty() {
        Ok(item)
    } else {
        Err(checks.problems)
    }
}

/// The input a problem's path belongs to: the path itself, or the list input it is an entry
/// of (`situations[1].materials[0]` → `situations[1].materials`).
fn owner_of(path: &str, inputs: &BTreeSet<String>) -> Option<String> {
    if inputs.contains(path) {
        return Some(path.to_string());
    }
    let trimmed = path.strip_suffix(']')?;
    let open = trimmed.rfind('[')?;
    let list = &trimmed[..open];
    inputs.contains(list).then(|| list.to_string())
}

/// Puts each problem next to its input; the others go to the list above the form.
fn place(view: &mut ItemPage, problems: Vec<(String, String)>) {
    let mut fields: Vec<&mut Field> = vec![
        &mut view.item.name,
        &mut view.item.statutory_limit,
        &mut view.item.promised_limit,
        &mut view.item.limit_explanation,
    ];
    for m in &mut view.materials {
        fields.extend(m.fields_mut());
    }
    for s in &mut view.situations {
        fields.extend(s.fields_mut());
    }
    let (errors, others) = place_problems(&mut fields, problems, owner_of, "item_problems");
    view.errors.extend(errors);
    view.other_problems.extend(others);
}

/// `POST /admin/catalog/items/{code}`: saves the edited item as a new version, or shows the
/// problems next to their fields.
pub async fn save_item(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    Path(code): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(&body);
    let map: BTreeMap<String, String> = pairs.iter().cloned().collect();
    check_csrf(&session, map.get("csrf_token").map(String::as_str)).await?;
    let stored = stored(&state, &code).await?;
    let fields = ItemFields {
        name: Field::new("name".into(), posted(&map, "name")),
        statutory_limit: Field::new("statutory_limit".into(), posted(&map, "statutory_limit")),
        promised_limit: Field::new("promised_limit".into(), posted(&map, "promised_limit")),
        limit_explanation: Field::new(
            "limit_explanation".into(),
            posted(&map, "limit_explanation"),
        ),
    };
    let (materials, situations) = posted_rows(&pairs);
    let base_version = posted(&map, "base_version");
    let problems = if base_version != stored.version.to_string() {
        vec![(String::new(), page.t("admin-error-stale"))]
    } else {
        match document(&page, stored.item.clone(), &fields, &materials, &situations) {
            Err(problems) => problems,
            Ok(item) => match state.app.publish_item(&code, item, Timestamp::now()).await {
                Ok((version, changed)) => {
                    let to = if changed {
                        format!("/admin/catalog/items/{code}?saved={version}")
                    } else {
                        format!("/admin/catalog/items/{code}?saved={version}&unchanged=1")
                    };
                    return Ok(Redirect::to(&to).into_response());
                }
                Err(e) => {
                    let e = ApiError::from(e);
                    if !is_input_problem(&e) {
                        return Err(e);
                    }
                    field_problems(&page, &e)
                        .into_iter()
                        .map(|p| (p.path, p.message))
                        .collect()
                }
            },
        }
    };
    // Typed values stay; after a stale save the form is based on the newest version, so
    // saving again applies them over it.
    let mut view = editor(page, &code, stored, fields, materials, situations);
    place(&mut view, problems);
    Ok(render(&view, StatusCode::UNPROCESSABLE_ENTITY))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn material_ids_are_split_on_any_separator() {
        assert_eq!(
            ids("M01, M02，M03、M04 M05\nM06"),
            ["M01", "M02", "M03", "M04", "M05", "M06"]
        );
        assert!(ids(" ,， ").is_empty());
    }

    #[test]
    fn a_problem_goes_to_its_input_or_the_list_it_is_an_entry_of() {
        let inputs: BTreeSet<String> = ["situations[1].materials", "materials[0].id"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(
            owner_of("situations[1].materials[3]", &inputs).as_deref(),
            Some("situations[1].materials")
        );
        assert_eq!(
            owner_of("materials[0].id", &inputs).as_deref(),
            Some("materials[0].id")
        );
        assert_eq!(owner_of("contacts.complaint_phone", &inputs), None);
        assert_eq!(owner_of("", &inputs), None);
    }
}
