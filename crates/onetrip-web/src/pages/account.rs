//! The person's own certificates and account: my certificates (我的证照) and showing one
//! (亮证) as a QR code with the fields the person chooses, the public verification page of a
//! presentation, who used my data (谁用了我的数据), and the account: profile, assurance level,
//! recent sign-ins, the organisations one may act for and switching to act for one.
//!
//! Every rule is the use cases' and the API's: whose certificate it is, what may be disclosed,
//! who may read the data-access log and for which organisation a person may act.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use onetrip_app::AppError;
use onetrip_app::certificates::{CertificateView, PresentationCheck, PresentedCertificate};
use onetrip_domain::certificate::{CertificateStatus, CertificateType, HolderKind};
use onetrip_domain::identity::{AccountId, AssuranceLevel};
use onetrip_domain::sharing::AccessOutcome;
use serde::Deserialize;
use tower_sessions::Session;

use super::{Page, check_csrf, china_time, encode, first, form_pairs, ok, render};
use crate::Shared;
use crate::api::accounts::{CurrentActor, profile};
use crate::api::certificates::holder;
use crate::api::identifiers::today_in_china;
use crate::api::organisations::{person, switch_acting_for};
use crate::extract::{Path, Query};
use crate::problem::ApiError;

/// The addresses of these pages (the public verification page `/verify/{token}` is in the
/// API's document).
pub const PATHS: &[&str] = &[
    "/me/certificates",
    "/me/certificates/{id}/show",
    "/me/data-access",
    "/me/account",
    "/me/account/acting",
];

/// These pages' routes.
pub fn router() -> axum::Router<Shared> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/me/certificates", get(certificates))
        .route("/me/certificates/{id}/show", get(show_page).post(show_form))
        .route("/me/data-access", get(data_access))
        .route("/me/account", get(account))
        .route("/me/account/acting", post(acting))
}

/// A certificate as listed.
pub struct CertificateLine {
    /// GB/T 36904 identifier.
    pub id: String,
    /// Type name in the page's language.
    pub type_name: String,
    /// Holder, masked (first 6 and last 4).
    pub holder: String,
    /// Issuing department.
    pub issuer: String,
    /// Issue date.
    pub issued_on: String,
    /// Last day of validity, or `None` for long-term.
    pub valid_until: Option<String>,
    /// Key of the status's text.
    pub status_key: &'static str,
    /// Class of the status tag.
    pub status_tone: &'static str,
    /// Why it was revoked.
    pub revocation_reason: Option<String>,
    /// Whether it can be shown (not revoked).
    pub showable: bool,
    /// Address of its show page.
    pub show_href: String,
}

fn status_text(status: CertificateStatus) -> (&'static str, &'static str) {
    match status {
        CertificateStatus::Valid => ("certificate-status-valid", "green"),
        CertificateStatus::Expired => ("certificate-status-expired", "yellow"),
        CertificateStatus::Revoked => ("certificate-status-revoked", "red"),
    }
}

fn line(page: &Page, c: &CertificateView) -> CertificateLine {
    let (status_key, status_tone) = status_text(c.status);
    CertificateLine {
        id: c.id.clone(),
        type_name: page.pick(&c.type_name, Some(&c.type_name_en)).to_string(),
        holder: c.holder.clone(),
        issuer: page
            .pick(&c.issuer.name, c.issuer.name_en.as_deref())
            .to_string(),
        issued_on: c.issued_on.to_string(),
        valid_until: c.valid_until.map(|d| d.to_string()),
        status_key,
        status_tone,
        revocation_reason: c.revocation_reason.clone(),
        showable: c.status != CertificateStatus::Revoked,
        show_href: format!("/me/certificates/{}/show", encode(&c.id)),
    }
}

#[derive(Template)]
#[template(path = "pages/account/certificates.html")]
struct CertificatesPage {
    page: Page,
    lines: Vec<CertificateLine>,
}

/// `GET /me/certificates`: the certificates of whom the person acts for, newest first, with
/// their status (expired and revoked shown).
pub async fn certificates(
    State(state): State<Shared>,
    page: Page,
    CurrentActor(actor): CurrentActor,
) -> Result<Response, ApiError> {
    let (kind, id) = holder(&state, &actor).await?;
    let views = state
        .app
        .certificates_of_holder(kind, &id, Timestamp::now())
        .await?;
    let lines = views.iter().map(|c| line(&page, c)).collect();
    Ok(ok(&CertificatesPage { page, lines }))
}

