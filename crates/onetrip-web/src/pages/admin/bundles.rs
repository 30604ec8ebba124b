//! The bundle editor (一件事管理): the bundles, and one bundle's whole definition on one form —
//! basics, questionnaire (情形引导), members with their conditions, situations, dependencies
//! and field mappings, and the unified form's sections and fields (with repeated groups).
//!
//! Every question, member, section and field is a group of inputs named after its path in the
//! bundle document (`questionnaire[1].options`, `form.sections[0].fields[2].label`), with an
//! empty group to add one and a box to remove one, as in the catalog editor. Conditions are
//! typed in their written form (`parents_married = yes and county in (330106, 330108)`, see
//! [`onetrip_domain::form::Condition::parse_text`]); options one per line as
//! `value | 中文 | English`; mappings one per line as `item_field = unified_field`. Saving
//! rebuilds the document from the posted inputs and publishes it with the same use case as
//! `PUT /api/v1/bundles/{code}`; every problem, whether the page's (a condition it cannot
//! read) or the domain's (a cycle, an unmapped required field, an unknown question), comes back
//! next to the input it concerns, with everything typed kept. A save based on an older version
//! than the current one is refused, so two administrators do not overwrite each other.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use onetrip_app::bundles::BundleView;
use onetrip_domain::Localized;
use onetrip_domain::bundle::{Bundle, Member, Question, SituationRule};
use onetrip_domain::form::{
    AccountAttribute, ChoiceOption, Condition, Field as FormField, FieldKind, Prefill, Section,
    format_yuan, parse_yuan,
};
use serde::Deserialize;
use tower_sessions::Session;

use super::catalog::{Choice, choices};
use super::{Field, field_problems, ids, is_input_problem, lines, optional, place_problems};
use crate::Shared;
use crate::extract::{Path, Query};
use crate::pages::{Page, check_csrf, form_pairs, ok, render};
use crate::problem::ApiError;

/// A bundle of the list.
pub struct BundleLine {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Lead department.
    pub lead: String,
    /// Current version.
    pub version: i64,
}

#[derive(Template)]
#[template(path = "pages/admin/bundles.html")]
struct ListPage {
    page: Page,
    bundles: Vec<BundleLine>,
}

/// `GET /admin/bundles`: every bundle.
pub async fn list(State(state): State<Shared>, page: Page) -> Result<Response, ApiError> {
    let bundles = state
        .app
        .bundles()
        .await?
        .into_iter()
        .map(|b| BundleLine {
            code: b.code,
            name: b.name,
            lead: b.lead_department,
            version: b.current_version,
        })
        .collect();
    Ok(ok(&ListPage { page, bundles }))
}

/// Field types, with the keys of their names. `group` is offered for top-level fields only.
const KINDS: [(&str, &str); 12] = [
    ("text", "admin-kind-text"),
    ("number", "admin-kind-number"),
    ("money", "admin-kind-money"),
    ("date", "admin-kind-date"),
    ("choice", "admin-kind-choice"),
    ("multi_choice", "admin-kind-multi_choice"),
    ("resident_id", "admin-kind-resident_id"),
    ("credit_code", "admin-kind-credit_code"),
    ("phone", "admin-kind-phone"),
    ("address", "admin-kind-address"),
    ("file", "admin-kind-file"),
    ("group", "admin-kind-group"),
];

/// Prefill sources, with the keys of their names.
const PREFILLS: [(&str, &str); 8] = [
    ("", "admin-prefill-none"),
    ("account:name", "admin-prefill-account-name"),
    ("account:resident_id", "admin-prefill-account-resident_id"),
    ("account:phone", "admin-prefill-account-phone"),
    (
        "account:organisation_name",
        "admin-prefill-account-organisation_name",
    ),
    ("account:credit_code", "admin-prefill-account-credit_code"),
    ("shared_data", "admin-prefill-shared_data"),
    ("certificate", "admin-prefill-certificate"),
];

/// A question of the questionnaire.
pub struct QuestionRow {
    /// The empty group that adds one.
    pub added: bool,
    /// `questionnaire[i].key`.
    pub key: Field,
    /// The question in Chinese.
    pub text: Field,
    /// In English.
    pub text_en: Field,
    /// Explanation.
    pub help: Field,
    /// Options, one per line: `value | 中文 | English`.
    pub options: Field,
    /// Asked only when (written condition).
    pub visible_when: Field,
    /// Remove on save.
    pub remove: Field,
}

impl QuestionRow {
    fn new(i: usize, q: &Question, added: bool) -> Self {
        let n = |f: &str| format!("questionnaire[{i}].{f}");
        QuestionRow {
            added,
            key: Field::new(n("key"), q.key.clone()),
            text: Field::new(n("text"), q.text.clone()),
            text_en: Field::new(n("text_en"), q.text_en.clone().unwrap_or_default()),
            help: Field::new(n("help"), q.help.clone().unwrap_or_default()),
            options: Field::new(n("options"), options_text(&q.options)),
            visible_when: Field::new(n("visible_when"), condition_text(q.visible_when.as_ref())),
            remove: Field::new(n("remove"), ""),
        }
    }

