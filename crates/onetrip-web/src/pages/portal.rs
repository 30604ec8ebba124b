//! The portal's public pages: home (search, life events, common services, my to-dos), search
//! results with filters, the item guide per situation, and the bundle guide.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use onetrip_app::bundles::BundleView;
use onetrip_app::catalog::{ItemHit, ItemQuery};
use onetrip_domain::catalog::{Guide, LifeEvent, ServiceItem};
use onetrip_store::{ApplicationRow, BundleSummary};
use serde::Deserialize;

use super::{Page, ok};
use crate::Shared;
use crate::extract::{Path, Query};
use crate::policy::Actor;
use crate::problem::ApiError;

/// How many bundles the elder mode's home shows as big buttons.
const ELDER_HOME_BUNDLES: usize = 6;

/// A life event with its bundles.
pub struct LifeEventView {
    /// Key of its name (`life-event-birth`).
    pub key: String,
    /// Its bundles.
    pub bundles: Vec<BundleSummary>,
}

/// Something the signed-in person has to do.
pub struct ToDo {
    /// Where to do it.
    pub href: String,
    /// What it is about.
    pub name: String,
    /// Key of the state's text.
    pub state_key: String,
}

#[derive(Template)]
#[template(path = "pages/home.html")]
struct HomePage {
    page: Page,
    events: Vec<LifeEventView>,
    elder_bundles: Vec<BundleSummary>,
    popular: Vec<ItemHit>,
    todos: Vec<ToDo>,
}

/// The applications of a signed-in person, newest first.
pub(crate) async fn own_applications(
    state: &Shared,
    actor: &Actor,
) -> Result<Vec<ApplicationRow>, ApiError> {
    let Actor::Citizen(c) = actor else {
        return Ok(Vec::new());
    };
    let db = &state.app.db;
    let mut rows = db
        .applications_of_account(&c.account, 100)
        .await
        .map_err(onetrip_app::AppError::from)?;
    rows.sort_by_key(|r| std::cmp::Reverse(r.updated_at));
    Ok(rows)
}

/// The name of what an application is for.
pub(crate) async fn application_name(state: &Shared, row: &ApplicationRow, en: bool) -> String {
    if let Some(code) = &row.bundle_code
        && let Ok(view) = state.app.bundle_view(code).await
    {
        return match (&view.bundle.name_en, en) {
            (Some(name), true) => name.clone(),
            _ => view.bundle.name.clone(),
        };
    }
    if let Some(code) = &row.item_code
        && let Ok((item, _)) = state.app.service_item(code).await
    {
        return item.name;
    }
    row.bundle_code
        .clone()
        .or_else(|| row.item_code.clone())
        .unwrap_or_default()
}

/// `GET /`: search, life events, common services and, when signed in, what is waiting for the
/// person (drafts to finish, corrections to supply). In elder mode, a short list of big
/// buttons.
pub async fn home(
    State(state): State<Shared>,
    page: Page,
    crate::api::accounts::CurrentActor(actor): crate::api::accounts::CurrentActor,
) -> Result<Response, ApiError> {
    let bundles = state.app.bundles().await?;
    let events = LifeEvent::ALL
        .iter()
        .map(|e| LifeEventView {
            key: format!("life-event-{}", e.as_str()),
            bundles: bundles
                .iter()
                .filter(|b| b.category == e.as_str() && b.status == "active")
                .cloned()
                .collect(),
        })
        .filter(|e| !e.bundles.is_empty())
        .collect();
    let elder_bundles = bundles
        .iter()
        .filter(|b| b.status == "active")
        .take(ELDER_HOME_BUNDLES)
        .cloned()
        .collect();
    let popular = state
        .app
        .find_items(&ItemQuery {
            text: None,
            division: None,
            department: None,
            service_object: None,
            item_type: None,
            life_event: None,
            parent: None,
            include_cancelled: false,
            limit: 8,
            offset: 0,
        })
        .await?
        .items;
    let mut todos = Vec::new();
    for row in own_applications(&state, &actor).await? {
        let href = match row.state.as_str() {
            "draft" => format!("/applications/{}", row.id),
            "correction_needed" => format!("/me/applications/{}", row.id),
            _ => continue,
        };
        todos.push(ToDo {
            href,
            name: application_name(&state, &row, page.en).await,
            state_key: format!("application-state-{}", row.state),
        });
    }
    Ok(ok(&HomePage {
        page,
        events,
        elder_bundles,
        popular,
        todos,
    }))
}

/// Search parameters.
#[derive(Debug, Deserialize)]
pub struct SearchParams {
    /// Text.
    #[serde(default)]
    q: String,
    /// `person` or `organisation`.
    #[serde(default)]
    object: String,
    /// Life event.
    #[serde(default)]
    event: String,
    /// Page, from 1.
    #[serde(default)]
    page: Option<usize>,
}

/// A filter option with whether it is chosen.
pub struct FilterOption {
    /// Value.
    pub value: String,
    /// Key of its text.
    pub key: String,
    /// Chosen.
    pub chosen: bool,
}

#[derive(Template)]
#[template(path = "pages/search.html")]
struct SearchPage {
    page: Page,
    q: String,
    objects: Vec<FilterOption>,
    events: Vec<FilterOption>,
    bundles: Vec<BundleSummary>,
    hits: Vec<ItemHit>,
    total: u64,
    previous_href: Option<String>,
    next_href: Option<String>,
}

const SEARCH_PAGE_SIZE: usize = 20;