/// A checkbox of the disclosure form.
pub struct Choice {
    /// Its id.
    pub id: String,
    /// Posted value.
    pub value: String,
    /// Its label.
    pub label: String,
    /// Ticked.
    pub checked: bool,
}

/// One disclosed row of a presentation.
pub struct Row {
    /// Field name.
    pub label: String,
    /// Its value.
    pub value: String,
}

/// A presentation made, as its holder sees it.
pub struct Shown {
    /// The public verification link.
    pub url: String,
    /// The link as an inline SVG QR code.
    pub qr_svg: String,
    /// When it stops verifying.
    pub expires: String,
    /// What it discloses.
    pub disclosed: Vec<Row>,
}

#[derive(Template)]
#[template(path = "pages/account/show.html")]
struct ShowPage {
    page: Page,
    cert: CertificateLine,
    fields: Vec<Choice>,
    predicates: Vec<Choice>,
    errors: Vec<(String, String)>,
    disclosure_error: Option<String>,
    shown: Option<Shown>,
    expired: bool,
}

/// The predicates a holder may disclose for a type, instead of a field (`age_at_least:18`
/// needs the type's date of birth).
fn predicate_choices(ty: &CertificateType) -> Vec<&'static str> {
    if ty.birth_field.is_some() {
        vec!["age_at_least:18"]
    } else {
        Vec::new()
    }
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "—".to_owned(),
        other => other.to_string(),
    }
}

/// The rows a presentation discloses, fields then predicates.
fn disclosed_rows(page: &Page, p: &PresentedCertificate) -> Vec<Row> {
    let mut rows: Vec<Row> = p
        .fields
        .iter()
        .map(|f| Row {
            label: page.pick(&f.name, Some(&f.name_en)).to_string(),
            value: value_text(&f.value),
        })
        .collect();
    rows.extend(p.predicates.iter().map(|pr| {
        Row {
            label: page
                .pick(&pr.description, Some(&pr.description_en))
                .to_string(),
            value: page.t(if pr.holds { "verify-yes" } else { "verify-no" }),
        }
    }));
    rows
}

/// The QR code of `url` for inlining in a page (without its XML declaration); the template
/// names it.
fn inline_qr(url: &str) -> Result<String, ApiError> {
    let svg = onetrip_app::certificates::qr_svg(url)?;
    Ok(match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg,
    })
}

/// The certificate `id` of whom the person acts for, with its type and holder, through the use
/// case (404 when there is no such certificate, 403 when it is not theirs).
async fn own_certificate(
    state: &Shared,
    actor: &crate::policy::Actor,
    id: &str,
) -> Result<(CertificateView, CertificateType, (HolderKind, String)), ApiError> {
    let (kind, holder_id) = holder(state, actor).await?;
    let view = state
        .app
        .holder_certificate(id, (kind, &holder_id), Timestamp::now())
        .await?;
    let ty = state
        .app
        .certificate_types()
        .await?
        .into_iter()
        .find(|t| t.code == view.certificate_type)
        .ok_or_else(|| {
            ApiError::from(AppError::NotFound {
                kind: "certificate_type",
                key: view.certificate_type.clone(),
            })
        })?;
    Ok((view, ty, (kind, holder_id)))
}

fn show_page_of(
    page: Page,
    view: &CertificateView,
    ty: &CertificateType,
    chosen_fields: &[String],
    chosen_predicates: &[String],
) -> ShowPage {
    let fields = ty
        .fields
        .iter()
        .map(|f| Choice {
            id: format!("field-{}", f.key),
            value: f.key.clone(),
            label: page.pick(&f.name, Some(&f.name_en)).to_string(),
            checked: chosen_fields.contains(&f.key),
        })
        .collect();
    let predicates = predicate_choices(ty)
        .into_iter()
        .enumerate()
        .map(|(i, p)| Choice {
            id: format!("predicate-{i}"),
            value: p.to_string(),
            label: page.t("show-predicate-adult"),
            checked: chosen_predicates.iter().any(|c| c == p),
        })
        .collect();
    ShowPage {
        cert: line(&page, view),
        fields,
        predicates,
        errors: Vec::new(),
        disclosure_error: None,
        shown: None,
        expired: false,
        page,
    }
}

/// The presentation just made, carried to the show page after the redirect.
#[derive(Debug, Deserialize)]
pub struct ShowParams {
    /// The presentation token.
    #[serde(default)]
    token: Option<String>,
}