    fn fields_mut(&mut self) -> Vec<&mut Field> {
        vec![
            &mut self.key,
            &mut self.text,
            &mut self.text_en,
            &mut self.help,
            &mut self.options,
            &mut self.visible_when,
        ]
    }
}

/// A member of the bundle.
pub struct MemberRow {
    /// The empty group that adds one.
    pub added: bool,
    /// `members[i].key`.
    pub key: Field,
    /// Implementation code of the item.
    pub item: Field,
    /// The item's name (for the legend).
    pub item_name: String,
    /// Applies only when (written condition).
    pub when: Field,
    /// Situation rules, one per line: `CODE` or `CODE when condition`.
    pub situations: Field,
    /// Member keys it waits for.
    pub depends_on: Field,
    /// Mapping, one per line: `item_field = unified_field` (`members[i].fields`).
    pub mapping: Field,
    /// Certificate fields, one per line: `certificate_field = unified_field`.
    pub result_fields: Field,
    /// Remove on save.
    pub remove: Field,
}

impl MemberRow {
    fn new(i: usize, m: &Member, item_name: String, added: bool) -> Self {
        let n = |f: &str| format!("members[{i}].{f}");
        let situations = m
            .situations
            .iter()
            .map(|r| match &r.when {
                Some(c) => format!("{} when {c}", r.situation),
                None => r.situation.clone(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        MemberRow {
            added,
            key: Field::new(n("key"), m.key.clone()),
            item: Field::new(n("item"), m.item.clone()),
            item_name,
            when: Field::new(n("when"), condition_text(m.when.as_ref())),
            situations: Field::new(n("situations"), situations),
            depends_on: Field::new(n("depends_on"), m.depends_on.join(", ")),
            mapping: Field::new(n("fields"), mapping_text(&m.fields)),
            result_fields: Field::new(n("result_fields"), mapping_text(&m.result_fields)),
            remove: Field::new(n("remove"), ""),
        }
    }

    fn fields_mut(&mut self) -> Vec<&mut Field> {
        vec![
            &mut self.key,
            &mut self.item,
            &mut self.when,
            &mut self.situations,
            &mut self.depends_on,
            &mut self.mapping,
            &mut self.result_fields,
        ]
    }
}

/// A section of the unified form.
pub struct SectionRow {
    /// The empty group that adds one.
    pub added: bool,
    /// `form.sections[s].key`.
    pub key: Field,
    /// Title in Chinese.
    pub title: Field,
    /// In English.
    pub title_en: Field,
    /// Remove on save (with its fields).
    pub remove: Field,
    /// Its fields, the last one empty to add one.
    pub fields: Vec<FieldRow>,
}

/// A field of the unified form, or of a repeated group.
pub struct FieldRow {
    /// The empty group that adds one.
    pub added: bool,
    /// A field of a repeated group (no groups inside).
    pub child: bool,
    /// `…fields[f].key`.
    pub key: Field,
    /// Label in Chinese.
    pub label: Field,
    /// In English.
    pub label_en: Field,
    /// Type (`text`, `choice`…): `…fields[f].type`.
    pub kind: Field,
    /// Required (ticked).
    pub required: Field,
    /// Options of a choice (`value | 中文 | English`), accepted types of a file.
    pub options: Field,
    /// Least value, amount (yuan), choices or items.
    pub min: Field,
    /// Most value, amount, length, choices, bytes or items.
    pub max: Field,
    /// A text with line breaks (ticked).
    pub multiline: Field,
    /// A date not after today (ticked).
    pub not_after_today: Field,
    /// A date not before today (ticked).
    pub not_before_today: Field,
    /// Shown only when (written condition).
    pub visible_when: Field,
    /// Prefill source (`account:name`, `shared_data`, `certificate`): `…fields[f].prefill`.
    pub prefill: Field,
    /// Data resource or certificate type of the prefill.
    pub prefill_source: Field,
    /// Its field.
    pub prefill_field: Field,
    /// Explanation in Chinese.
    pub help: Field,
    /// In English.
    pub help_en: Field,
    /// Remove on save.
    pub remove: Field,
    /// The fields of a repeated group, the last one empty to add one.
    pub children: Vec<FieldRow>,
}

impl FieldRow {
    fn new(base: &str, f: &FormField, child: bool, added: bool) -> Self {
        let n = |x: &str| format!("{base}.{x}");
        let tick = |on: bool| if on { "1" } else { "" };
        let (mut options, mut min, mut max) = (String::new(), String::new(), String::new());
        let (mut multiline, mut after, mut before) = (false, false, false);
        let opt = |v: Option<String>| v.unwrap_or_default();
        match &f.kind {
            FieldKind::Text {
                max_len,
                multiline: m,
            } => {
                max = opt(max_len.map(|v| v.to_string()));
                multiline = *m;
            }
            FieldKind::Number { min: a, max: b } => {
                min = opt(a.map(|v| v.to_string()));
                max = opt(b.map(|v| v.to_string()));
            }
            FieldKind::Money { min_fen, max_fen } => {
                min = opt(min_fen.map(format_yuan));
                max = opt(max_fen.map(format_yuan));
            }
            FieldKind::Date {
                not_after_today,
                not_before_today,
            } => {
                after = *not_after_today;
                before = *not_before_today;
            }
            FieldKind::Choice { options: o } => options = options_text(o),
            FieldKind::MultiChoice {
                options: o,
                min: a,
                max: b,
            } => {
                options = options_text(o);
                min = opt(a.map(|v| v.to_string()));
                max = opt(b.map(|v| v.to_string()));
            }
            FieldKind::File { accept, max_bytes } => {
                options = accept.join("\n");
                max = opt(max_bytes.map(|v| v.to_string()));
            }
            FieldKind::Group {
                min_items,
                max_items,
                ..
            } => {
                min = if *min_items == 0 {
                    String::new()
                } else {
                    min_items.to_string()
                };
                max = opt(max_items.map(|v| v.to_string()));
            }
            FieldKind::ResidentId
            | FieldKind::CreditCode
            | FieldKind::Phone
            | FieldKind::Address => {}
        }
        let (prefill, source, field) = match &f.prefill {
            None => (String::new(), String::new(), String::new()),
            Some(Prefill::Account { attribute }) => (
                format!("account:{}", attribute_name(*attribute)),
                String::new(),
                String::new(),
            ),
            Some(Prefill::SharedData { resource, field }) => {
                ("shared_data".into(), resource.clone(), field.clone())
            }
            Some(Prefill::Certificate {
                certificate_type,
                field,
            }) => (
                "certificate".into(),
                certificate_type.clone(),
                field.clone(),
            ),
        };
        let children = f
            .children()
            .iter()
            .enumerate()
            .map(|(c, cf)| FieldRow::new(&format!("{base}.fields[{c}]"), cf, true, false))
            .collect();
        FieldRow {
            added,
            child,
            key: Field::new(n("key"), f.key.clone()),
            label: Field::new(n("label"), f.label.clone()),
            label_en: Field::new(n("label_en"), opt(f.label_en.clone())),
            kind: Field::new(n("type"), f.kind.type_name()),
            required: Field::new(n("required"), tick(f.required)),
            options: Field::new(n("options"), options),
            min: Field::new(n("min"), min),
            max: Field::new(n("max"), max),
            multiline: Field::new(n("multiline"), tick(multiline)),
            not_after_today: Field::new(n("not_after_today"), tick(after)),
            not_before_today: Field::new(n("not_before_today"), tick(before)),
            visible_when: Field::new(n("visible_when"), condition_text(f.visible_when.as_ref())),
            prefill: Field::new(n("prefill"), prefill),
            prefill_source: Field::new(n("prefill.source"), source),
            prefill_field: Field::new(n("prefill.field"), field),
            help: Field::new(n("help"), opt(f.help.clone())),
            help_en: Field::new(n("help_en"), opt(f.help_en.clone())),
            remove: Field::new(n("remove"), ""),
            children,
        }
    }

    /// An empty field to add, at `base`.
    fn empty(base: &str, child: bool) -> Self {
        let blank = FormField {
            key: String::new(),
            label: String::new(),
            label_en: None,
            kind: FieldKind::Text {
                max_len: None,
                multiline: false,
            },
            required: false,
            visible_when: None,
            prefill: None,
            help: None,
            help_en: None,
        };
        FieldRow::new(base, &blank, child, true)
    }

    /// The type's options (no groups inside a group).
    pub fn kind_choices(&self) -> Vec<Choice> {
        let kinds = if self.child {
            &KINDS[..KINDS.len() - 1]
        } else {
            &KINDS[..]
        };
        choices(kinds, &self.kind.value)
    }

    /// The prefill's options.
    pub fn prefill_choices(&self) -> Vec<Choice> {
        choices(&PREFILLS, &self.prefill.value)
    }

    /// Whether the settings are to be shown open: one of them has a problem.
    pub fn settings_open(&self) -> bool {
        [
            &self.options,
            &self.min,
            &self.max,
            &self.visible_when,
            &self.prefill,
            &self.prefill_source,
            &self.prefill_field,
            &self.help,
            &self.help_en,
        ]
        .iter()
        .any(|f| f.error.is_some())
    }

    /// Whether it is a repeated group.
    pub fn is_group(&self) -> bool {
        self.kind.value == "group"
    }

    /// Its inputs that can carry a problem, then its children's.
    fn fields_mut(&mut self) -> Vec<&mut Field> {
        let FieldRow {
            key,
            label,
            label_en,
            kind,
            required,
            options,
            min,
            max,
            visible_when,
            prefill,
            prefill_source,
            prefill_field,
            help,
            help_en,
            children,
            ..
        } = self;
        let mut out = vec![
            key,
            label,
            label_en,
            kind,
            required,
            options,
            min,
            max,
            visible_when,
            prefill,
            prefill_source,
            prefill_field,
            help,
            help_en,
        ];
        for c in children {
            out.extend(c.fields_mut());
        }
        out
    }
}

fn attribute_name(a: AccountAttribute) -> String {
    match serde_json::to_value(a) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn condition_text(c: Option<&Condition>) -> String {
    c.map(ToString::to_string).unwrap_or_default()
}

fn options_text(options: &[ChoiceOption]) -> String {
    options
        .iter()
        .map(|o| match &o.label_en {
            Some(en) => format!("{} | {} | {en}", o.value, o.label),
            None => format!("{} | {}", o.value, o.label),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn mapping_text(m: &BTreeMap<String, String>) -> String {
    m.iter()
        .map(|(to, from)| format!("{to} = {from}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Template)]
#[template(path = "pages/admin/bundle.html")]
struct BundlePage {
    page: Page,
    code: String,
    base_version: i64,
    title: String,
    name: Field,
    name_en: Field,
    summary: Field,
    keywords: Field,
    form_title: Field,
    form_title_en: Field,
    questions: Vec<QuestionRow>,
    members: Vec<MemberRow>,
    sections: Vec<SectionRow>,
    saved: Option<i64>,
    unchanged: bool,
    errors: Vec<(String, String)>,
    other_problems: Vec<String>,
}

impl BundlePage {
    fn fields_mut(&mut self) -> Vec<&mut Field> {
        let mut out = vec![
            &mut self.name,
            &mut self.name_en,
            &mut self.summary,
            &mut self.keywords,
            &mut self.form_title,
            &mut self.form_title_en,
        ];
        for q in &mut self.questions {
            out.extend(q.fields_mut());
        }
        for m in &mut self.members {
            out.extend(m.fields_mut());
        }
        for s in &mut self.sections {
            out.extend([&mut s.key, &mut s.title, &mut s.title_en]);
            for f in &mut s.fields {
                out.extend(f.fields_mut());
            }
        }
        out
    }

    /// Puts each problem next to its input; the others go to the list above the form.
    fn place(&mut self, problems: Vec<(String, String)>) {
        let (errors, others) =
            place_problems(&mut self.fields_mut(), problems, locate, "bundle_problems");
        self.errors = errors;
        self.other_problems = others;
    }
}

/// Query of the editor.
#[derive(Debug, Deserialize)]
pub struct BundleQuery {
    /// The version just saved.
    pub saved: Option<i64>,
    /// Set when the last save changed nothing.
    pub unchanged: Option<String>,
}

/// The editor's inputs of a bundle document, with empty groups to add a question, a member, a
/// section and a field to each section and group.
fn rows(view: &BundleView) -> (Vec<QuestionRow>, Vec<MemberRow>, Vec<SectionRow>) {
    let b = &view.bundle;
    let questions = b
        .questionnaire
        .iter()
        .enumerate()
        .map(|(i, q)| QuestionRow::new(i, q, false))
        .collect();
    let members = b
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let name = view.member_names.get(&m.key).cloned().unwrap_or_default();
            MemberRow::new(i, m, name, false)
        })
        .collect();
    let sections = b
        .form
        .sections
        .iter()
        .enumerate()
        .map(|(s, section)| SectionRow {
            added: false,
            key: Field::new(format!("form.sections[{s}].key"), section.key.clone()),
            title: Field::new(format!("form.sections[{s}].title"), section.title.clone()),
            title_en: Field::new(
                format!("form.sections[{s}].title_en"),
                section.title_en.clone().unwrap_or_default(),
            ),
            remove: Field::new(format!("form.sections[{s}].remove"), ""),
            fields: section
                .fields
                .iter()
                .enumerate()
                .map(|(f, field)| {
                    FieldRow::new(
                        &format!("form.sections[{s}].fields[{f}]"),
                        field,
                        false,
                        false,
                    )
                })
                .collect(),
        })
        .collect();
    (questions, members, sections)
}

/// Appends the empty groups that add things.
fn with_additions(
    questions: &mut Vec<QuestionRow>,
    members: &mut Vec<MemberRow>,
    sections: &mut Vec<SectionRow>,
) {
    let blank_question = Question {
        key: String::new(),
        text: String::new(),
        text_en: None,
        options: Vec::new(),
        visible_when: None,
        help: None,
    };
    questions.push(QuestionRow::new(questions.len(), &blank_question, true));
    let blank_member = Member {
        key: String::new(),
        item: String::new(),
        when: None,
        situations: Vec::new(),
        depends_on: Vec::new(),
        fields: BTreeMap::new(),
        result_fields: BTreeMap::new(),
    };
    members.push(MemberRow::new(
        members.len(),
        &blank_member,
        String::new(),
        true,
    ));
    for (s, section) in sections.iter_mut().enumerate() {
        for (f, field) in section.fields.iter_mut().enumerate() {
            if field.is_group() {
                let base = format!(
                    "form.sections[{s}].fields[{f}].fields[{}]",
                    field.children.len()
                );
                field.children.push(FieldRow::empty(&base, true));
            }
        }
        let base = format!("form.sections[{s}].fields[{}]", section.fields.len());
        section.fields.push(FieldRow::empty(&base, false));
    }
    let s = sections.len();
    sections.push(SectionRow {
        added: true,
        key: Field::new(format!("form.sections[{s}].key"), ""),
        title: Field::new(format!("form.sections[{s}].title"), ""),
        title_en: Field::new(format!("form.sections[{s}].title_en"), ""),
        remove: Field::new(format!("form.sections[{s}].remove"), ""),
        fields: vec![FieldRow::empty(
            &format!("form.sections[{s}].fields[0]"),
            false,
        )],
    });
}

fn editor(page: Page, view: &BundleView) -> BundlePage {
    let b = &view.bundle;
    let (mut questions, mut members, mut sections) = rows(view);
    with_additions(&mut questions, &mut members, &mut sections);
    BundlePage {
        code: b.code.clone(),
        base_version: view.version,
        title: page.pick(&b.name, b.name_en.as_deref()).to_string(),
        name: Field::new("name".into(), b.name.clone()),
        name_en: Field::new("name_en".into(), b.name_en.clone().unwrap_or_default()),
        summary: Field::new("summary".into(), b.summary.clone()),
        keywords: Field::new("keywords".into(), b.keywords.join("\n")),
        form_title: Field::new("form.title".into(), b.form.title.clone()),
        form_title_en: Field::new(
            "form.title_en".into(),
            b.form.title_en.clone().unwrap_or_default(),
        ),
        questions,
        members,
        sections,
        saved: None,
        unchanged: false,
        errors: Vec::new(),
        other_problems: Vec::new(),
        page,
    }
}

/// `GET /admin/bundles/{code}`: the bundle's current version.
pub async fn bundle_page(
    State(state): State<Shared>,
    page: Page,
    Path(code): Path<String>,
    Query(q): Query<BundleQuery>,
) -> Result<Response, ApiError> {
    let view = state.app.bundle_view(&code).await?;
    let mut editor = editor(page, &view);
    editor.saved = q.saved;
    editor.unchanged = q.unchanged.is_some();
    Ok(ok(&editor))
}

/// The posted form: values by name.
struct Posted(BTreeMap<String, String>);

impl Posted {
    fn get(&self, name: &str) -> String {
        self.0.get(name).cloned().unwrap_or_default()
    }

    fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Whether every named input under `base` is blank.
    fn blank(&self, base: &str, names: &[&str]) -> bool {
        names
            .iter()
            .all(|n| self.get(&format!("{base}.{n}")).trim().is_empty())
    }

    fn removed(&self, base: &str) -> bool {
        self.get(&format!("{base}.remove")) == "1"
    }

    fn field(&self, from: &str, to: String) -> Field {
        Field::new(to, self.get(from))
    }

    /// The questions posted, without the removed and the empty ones, renumbered.
    fn questions(&self) -> Vec<QuestionRow> {
        let mut out = Vec::new();
        let mut i = 0;
        while self.has(&format!("questionnaire[{i}].key")) {
            let base = format!("questionnaire[{i}]");
            let inputs = ["key", "text", "text_en", "help", "options", "visible_when"];
            if !self.removed(&base) && !self.blank(&base, &inputs) {
                let k = out.len();
                let f =
                    |x: &str| self.field(&format!("{base}.{x}"), format!("questionnaire[{k}].{x}"));
                out.push(QuestionRow {
                    added: false,
                    key: f("key"),
                    text: f("text"),
                    text_en: f("text_en"),
                    help: f("help"),
                    options: f("options"),
                    visible_when: f("visible_when"),
                    remove: Field::new(format!("questionnaire[{k}].remove"), ""),
                });
            }
            i += 1;
        }
        out
    }

    /// The members posted, likewise.
    fn members(&self, names: &BTreeMap<String, String>) -> Vec<MemberRow> {
        let mut out = Vec::new();
        let mut i = 0;
        while self.has(&format!("members[{i}].key")) {
            let base = format!("members[{i}]");
            let inputs = [
                "key",
                "item",
                "when",
                "situations",
                "depends_on",
                "fields",
                "result_fields",
            ];
            if !self.removed(&base) && !self.blank(&base, &inputs) {
                let k = out.len();
                let f = |x: &str| self.field(&format!("{base}.{x}"), format!("members[{k}].{x}"));
                let item = f("item");
                out.push(MemberRow {
                    added: false,
                    item_name: names.get(item.value.trim()).cloned().unwrap_or_default(),
                    key: f("key"),
                    item,
                    when: f("when"),
                    situations: f("situations"),
                    depends_on: f("depends_on"),
                    mapping: f("fields"),
                    result_fields: f("result_fields"),
                    remove: Field::new(format!("members[{k}].remove"), ""),
                });
            }
            i += 1;
        }
        out
    }

    /// The fields posted under `from` (`form.sections[0]`), renumbered under `to`.
    fn field_rows(&self, from: &str, to: &str, child: bool) -> Vec<FieldRow> {
        const TEXTS: [&str; 11] = [
            "key",
            "label",
            "label_en",
            "options",
            "min",
            "max",
            "visible_when",
            "prefill.source",
            "prefill.field",
            "help",
            "help_en",
        ];
        let mut out = Vec::new();
        let mut i = 0;
        while self.has(&format!("{from}.fields[{i}].key")) {
            let base = format!("{from}.fields[{i}]");
            let children = if child {
                Vec::new()
            } else {
                self.field_rows(&base, &format!("{to}.fields[{}]", out.len()), true)
            };
            let empty = self.blank(&base, &TEXTS) && children.is_empty();
            if !self.removed(&base) && !empty {
                let into = format!("{to}.fields[{}]", out.len());
                let f = |x: &str| self.field(&format!("{base}.{x}"), format!("{into}.{x}"));
                out.push(FieldRow {
                    added: false,
                    child,
                    key: f("key"),
                    label: f("label"),
                    label_en: f("label_en"),
                    kind: f("type"),
                    required: f("required"),
                    options: f("options"),
                    min: f("min"),
                    max: f("max"),
                    multiline: f("multiline"),
                    not_after_today: f("not_after_today"),
                    not_before_today: f("not_before_today"),
                    visible_when: f("visible_when"),
                    prefill: f("prefill"),
                    prefill_source: f("prefill.source"),
                    prefill_field: f("prefill.field"),
                    help: f("help"),
                    help_en: f("help_en"),
                    remove: Field::new(format!("{into}.remove"), ""),
                    children,
                });
            }
            i += 1;
        }
        out
    }

    /// The sections posted, likewise, with their fields.
    fn sections(&self) -> Vec<SectionRow> {
        let mut out = Vec::new();
        let mut i = 0;
        while self.has(&format!("form.sections[{i}].key")) {
            let base = format!("form.sections[{i}]");
            let to = format!("form.sections[{}]", out.len());
            let fields = self.field_rows(&base, &to, false);
            let empty = self.blank(&base, &["key", "title", "title_en"]) && fields.is_empty();
            if !self.removed(&base) && !empty {
                let f = |x: &str| self.field(&format!("{base}.{x}"), format!("{to}.{x}"));
                out.push(SectionRow {
                    added: false,
                    key: f("key"),
                    title: f("title"),
                    title_en: f("title_en"),
                    remove: Field::new(format!("{to}.remove"), ""),
                    fields,
                });
            }
            i += 1;
        }
        out
    }
}

/// Reads the inputs into a bundle document, collecting what cannot be read (a condition, a
/// number, an option or mapping line) as problems by input name.
struct Reading<'a> {
    page: &'a Page,
    problems: Vec<(String, String)>,
}

impl Reading<'_> {
    fn problem(&mut self, f: &Field, key: &str) {
        self.problems.push((f.name.clone(), self.page.t(key)));
    }

    fn condition_of(&mut self, name: &str, text: &str) -> Option<Condition> {
        match Condition::parse_text(text) {
            Ok(c) => c,
            Err(e) => {
                let message = if self.page.en {
                    e.message_en()
                } else {
                    e.message_zh()
                };
                self.problems.push((name.to_string(), message));
                None
            }
        }
    }

    fn condition(&mut self, f: &Field) -> Option<Condition> {
        self.condition_of(&f.name, &f.value)
    }

    fn number<T: std::str::FromStr>(&mut self, f: &Field) -> Option<T> {
        let text = f.value.trim();
        if text.is_empty() {
            return None;
        }
        let parsed = text.parse::<T>().ok();
        if parsed.is_none() {
            self.problem(f, "admin-error-number");
        }
        parsed
    }

    fn yuan(&mut self, f: &Field) -> Option<i64> {
        let text = f.value.trim();
        if text.is_empty() {
            return None;
        }
        let parsed = parse_yuan(text);
        if parsed.is_none() {
            self.problem(f, "admin-bundle-error-yuan");
        }
        parsed
    }

    fn options(&mut self, f: &Field) -> Vec<ChoiceOption> {
        let mut out = Vec::new();
        for line in lines(&f.value) {
            let parts: Vec<&str> = line.split(['|', '｜']).map(str::trim).collect();
            let (value, label, label_en) = match parts.as_slice() {
                [one] => (*one, *one, ""),
                [value, label] => (*value, *label, ""),
                [value, label, en] => (*value, *label, *en),
                _ => {
                    self.problem(f, "admin-bundle-error-option");
                    continue;
                }
            };
            out.push(ChoiceOption {
                value: value.to_string(),
                label: label.to_string(),
                label_en: optional(label_en),
            });
        }
        out
    }

    fn mapping(&mut self, f: &Field) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for line in lines(&f.value) {
            match line.split_once(['=', '＝']) {
                Some((to, from)) if !to.trim().is_empty() && !from.trim().is_empty() => {
                    let to = to.trim().to_string();
                    if out.insert(to, from.trim().to_string()).is_some() {
                        self.problem(f, "admin-bundle-error-mapping-twice");
                    }
                }
                _ => self.problem(f, "admin-bundle-error-mapping"),
            }
        }
        out
    }

    fn situations(&mut self, f: &Field) -> Vec<SituationRule> {
        let mut out = Vec::new();
        for line in lines(&f.value) {
            let (code, rest) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
            let rest = rest.trim();
            let when = if rest.is_empty() {
                None
            } else if let Some(c) = rest
                .strip_prefix("when")
                .filter(|c| c.starts_with(char::is_whitespace))
            {
                self.condition_of(&f.name, c)
            } else {
                self.problem(f, "admin-bundle-error-situation");
                continue;
            };
            out.push(SituationRule {
                situation: code.to_string(),
                when,
            });
        }
        out
    }

    fn question(&mut self, q: &QuestionRow) -> Question {
        Question {
            key: q.key.value.trim().to_string(),
            text: q.text.value.trim().to_string(),
            text_en: optional(&q.text_en.value),
            options: self.options(&q.options),
            visible_when: self.condition(&q.visible_when),
            help: optional(&q.help.value),
        }
    }

    fn member(&mut self, m: &MemberRow) -> Member {
        Member {
            key: m.key.value.trim().to_string(),
            item: m.item.value.trim().to_string(),
            when: self.condition(&m.when),
            situations: self.situations(&m.situations),
            depends_on: ids(&m.depends_on.value),
            fields: self.mapping(&m.mapping),
            result_fields: self.mapping(&m.result_fields),
        }
    }

    fn kind(&mut self, f: &FieldRow) -> FieldKind {
        match f.kind.value.as_str() {
            "number" => FieldKind::Number {
                min: self.number(&f.min),
                max: self.number(&f.max),
            },
            "money" => FieldKind::Money {
                min_fen: self.yuan(&f.min),
                max_fen: self.yuan(&f.max),
            },
            "date" => FieldKind::Date {
                not_after_today: f.not_after_today.ticked(),
                not_before_today: f.not_before_today.ticked(),
            },
            "choice" => FieldKind::Choice {
                options: self.options(&f.options),
            },
            "multi_choice" => FieldKind::MultiChoice {
                options: self.options(&f.options),
                min: self.number(&f.min),
                max: self.number(&f.max),
            },
            "resident_id" => FieldKind::ResidentId,
            "credit_code" => FieldKind::CreditCode,
            "phone" => FieldKind::Phone,
            "address" => FieldKind::Address,
            "file" => FieldKind::File {
                accept: lines(&f.options.value),
                max_bytes: self.number(&f.max),
            },
            "group" if !f.child => FieldKind::Group {
                fields: f.children.iter().map(|c| self.form_field(c)).collect(),
                min_items: self.number(&f.min).unwrap_or(0),
                max_items: self.number(&f.max),
            },
            "text" => FieldKind::Text {
                max_len: self.number(&f.max),
                multiline: f.multiline.ticked(),
            },
            _ => {
                self.problem(&f.kind, "admin-bundle-error-type");
                FieldKind::Text {
                    max_len: None,
                    multiline: false,
                }
            }
        }
    }

    fn prefill(&mut self, f: &FieldRow) -> Option<Prefill> {
        let source = f.prefill_source.value.trim().to_string();
        let field = f.prefill_field.value.trim().to_string();
        match f.prefill.value.as_str() {
            "" => None,
            "shared_data" => Some(Prefill::SharedData {
                resource: source,
                field,
            }),
            "certificate" => Some(Prefill::Certificate {
                certificate_type: source,
                field,
            }),
            other => {
                let attribute = other
                    .strip_prefix("account:")
                    .and_then(|a| serde_json::from_value(serde_json::Value::String(a.into())).ok());
                match attribute {
                    Some(attribute) => Some(Prefill::Account { attribute }),
                    None => {
                        self.problem(&f.prefill, "admin-bundle-error-prefill");
                        None
                    }
                }
            }
        }
    }

    fn form_field(&mut self, f: &FieldRow) -> FormField {
        FormField {
            key: f.key.value.trim().to_string(),
            label: f.label.value.trim().to_string(),
            label_en: optional(&f.label_en.value),
            kind: self.kind(f),
            required: f.required.ticked(),
            visible_when: self.condition(&f.visible_when),
            prefill: self.prefill(f),
            help: optional(&f.help.value),
            help_en: optional(&f.help_en.value),
        }
    }

    fn section(&mut self, s: &SectionRow) -> Section {
        Section {
            key: s.key.value.trim().to_string(),
            title: s.title.value.trim().to_string(),
            title_en: optional(&s.title_en.value),
            fields: s.fields.iter().map(|f| self.form_field(f)).collect(),
        }
    }
}

/// Settings of a field whose problems go to the input that holds them.
const ALIASES: [(&str, &str); 9] = [
    ("max_len", "max"),
    ("max_bytes", "max"),
    ("max_items", "max"),
    ("max_fen", "max"),
    ("min_fen", "min"),
    ("min_items", "min"),
    ("accept", "options"),
    ("resource", "source"),
    ("certificate_type", "source"),
];

/// The input a problem's path belongs to: the path itself, the input holding that setting, or
/// the nearest enclosing part's input (`form.sections[0].fields[2].options[1].value` →
/// `….options`; `members[1].fields.father_name` → `members[1].fields`; a problem of a whole
/// field → its key).
fn locate(path: &str, inputs: &BTreeSet<String>) -> Option<String> {
    let mut at = path.to_string();
    loop {
        if inputs.contains(&at) {
            return Some(at);
        }
        if let Some((head, leaf)) = at.rsplit_once('.') {
            for (from, to) in ALIASES {
                let alias = format!("{head}.{to}");
                if leaf == from && inputs.contains(&alias) {
                    return Some(alias);
                }
            }
        }
        let key = format!("{at}.key");
        if inputs.contains(&key) {
            return Some(key);
        }
        let cut = if at.ends_with(']') {
            at.rfind('[')?
        } else {
            at.rfind('.')?
        };
        at.truncate(cut);
    }
}

/// `POST /admin/bundles/{code}`: publishes the edited bundle as a new version, or shows the
/// problems next to their inputs.
pub async fn save_bundle(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    Path(code): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let posted = Posted(form_pairs(&body).into_iter().collect());
    check_csrf(&session, posted.0.get("csrf_token").map(String::as_str)).await?;
    let view = state.app.bundle_view(&code).await?;
    let mut editor = editor(page, &view);
    let field = |name: &str| Field::new(name.to_string(), posted.get(name));
    editor.name = field("name");
    editor.name_en = field("name_en");
    editor.summary = field("summary");
    editor.keywords = field("keywords");
    editor.form_title = field("form.title");
    editor.form_title_en = field("form.title_en");
    let mut questions = posted.questions();
    let item_names: BTreeMap<String, String> = (view.bundle.members.iter())
        .filter_map(|m| Some((m.item.clone(), view.member_names.get(&m.key)?.clone())))
        .collect();
    let mut members = posted.members(&item_names);
    let mut sections = posted.sections();

    let mut reading = Reading {
        page: &editor.page,
        problems: Vec::new(),
    };
    let mut bundle: Bundle = view.bundle.clone();
    bundle.name = editor.name.value.trim().to_string();
    bundle.name_en = optional(&editor.name_en.value);
    bundle.summary = editor.summary.value.trim().to_string();
    bundle.keywords = lines(&editor.keywords.value);
    bundle.questionnaire = questions.iter().map(|q| reading.question(q)).collect();
    bundle.members = members.iter().map(|m| reading.member(m)).collect();
    bundle.form.title = editor.form_title.value.trim().to_string();
    bundle.form.title_en = optional(&editor.form_title_en.value);
    bundle.form.sections = sections.iter().map(|s| reading.section(s)).collect();
    if bundle.form != view.bundle.form {
        bundle.form.version = view.bundle.form.version.saturating_add(1);
    }
    let mut problems = reading.problems;

    if posted.get("base_version") != view.version.to_string() {
        problems = vec![(String::new(), editor.page.t("admin-bundle-error-stale"))];
    } else if !problems.is_empty() {
        // Every problem at once: the domain's too, except on the inputs the page could not
        // read.
        if let Err(e) = state.app.check_bundle(&bundle).await {
            let e = ApiError::from(e);
            if !is_input_problem(&e) {
                return Err(e);
            }
            let unread: BTreeSet<String> = problems.iter().map(|(p, _)| p.clone()).collect();
            problems.extend(
                field_problems(&editor.page, &e)
                    .into_iter()
                    .filter(|p| !unread.iter().any(|u| p.path.starts_with(u.as_str())))
                    .map(|p| (p.path, p.message)),
            );
        }
    } else {
        match state.app.publish_bundle(&bundle, Timestamp::now()).await {
            Ok((version, changed)) => {
                let to = if changed {
                    format!("/admin/bundles/{code}?saved={version}")
                } else {
                    format!("/admin/bundles/{code}?saved={version}&unchanged=1")
                };
                return Ok(Redirect::to(&to).into_response());
            }
            Err(e) => {
                let e = ApiError::from(e);
                if !is_input_problem(&e) {
                    return Err(e);
                }
                problems = field_problems(&editor.page, &e)
                    .into_iter()
                    .map(|p| (p.path, p.message))
                    .collect();
            }
        }
    }
    // Typed values stay; after a stale save the form is based on the newest version, so
    // saving again applies them over it.
    with_additions(&mut questions, &mut members, &mut sections);
    editor.questions = questions;
    editor.members = members;
    editor.sections = sections;
    editor.place(problems);
    Ok(render(&editor, StatusCode::UNPROCESSABLE_ENTITY))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn inputs(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn a_problem_goes_to_the_input_that_holds_its_part() {
        let all = inputs(&[
            "members[1].fields",
            "form.sections[0].fields[2].key",
            "form.sections[0].fields[2].options",
            "form.sections[0].fields[2].max",
            "form.sections[0].fields[2].prefill",
            "form.sections[0].fields[2].prefill.source",
            "form.sections[0].fields[2].fields[1].label",
        ]);
        let at = |p: &str| locate(p, &all);
        assert_eq!(
            at("members[1].fields.father_name").as_deref(),
            Some("members[1].fields")
        );
        assert_eq!(
            at("form.sections[0].fields[2].options[1].value").as_deref(),
            Some("form.sections[0].fields[2].options")
        );
        assert_eq!(
            at("form.sections[0].fields[2].max_len").as_deref(),
            Some("form.sections[0].fields[2].max")
        );
        assert_eq!(
            at("form.sections[0].fields[2].prefill.resource").as_deref(),
            Some("form.sections[0].fields[2].prefill.source")
        );
        assert_eq!(
            at("form.sections[0].fields[2].prefill.attribute").as_deref(),
            Some("form.sections[0].fields[2].prefill")
        );
        assert_eq!(
            at("form.sections[0].fields[2]").as_deref(),
            Some("form.sections[0].fields[2].key")
        );
        assert_eq!(
            at("form.sections[0].fields[2].fields[1].label").as_deref(),
            Some("form.sections[0].fields[2].fields[1].label")
        );
        assert_eq!(at("members"), None);
        assert_eq!(at("code"), None);
    }
}