/// `GET /search`: items and bundles matching the text, filtered by who applies and life event.
pub async fn search(
    State(state): State<Shared>,
    page: Page,
    Query(p): Query<SearchParams>,
) -> Result<Response, ApiError> {
    let object = match p.object.as_str() {
        "person" => Some(onetrip_domain::catalog::ServiceObject::Person),
        "organisation" => Some(onetrip_domain::catalog::ServiceObject::Organisation),
        _ => None,
    };
    let event = LifeEvent::ALL
        .iter()
        .copied()
        .find(|e| e.as_str() == p.event);
    let page_number = p.page.unwrap_or(1).clamp(1, 500);
    let found = state
        .app
        .find_items(&ItemQuery {
            text: Some(p.q.clone()),
            division: None,
            department: None,
            service_object: object,
            item_type: None,
            life_event: event,
            parent: None,
            include_cancelled: false,
            limit: SEARCH_PAGE_SIZE,
            offset: (page_number - 1) * SEARCH_PAGE_SIZE,
        })
        .await?;
    let bundles = if page_number == 1 {
        matching_bundles(&state, &p.q, event).await?
    } else {
        Vec::new()
    };
    let href = |n: usize| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("q", &p.q);
        if !p.object.is_empty() {
            q.append_pair("object", &p.object);
        }
        if !p.event.is_empty() {
            q.append_pair("event", &p.event);
        }
        q.append_pair("page", &n.to_string());
        format!("/search?{}", q.finish())
    };
    let shown = (page_number * SEARCH_PAGE_SIZE) as u64;
    Ok(ok(&SearchPage {
        objects: ["person", "organisation"]
            .iter()
            .map(|v| FilterOption {
                value: (*v).to_string(),
                key: format!("service-object-{v}"),
                chosen: p.object == *v,
            })
            .collect(),
        events: LifeEvent::ALL
            .iter()
            .map(|e| FilterOption {
                value: e.as_str().to_string(),
                key: format!("life-event-{}", e.as_str()),
                chosen: p.event == e.as_str(),
            })
            .collect(),
        previous_href: (page_number > 1).then(|| href(page_number - 1)),
        next_href: (found.total > shown).then(|| href(page_number + 1)),
        page,
        q: p.q,
        bundles,
        hits: found.items,
        total: found.total,
    }))
}

/// The active bundles whose name contains `text` (all when it is blank), in one life event or
/// any.
pub(crate) async fn matching_bundles(
    state: &Shared,
    text: &str,
    event: Option<LifeEvent>,
) -> Result<Vec<BundleSummary>, ApiError> {
    let text = text.trim().to_lowercase();
    Ok(state
        .app
        .bundles()
        .await?
        .into_iter()
        .filter(|b| b.status == "active")
        .filter(|b| event.is_none_or(|e| e.as_str() == b.category))
        .filter(|b| text.is_empty() || b.name.to_lowercase().contains(&text))
        .collect())
}

/// A material of a guide, with how this visitor gets it.
pub struct MaterialLine {
    /// Name.
    pub name: String,
    /// Whether the platform fetches it.
    pub auto: bool,
    /// Required.
    pub required: bool,
}

#[derive(Template)]
#[template(path = "pages/item.html")]
struct ItemPage {
    page: Page,
    /// The item can be applied for online (the page offers to start).
    online: bool,
    item: ServiceItem,
    guides: Vec<Guide>,
    chosen: Guide,
    materials: Vec<MaterialLine>,
}

/// Situation chosen on the guide.
#[derive(Debug, Deserialize)]
pub struct GuideParams {
    /// Situation code.
    #[serde(default)]
    situation: Option<String>,
}

/// `GET /items/{code}`: the guide of an item for one situation (the first by default), with
/// the materials the platform fetches itself marked.
pub async fn item_guide(
    State(state): State<Shared>,
    page: Page,
    Path(code): Path<String>,
    Query(p): Query<GuideParams>,
) -> Result<Response, ApiError> {
    let (item, guides) = state.app.guides(&code).await?;
    let chosen = match &p.situation {
        Some(s) => guides.iter().find(|g| &g.situation.code == s),
        None => guides.first(),
    }
    .cloned()
    .ok_or_else(|| {
        ApiError::from(onetrip_app::AppError::NotFound {
            kind: "situation",
            key: format!("{code}/{}", p.situation.clone().unwrap_or_default()),
        })
    })?;
    let materials = chosen
        .materials
        .iter()
        .map(|m| MaterialLine {
            name: m.material.name.clone(),
            auto: m.auto_resolvable,
            required: m.material.required,
        })
        .collect();
    Ok(ok(&ItemPage {
        page,
        online: item.applies_online(),
        item,
        guides,
        chosen,
        materials,
    }))
}

#[derive(Template)]
#[template(path = "pages/bundle.html")]
struct BundlePage {
    page: Page,
    view: BundleView,
    members: Vec<(String, String)>,
}

/// `GET /bundles/{code}`: what a bundle covers, what it saves, and the button that starts an
/// application.
pub async fn bundle_guide(
    State(state): State<Shared>,
    page: Page,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let view = state.app.bundle_view(&code).await?;
    let members = view
        .bundle
        .members
        .iter()
        .map(|m| {
            (
                m.item.clone(),
                view.member_names.get(&m.key).cloned().unwrap_or_default(),
            )
        })
        .collect();
    Ok(ok(&BundlePage {
        page,
        view,
        members,
    }))
}