/// `GET /me/certificates/{id}/show`: the fields of the certificate to choose from; after a
/// presentation (`?token=`), its QR code, link, disclosed fields and expiry.
pub async fn show_page(
    State(state): State<Shared>,
    page: Page,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    Query(p): Query<ShowParams>,
) -> Result<Response, ApiError> {
    let (view, ty, _) = own_certificate(&state, &actor, &id).await?;
    let mut show = show_page_of(page, &view, &ty, &[], &[]);
    if let Some(token) = p.token.filter(|t| !t.is_empty()) {
        match state
            .app
            .verify_presentation(&token, Timestamp::now())
            .await?
        {
            PresentationCheck::Verified(p) if p.certificate_id == view.id => {
                let url = format!("{}/verify/{token}", state.app.issuer());
                let qr_svg = inline_qr(&url)?;
                for c in &mut show.fields {
                    c.checked = p.fields.iter().any(|f| f.key == c.value);
                }
                for c in &mut show.predicates {
                    c.checked = p.predicates.iter().any(|f| f.predicate == c.value);
                }
                show.shown = Some(Shown {
                    url,
                    qr_svg,
                    expires: china_time(p.expires_at),
                    disclosed: disclosed_rows(&show.page, &p),
                });
            }
            PresentationCheck::Expired { .. } => show.expired = true,
            // Someone else's or a broken token: the page offers a new presentation.
            _ => {}
        }
    }
    Ok(ok(&show))
}

/// `POST /me/certificates/{id}/show`: makes a presentation disclosing the ticked fields
/// (`fields`) and statements (`predicates`), then shows it. Nothing ticked, or a revoked
/// certificate, is answered on the page.
pub async fn show_form(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(&body);
    check_csrf(&session, first(&pairs, "csrf_token")).await?;
    let values = |name: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let (fields, predicates) = (values("fields"), values("predicates"));
    let (view, ty, (kind, holder_id)) = own_certificate(&state, &actor, &id).await?;
    let made = state
        .app
        .present_certificate(
            &view.id,
            (kind, &holder_id),
            &fields,
            &predicates,
            None,
            Timestamp::now(),
        )
        .await;
    match made {
        Ok(p) => Ok(Redirect::to(&format!(
            "/me/certificates/{}/show?token={}",
            encode(&view.id),
            encode(&p.token)
        ))
        .into_response()),
        Err(AppError::Rejected(problems)) => {
            let mut show = show_page_of(page, &view, &ty, &fields, &predicates);
            let anchor = show
                .fields
                .first()
                .or(show.predicates.first())
                .map(|c| c.id.clone())
                .unwrap_or_default();
            for p in problems {
                let message = if show.page.en {
                    p.message_en
                } else {
                    p.message_zh
                };
                if p.path == "disclosure" || p.path == "predicates" {
                    show.disclosure_error = Some(message.clone());
                    show.errors.push((anchor.clone(), message));
                } else {
                    show.errors.push(("main".to_string(), message));
                }
            }
            Ok(render(&show, StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "pages/account/verify.html")]
struct VerifyPage {
    page: Page,
    /// `ok`, `warn` or `bad`.
    tone: &'static str,
    verdict: String,
    rows: Vec<Row>,
    disclosed: Vec<Row>,
    note: String,
}

/// The public verification page of a presentation (`GET /verify/{token}`, the URL in the QR
/// code): authenticity, live status, issuer and only the disclosed fields; expired and
/// tampered codes say so. No sign-in, no JavaScript.
pub async fn verify(state: &Shared, page: Page, token: &str) -> Response {
    let check = match state.app.verify_presentation(token, Timestamp::now()).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "presentation verification failed");
            return ApiError::from(AppError::Internal(e.to_string())).into_response();
        }
    };
    let mut v = VerifyPage {
        page,
        tone: "bad",
        verdict: String::new(),
        rows: Vec::new(),
        disclosed: Vec::new(),
        note: String::new(),
    };
    match check {
        PresentationCheck::Tampered => v.verdict = v.page.t("verify-tampered"),
        PresentationCheck::Expired { expired_at } => {
            v.tone = "warn";
            v.verdict = v.page.tv("verify-expired", &china_time(expired_at));
        }
        PresentationCheck::Verified(p) => {
            let (status_key, _) = status_text(p.status);
            v.tone = match p.status {
                CertificateStatus::Valid => "ok",
                CertificateStatus::Expired => "warn",
                CertificateStatus::Revoked => "bad",
            };
            v.verdict = v.page.t(match p.status {
                CertificateStatus::Valid => "verify-valid",
                CertificateStatus::Expired => "verify-cert-expired",
                CertificateStatus::Revoked => "verify-revoked",
            });
            let issuer = v.page.pick(&p.issuer.name, p.issuer.name_en.as_deref());
            v.rows = vec![
                Row {
                    label: v.page.t("certificate-type"),
                    value: v.page.pick(&p.type_name, Some(&p.type_name_en)).to_string(),
                },
                Row {
                    label: v.page.t("certificate-status"),
                    value: v.page.t(status_key),
                },
                Row {
                    label: v.page.t("certificate-issuer"),
                    value: format!("{issuer} ({})", p.issuer.credit_code),
                },
                Row {
                    label: v.page.t("certificate-id"),
                    value: p.certificate_id.clone(),
                },
            ];
            if let Some(reason) = &p.revocation_reason {
                v.rows.push(Row {
                    label: v.page.t("certificate-revocation-reason"),
                    value: reason.clone(),
                });
            }
            v.disclosed = disclosed_rows(&v.page, &p);
            v.note = v.page.tv("verify-note", &china_time(p.expires_at));
        }
    }
    ok(&v)
}

/// One access to the person's data.
pub struct AccessLine {
    /// When.
    pub at: String,
    /// Who read: the department system or the service item.
    pub consumer: String,
    /// The data resource.
    pub resource: String,
    /// Who provided it.
    pub provider: String,
    /// Stated purpose.
    pub purpose: String,
    /// Case number, if any.
    pub case_ref: Option<String>,
    /// Key of the outcome's text.
    pub outcome_key: &'static str,
}

#[derive(Template)]
#[template(path = "pages/account/data_access.html")]
struct DataAccessPage {
    page: Page,
    lines: Vec<AccessLine>,
    page_number: usize,
    previous: Option<String>,
    next: Option<String>,
}

/// Entries per page of the data-access log.
const ACCESS_PAGE_SIZE: usize = 20;
/// Entries the use case is asked for at most (as the API's `GET /api/v1/me/data-access`).
const ACCESS_MAX: i64 = 500;

/// Which page of the log.
#[derive(Debug, Deserialize)]
pub struct PageParams {
    /// 1-based.
    #[serde(default)]
    page: Option<usize>,
}

/// `GET /me/data-access`: who used my data, newest first, 20 per page (the latest 500). Needs
/// real-name verification: below L2 the person is sent to step up.
pub async fn data_access(
    State(state): State<Shared>,
    page: Page,
    CurrentActor(actor): CurrentActor,
    Query(p): Query<PageParams>,
) -> Result<Response, ApiError> {
    let c = person(&actor)?;
    let rows = state
        .app
        .my_data_accesses(&AccountId::new(c.account.clone()), c.level, ACCESS_MAX)
        .await?;
    let pages = rows.len().div_ceil(ACCESS_PAGE_SIZE).max(1);
    let number = p.page.unwrap_or(1).clamp(1, pages);
    let lines = rows
        .into_iter()
        .skip((number - 1) * ACCESS_PAGE_SIZE)
        .take(ACCESS_PAGE_SIZE)
        .map(|r| AccessLine {
            at: china_time(r.entry.at),
            consumer: r.consumer_name,
            resource: r.resource_name,
            provider: r.provider_name,
            purpose: r.entry.purpose,
            case_ref: r.entry.case_ref,
            outcome_key: match r.entry.outcome {
                AccessOutcome::Allowed => "access-outcome-allowed",
                AccessOutcome::NotFound => "access-outcome-not-found",
                AccessOutcome::Refused => "access-outcome-refused",
                AccessOutcome::RateLimited => "access-outcome-rate-limited",
            },
        })
        .collect();
    let link = |n: usize| format!("/me/data-access?page={n}");
    Ok(ok(&DataAccessPage {
        page,
        lines,
        page_number: number,
        previous: (number > 1).then(|| link(number - 1)),
        next: (number < pages).then(|| link(number + 1)),
    }))
}

/// An organisation the person may act for.
pub struct OrganisationLine {
    /// Credit code.
    pub credit_code: String,
    /// Name.
    pub name: String,
    /// Key of the basis's text (legal representative or delegation).
    pub basis_key: &'static str,
    /// The session acts for it now.
    pub current: bool,
}

/// One sign-in.
pub struct SignInLine {
    /// When.
    pub at: String,
    /// How.
    pub method: String,
    /// Whether it succeeded.
    pub succeeded: bool,
    /// From where.
    pub ip: String,
}

#[derive(Template)]
#[template(path = "pages/account/account.html")]
struct AccountPage {
    page: Page,
    name: String,
    resident_id: String,
    phone: String,
    level: &'static str,
    step_up: Option<String>,
    sign_ins: Vec<SignInLine>,
    organisations: Vec<OrganisationLine>,
    acting_name: Option<String>,
    errors: Vec<(String, String)>,
    acting_error: Option<String>,
}

async fn account_page_of(
    state: &Shared,
    page: Page,
    c: &crate::policy::CitizenActor,
) -> Result<AccountPage, ApiError> {
    let profile = profile(state, c).await?;
    let account = AccountId::new(c.account.clone());
    let sign_ins = state
        .app
        .recent_sign_ins(&account, 10)
        .await?
        .into_iter()
        .map(|e| SignInLine {
            at: china_time(e.at),
            method: match e.method.as_str() {
                "password" => page.t("sign-in-method-password"),
                "sms" => page.t("sign-in-method-sms"),
                "partner" => page.t("sign-in-method-partner"),
                _ => e.method,
            },
            succeeded: e.succeeded,
            ip: e.ip.unwrap_or_default(),
        })
        .collect();
    let organisations: Vec<OrganisationLine> = state
        .app
        .organisations_i_may_act_for(&account, today_in_china())
        .await?
        .into_iter()
        .map(|o| OrganisationLine {
            current: c.acting_for.as_deref() == Some(o.organisation.credit_code.as_str()),
            credit_code: o.organisation.credit_code,
            name: o.organisation.name,
            basis_key: if o.legal_representative {
                "account-basis-representative"
            } else {
                "account-basis-delegation"
            },
        })
        .collect();
    let acting_name = c.acting_for.as_ref().map(|code| {
        organisations
            .iter()
            .find(|o| &o.credit_code == code)
            .map(|o| format!("{} ({code})", o.name))
            .unwrap_or_else(|| code.clone())
    });
    let level = profile.assurance_level;
    Ok(AccountPage {
        name: profile.name,
        resident_id: profile.resident_id,
        phone: profile.phone,
        level: match level {
            AssuranceLevel::L1 => "account-level-l1",
            AssuranceLevel::L2 => "account-level-l2",
            AssuranceLevel::L3 => "account-level-l3",
        },
        step_up: (level < AssuranceLevel::L3)
            .then(|| format!("/step-up?next={}", encode("/me/account"))),
        sign_ins,
        organisations,
        acting_name,
        errors: Vec::new(),
        acting_error: None,
        page,
    })
}

/// `GET /me/account`: name, masked ID number and phone, assurance level (with the way up),
/// recent sign-ins, and the organisations the person may act for, with the switch.
pub async fn account(
    State(state): State<Shared>,
    page: Page,
    CurrentActor(actor): CurrentActor,
) -> Result<Response, ApiError> {
    let c = person(&actor)?;
    Ok(ok(&account_page_of(&state, page, c).await?))
}

/// `POST /me/account/acting`: acts for the organisation `organisation` (a credit code), or for
/// oneself when it is empty, under the rules of `PUT /api/v1/session/acting`; a refusal is
/// shown next to the choice.
pub async fn acting(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    CurrentActor(actor): CurrentActor,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(&body);
    check_csrf(&session, first(&pairs, "csrf_token")).await?;
    let c = person(&actor)?;
    let organisation = first(&pairs, "organisation")
        .map(str::trim)
        .filter(|o| !o.is_empty());
    match switch_acting_for(&state, c, &session, organisation).await {
        Ok(()) => Ok(Redirect::to("/me/account").into_response()),
        Err(e) if e.status == StatusCode::FORBIDDEN => {
            let message = if page.en {
                e.message_en.clone()
            } else {
                e.message_zh.clone()
            };
            let mut a = account_page_of(&state, page, c).await?;
            a.errors = vec![("acting".to_string(), message.clone())];
            a.acting_error = Some(message);
            Ok(render(&a, StatusCode::FORBIDDEN))
        }
        Err(e) => Err(e),
    }
}
