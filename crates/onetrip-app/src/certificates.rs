//! Electronic certificates (电子证照库): issuing with the issuing department's SM2 seal,
//! revocation, a holder's certificates, export for third parties, verification of exports,
//! and presentations (亮证) by short-lived signed QR codes.
//!
//! - **Sealing.** A certificate's *signed document* (identifier, type, issuer, holder, dates,
//!   content, seal key id) is encoded canonically ([`onetrip_seal::canonical_json`]) and
//!   signed with SM2 over SM3 (distinguishing ID `1234567812345678`) by the issuing
//!   department's current seal key. Signing sits behind [`SealSigner`] so that a certified
//!   signing server or HSM can replace the [`SoftwareSigner`]; whatever signs, every public key
//!   is registered in the store (`seal_keys`) under its key id, and verification trusts only
//!   registered keys.
//! - **Rotation.** [`SealSigner::rotate`] retires a department's key and makes a new one;
//!   retired keys stay registered, so old certificates stay verifiable.
//! - **Status is live.** An export or a presentation carries no status: verification reads
//!   it from the store, so a revocation shows at once.
//! - **Presentations** are tokens `base64url(canonical claims) "." base64url(DER signature)`
//!   signed by the platform key (department `PLATFORM`), carrying only the disclosed fields and
//!   predicate results, the certificate identifier and an expiry (5 minutes by default).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::Engine;
use jiff::Timestamp;
use jiff::civil::Date;
use onetrip_domain::Localized;
use onetrip_domain::certificate::{
    CertificateError, CertificateStatus, CertificateType, Disclosure, HolderKind, Predicate,
    check_revocation_reason,
};
use onetrip_domain::identifiers::{CertificateId, CreditCode, ResidentId};
use onetrip_domain::identity::{AccountId, StaffRole, Target};
pub use onetrip_seal::KeyEncryptionKey;
use onetrip_seal::{SealKey, SealPublicKey};
use onetrip_store::{CertificateRow, Db, HolderCertificate, SealKeyRow, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::china_today;
use crate::idempotency::{Keyed, key_in_use};
use crate::{App, AppError, FieldProblem, Result};

/// The demo certificate types (YAML), one per certificate type used by the demo catalog.
pub const DEMO_CERTIFICATE_TYPES: &str = include_str!("../../../data/demo/certificate_types.yaml");

/// The pseudo-department whose seal signs presentations.
pub const PLATFORM_SEAL: &str = "PLATFORM";

/// The `format` of exports.
pub const EXPORT_FORMAT: &str = "onetrip-certificate/1";

/// A signature made by a [`SealSigner`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealSignature {
    /// Id of the registered seal key that made it.
    pub key_id: String,
    /// DER-encoded SM2 signature.
    pub der: Vec<u8>,
}

/// Signs with departments' seals. Implementations must register every public key they sign
/// with in the store ([`Db::insert_seal_key`]), under the key id they return, before the
/// signature is used: verification trusts registered keys only.
#[async_trait]
pub trait SealSigner: Send + Sync {
    /// The id of the key [`SealSigner::sign`] would use for `department` now (creating the
    /// department's first key if it has none). Callers put it into the signed document.
    async fn current_key_id(&self, department: &str, now: Timestamp) -> Result<String>;

    /// Signs `message` (SM2 over SM3, distinguishing ID `1234567812345678`) with the key
    /// `key_id` of `department`, which [`SealSigner::current_key_id`] returned.
    async fn sign(&self, department: &str, key_id: &str, message: &[u8]) -> Result<SealSignature>;

    /// Retires the department's active key and makes a new one; returns the new key id.
    async fn rotate(&self, department: &str, now: Timestamp) -> Result<String>;
}

/// The software signer: SM2 keys generated on demand, kept (PKCS#8 PEM) in the store's
/// `seal_keys` table — encrypted with SM4-GCM when a key-encryption key is configured
/// ([`SoftwareSigner::with_kek`]). Not certified: production deployments that need a certified
/// device put their own [`SealSigner`] in its place ([`App::with_seal_signer`]).
pub struct SoftwareSigner {
    db: Db,
    kek: Option<KeyEncryptionKey>,
    keys: Mutex<HashMap<String, SealKey>>,
}

impl std::fmt::Debug for SoftwareSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareSigner").finish_non_exhaustive()
    }
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

impl SoftwareSigner {
    /// A signer keeping its keys in `db`.
    pub fn new(db: Db) -> SoftwareSigner {
        SoftwareSigner {
            db,
            kek: None,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// A signer that stores the keys it makes encrypted under `kek`, and can use keys stored so.
    /// Keys stored in plain PKCS#8 before (without a KEK) stay usable.
    pub fn with_kek(db: Db, kek: KeyEncryptionKey) -> SoftwareSigner {
        SoftwareSigner {
            kek: Some(kek),
            ..SoftwareSigner::new(db)
        }
    }

    async fn create_key(&self, department: &str, now: Timestamp, rotate: bool) -> Result<String> {
        let key = SealKey::generate().map_err(internal)?;
        let n = self.db.seal_keys_of(department).await?.len() + 1;
        let id = format!("{department}-{n}-{}", &key.public_key().fingerprint()[..8]);
        let row = SealKeyRow {
            id: id.clone(),
            department: department.to_owned(),
            public_key_pem: key.public_key().to_spki_pem().map_err(internal)?,
            private_key_pem: Some({
                let pem = key.to_pkcs8_pem().map_err(internal)?;
                match &self.kek {
                    Some(kek) => kek.encrypt(&id, &pem).map_err(internal)?,
                    None => pem,
                }
            }),
            created_at: now,
            retired_at: None,
        };
        match self.db.insert_seal_key(&row, rotate).await {
            Ok(()) => {}
            // Another replica made the department's first key at the same moment: use it.
            Err(StoreError::Conflict(_)) if !rotate => {
                return self
                    .db
                    .active_seal_key(department)
                    .await?
                    .map(|k| k.id)
                    .ok_or_else(|| internal("seal key vanished"));
            }
            Err(e) => return Err(e.into()),
        }
        self.cache().insert(id.clone(), key);
        Ok(id)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, SealKey>> {
        // A panic while holding this lock leaves a plain map behind: still usable.
        self.keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl SealSigner for SoftwareSigner {
    async fn current_key_id(&self, department: &str, now: Timestamp) -> Result<String> {
        match self.db.active_seal_key(department).await? {
            Some(k) => Ok(k.id),
            None => self.create_key(department, now, false).await,
        }
    }

    async fn sign(&self, department: &str, key_id: &str, message: &[u8]) -> Result<SealSignature> {
        let cached = self.cache().get(key_id).cloned();
        let key = match cached {
            Some(k) => k,
            None => {
                let row = self
                    .db
                    .seal_key(key_id)
                    .await?
                    .filter(|r| r.department == department)
                    .ok_or_else(|| internal(format!("no seal key {key_id} of {department}")))?;
                let stored = row.private_key_pem.ok_or_else(|| {
                    internal(format!("seal key {key_id} has no private key here"))
                })?;
                let pem = if onetrip_seal::kek::is_encrypted(&stored) {
                    let kek = self.kek.as_ref().ok_or_else(|| {
                        internal(format!(
                            "seal key {key_id} is encrypted and no key-encryption key is \
                             configured (ONETRIP_SEAL_KEK)"
                        ))
                    })?;
                    kek.decrypt(key_id, &stored)
                        .map_err(|e| internal(format!("seal key {key_id}: {e}")))?
                } else {
                    stored
                };
                let key = SealKey::from_pkcs8_pem(&pem).map_err(internal)?;
                self.cache().insert(key_id.to_owned(), key.clone());
                key
            }
        };
        Ok(SealSignature {
            key_id: key_id.to_owned(),
            der: key.sign(message).map_err(internal)?,
        })
    }

    async fn rotate(&self, department: &str, now: Timestamp) -> Result<String> {
        self.create_key(department, now, true).await
    }
}

/// Certificate state of the [`App`]: the signer and the cache of registered public keys.
pub(crate) struct CertificateState {
    signer: Arc<dyn SealSigner>,
    public_keys: Mutex<HashMap<String, (String, SealPublicKey)>>,
}

impl CertificateState {
    pub(crate) fn new(signer: Arc<dyn SealSigner>) -> CertificateState {
        CertificateState {
            signer,
            public_keys: Mutex::new(HashMap::new()),
        }
    }
}

/// Who issues or revokes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertificateActor {
    /// The platform itself or the operator (other use cases issuing results, demo data, the
    /// admin token).
    System,
    /// A member of staff: a department officer or head whose role grant covers the issuing
    /// department.
    Staff(AccountId),
}

impl CertificateActor {
    /// Whose idempotency keys these are.
    fn label(&self) -> String {
        match self {
            CertificateActor::System => "system".to_owned(),
            CertificateActor::Staff(id) => format!("staff:{id}"),
        }
    }
}

/// A request to issue a certificate.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueRequest {
    /// Certificate type code (e.g. `ID_CARD`).
    pub certificate_type: String,
    /// Holder kind (must be the type's).
    pub holder_kind: HolderKind,
    /// Holder: resident ID number (person) or credit code (organisation).
    pub holder_id: String,
    /// Content: the type's fields.
    pub content: Map<String, Value>,
    /// Issue date (default: today in China).
    #[serde(default)]
    pub issued_on: Option<Date>,
}

impl std::fmt::Debug for IssueRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssueRequest")
            .field("certificate_type", &self.certificate_type)
            .field("holder_kind", &self.holder_kind)
            .finish_non_exhaustive()
    }
}

/// A party named in a certificate view: code and names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Party {
    /// Credit code.
    pub credit_code: String,
    /// Name in Chinese.
    pub name: String,
    /// Name in English, if known.
    pub name_en: Option<String>,
}

/// A certificate as shown to its holder or issuer.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct CertificateView {
    /// GB/T 36904 identifier.
    pub id: String,
    /// Type code.
    pub certificate_type: String,
    /// Type name in Chinese.
    pub type_name: String,
    /// Type name in English.
    pub type_name_en: String,
    /// Holder kind.
    pub holder_kind: HolderKind,
    /// Holder id, masked (first 6 + last 4).
    pub holder: String,
    /// Issuing department.
    pub issuer: Party,
    /// Issue date.
    pub issued_on: Date,
    /// Last day of validity (`null`: long-term).
    pub valid_until: Option<Date>,
    /// Status today.
    pub status: CertificateStatus,
    /// Revocation reason, if revoked.
    pub revocation_reason: Option<String>,
    /// The content fields.
    pub content: Map<String, Value>,
    /// Seal key that signed it.
    pub seal_key_id: String,
}

impl std::fmt::Debug for CertificateView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateView")
            .field("id", &self.id)
            .field("certificate_type", &self.certificate_type)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// A certificate exported for third parties: the signed document, the signature and what is
/// needed to check it with any SM2 implementation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateExport {
    /// `onetrip-certificate/1`.
    pub format: String,
    /// The signed document (status-independent): its canonical encoding is what was signed.
    pub signed: Value,
    /// Standard base64 of the DER SM2 signature.
    pub signature: String,
    /// `SM2-SM3`.
    pub algorithm: String,
    /// The SM2 distinguishing ID, `1234567812345678`.
    pub distinguishing_id: String,
    /// Id of the issuer's seal key.
    pub seal_key_id: String,
    /// The issuer's public key (SubjectPublicKeyInfo PEM).
    pub issuer_public_key: String,
}

/// The answer to verifying an export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExportVerification {
    /// The signature verifies against the registered key of the seal key id, the embedded
    /// key is that key, the key belongs to the issuer, and the certificate is on record.
    pub authentic: bool,
    /// Status today (from the record when there is one, else as the document claims).
    pub status: CertificateStatus,
    /// The issuer (as the document says; trustworthy only when authentic).
    pub issuer: Value,
    /// The content fields when authentic, else `null`.
    pub fields: Value,
    /// Identifier, as the document says.
    pub certificate_id: Value,
    /// Revocation reason, if revoked.
    pub revocation_reason: Option<String>,
    /// Why it is not authentic (`malformed`, `not_canonical`, `unknown_key`, `key_mismatch`,
    /// `wrong_issuer`, `bad_signature`, `unknown_certificate`); `null` when authentic.
    pub reason: Option<&'static str>,
}

/// A presentation just made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Presentation {
    /// The token.
    pub token: String,
    /// The public verification URL `<public_url>/verify/<token>`.
    pub url: String,
    /// The URL as a QR code (SVG).
    pub qr_svg: String,
    /// When it stops verifying.
    pub expires_at: Timestamp,
}

/// One disclosed field of a presentation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DisclosedField {
    /// Field key.
    pub key: String,
    /// Name in Chinese.
    pub name: String,
    /// Name in English.
    pub name_en: String,
    /// The value.
    pub value: Value,
}

/// One disclosed predicate of a presentation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DisclosedPredicate {
    /// `age_at_least:18`…
    pub predicate: String,
    /// Description in Chinese.
    pub description: String,
    /// Description in English.
    pub description_en: String,
    /// Whether it holds.
    pub holds: bool,
}

/// What verifying a presentation found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PresentationCheck {
    /// Not a presentation signed by this platform (malformed or tampered).
    Tampered,
    /// Authentic but past its expiry.
    Expired {
        /// When it expired.
        expired_at: Timestamp,
    },
    /// Authentic and current.
    Verified(Box<PresentedCertificate>),
}

/// An authentic, current presentation: only what the holder disclosed, with live status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PresentedCertificate {
    /// Certificate identifier.
    pub certificate_id: String,
    /// Type code.
    pub certificate_type: String,
    /// Type name in Chinese.
    pub type_name: String,
    /// Type name in English.
    pub type_name_en: String,
    /// Issuing department.
    pub issuer: Party,
    /// Status now.
    pub status: CertificateStatus,
    /// Revocation reason, if revoked.
    pub revocation_reason: Option<String>,
    /// Disclosed fields.
    pub fields: Vec<DisclosedField>,
    /// Disclosed predicates.
    pub predicates: Vec<DisclosedPredicate>,
    /// When the presentation expires.
    pub expires_at: Timestamp,
}

/// Refusals of the certificate use cases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertificateRefusal {
    /// The member of staff may not issue for this department. Code
    /// `certificate_issuer_not_permitted`.
    NotPermitted,
    /// The certificate is not the caller's. Code `certificate_not_holder`.
    NotHolder,
}

impl Localized for CertificateRefusal {
    fn code(&self) -> &'static str {
        match self {
            Self::NotPermitted => "certificate_issuer_not_permitted",
            Self::NotHolder => "certificate_not_holder",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::NotPermitted => {
                "您的岗位授权不包含该证照的发证部门：只有发证部门的经办人或负责人可以颁发或注销"
                    .to_owned()
            }
            Self::NotHolder => "这不是您持有的证照".to_owned(),
        }
    }

    fn message_en(&self) -> String {
        match self {
            Self::NotPermitted => "Your role grants do not cover the issuing department: only \
                                   its officers and heads may issue or revoke"
                .to_owned(),
            Self::NotHolder => "This certificate is not yours".to_owned(),
        }
    }
}

fn invalid(path: &str, e: &dyn Localized) -> AppError {
    AppError::Rejected(vec![FieldProblem::new(path, e)])
}

fn mask(id: &str) -> String {
    let n = id.chars().count();
    if n <= 10 {
        return "*".repeat(n);
    }
    id.chars()
        .enumerate()
        .map(|(i, c)| if i < 6 || i >= n - 4 { c } else { '*' })
        .collect()
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
}

/// Largest presentation token accepted for verification, in bytes.
const MAX_TOKEN_LEN: usize = 8192;

impl App {
    /// This application sealing with `signer` instead of the default [`SoftwareSigner`].
    pub fn with_seal_signer(mut self, signer: Arc<dyn SealSigner>) -> App {
        self.certs = Arc::new(CertificateState::new(signer));
        self
    }

    /// The seal signer.
    pub fn seal_signer(&self) -> &Arc<dyn SealSigner> {
        &self.certs.signer
    }

    /// Creates or replaces certificate types after checking each; all or nothing.
    pub async fn save_certificate_types(
        &self,
        types: &[CertificateType],
        now: Timestamp,
    ) -> Result<()> {
        let mut problems = Vec::new();
        for (i, t) in types.iter().enumerate() {
            if let Err(e) = t.check() {
                problems.push(FieldProblem::new(format!("certificate_types[{i}]"), &e));
            }
        }
        if !problems.is_empty() {
            return Err(AppError::Rejected(problems));
        }
        for t in types {
            self.db.save_certificate_type(t, now).await?;
        }
        Ok(())
    }

    /// Every certificate type.
    pub async fn certificate_types(&self) -> Result<Vec<CertificateType>> {
        Ok(self.db.certificate_types().await?)
    }

    async fn require_type(&self, code: &str) -> Result<CertificateType> {
        self.db
            .certificate_type(code)
            .await?
            .ok_or_else(|| AppError::NotFound {
                kind: "certificate_type",
                key: code.to_owned(),
            })
    }

    async fn check_issuer_permission(
        &self,
        actor: &CertificateActor,
        department: &str,
    ) -> Result<()> {
        let CertificateActor::Staff(staff_id) = actor else {
            return Ok(());
        };
        let staff = self
            .db
            .staff_by_id(staff_id.as_str())
            .await?
            .ok_or_else(|| AppError::refused(&CertificateRefusal::NotPermitted))?;
        let dept = self.db.department(department).await?;
        let division = dept
            .and_then(|d| onetrip_domain::identifiers::DivisionCode::parse(&d.division_code).ok());
        let Some(division) = division else {
            return Err(AppError::refused(&CertificateRefusal::NotPermitted));
        };
        let target = Target {
            division: &division,
            department: Some(department),
        };
        let allowed = staff.roles.iter().any(|g| {
            matches!(
                g.role,
                StaffRole::DepartmentOfficer | StaffRole::DepartmentHead
            ) && g.covers(target)
        });
        if allowed {
            Ok(())
        } else {
            Err(AppError::refused(&CertificateRefusal::NotPermitted))
        }
    }

    /// Issues a certificate: checks the actor's permission for the type's issuing department,
    /// the holder and the content against the type; computes the validity and a GB/T 36904
    /// identifier; seals the signed document with the department's current key; stores it.
    /// With an `Idempotency-Key`, a repeated request issues nothing and answers with the
    /// certificate the first one issued, as it stands now.
    pub async fn issue_certificate(
        &self,
        actor: &CertificateActor,
        request: IssueRequest,
        idempotency_key: Option<&str>,
        now: Timestamp,
    ) -> Result<CertificateView> {
        let keyed = Keyed::new(actor.label(), idempotency_key, &request);
        if let Some(id) = self.replayed::<String>(keyed.as_ref()).await? {
            return self.certificate_view(&id, now).await;
        }
        let today = china_today(now);
        let ty = self.require_type(&request.certificate_type).await?;
        self.check_issuer_permission(actor, &ty.issuing_department)
            .await?;
        let holder_id = request.holder_id.trim().to_ascii_uppercase();
        let holder_ok = request.holder_kind == ty.holder_kind
            && match ty.holder_kind {
                HolderKind::Person => ResidentId::parse(&holder_id, today).is_ok(),
                HolderKind::Organisation => CreditCode::parse(&holder_id).is_ok(),
            };
        if !holder_ok {
            return Err(invalid("holder_id", &CertificateError::HolderInvalid));
        }
        if let Err(problems) = ty.check_content(&request.content, today) {
            return Err(AppError::Rejected(
                problems
                    .iter()
                    .map(|p| {
                        let key = match p {
                            CertificateError::UnknownField { key }
                            | CertificateError::MissingField { key }
                            | CertificateError::FieldType { key, .. } => key.as_str(),
                            _ => "",
                        };
                        FieldProblem::new(format!("content.{key}"), p)
                    })
                    .collect(),
            ));
        }
        let issued_on = request.issued_on.unwrap_or(today);
        let birth = ty.birth_date(&request.content, today).or_else(|| {
            (ty.holder_kind == HolderKind::Person)
                .then(|| ResidentId::parse(&holder_id, today).ok())
                .flatten()
                .map(|r| r.birth_date())
        });
        let count = self
            .db
            .certificate_issue_count(ty.holder_kind, &holder_id, &ty.code)
            .await?;
        let valid_until = ty
            .validity
            .valid_until(issued_on, birth, count + 1)
            .map_err(|e| invalid("issued_on", &e))?;
        let issuer = CreditCode::parse(&ty.issuing_department).map_err(|e| invalid("type", &e))?;
        let scope = format!("{}.{}", ty.type_code, issuer);
        let serial = self.db.next_certificate_serial(&scope).await?;
        let serial = format!("{}{serial:08}", issued_on.year());
        let id = CertificateId::new(&ty.type_code, &issuer, &serial, 1)
            .map_err(|e| invalid("type", &e))?;
        let dept = self.db.department(&ty.issuing_department).await?;
        let (issuer_name, issuer_name_en) = dept
            .map(|d| (d.name, d.name_en))
            .unwrap_or_else(|| (ty.issuing_department.clone(), None));
        let signer = &self.certs.signer;
        let key_id = signer.current_key_id(&ty.issuing_department, now).await?;
        let signed = json!({
            "certificate_id": id.as_str(),
            "certificate_type": ty.code,
            "type_code": ty.type_code,
            "type_name": ty.name,
            "issuer": {"credit_code": ty.issuing_department, "name": issuer_name},
            "holder": {"kind": ty.holder_kind.as_str(), "id": holder_id},
            "issued_on": issued_on.to_string(),
            "valid_until": valid_until.map(|d| d.to_string()),
            "content": Value::Object(request.content.clone()),
            "seal_key_id": key_id,
        });
        let canonical = onetrip_seal::canonical_json_string(&signed)
            .map_err(|e| AppError::Rejected(vec![canonical_problem(&e)]))?;
        let sig = signer
            .sign(&ty.issuing_department, &key_id, canonical.as_bytes())
            .await?;
        let row = CertificateRow {
            id: id.as_str().to_owned(),
            type_code: ty.code.clone(),
            holder_kind: ty.holder_kind,
            holder_id,
            issuer: ty.issuing_department.clone(),
            content: Value::Object(request.content),
            signed: canonical,
            issued_on,
            valid_until,
            issued_at: now,
            revoked_at: None,
            revocation_reason: None,
            seal_key_id: sig.key_id,
            signature: onetrip_seal::base64_encode(&sig.der),
        };
        let record = keyed.map(|k| k.record(&row.id));
        self.db
            .insert_certificate(&row, record.as_ref())
            .await
            .map_err(key_in_use)?;
        tracing::info!(certificate = %row.id, certificate_type = %row.type_code, "certificate issued");
        Ok(view(&row, &ty, issuer_name, issuer_name_en, today))
    }

    /// Revokes a certificate with a reason. Revoking a revoked certificate changes nothing
    /// (the first reason stays).
    pub async fn revoke_certificate(
        &self,
        actor: &CertificateActor,
        id: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<CertificateView> {
        let reason = check_revocation_reason(reason).map_err(|e| invalid("reason", &e))?;
        let row = self.require_certificate(id).await?;
        self.check_issuer_permission(actor, &row.issuer).await?;
        self.db.revoke_certificate(&row.id, now, &reason).await?;
        tracing::info!(certificate = %row.id, "certificate revoked");
        self.certificate_view(&row.id, now).await
    }

    async fn require_certificate(&self, id: &str) -> Result<CertificateRow> {
        let id = id.trim().to_ascii_uppercase();
        self.db.certificate(&id).await?.ok_or(AppError::NotFound {
            kind: "certificate",
            key: id,
        })
    }

    /// One certificate as its holder or issuer sees it.
    pub async fn certificate_view(&self, id: &str, now: Timestamp) -> Result<CertificateView> {
        let row = self.require_certificate(id).await?;
        self.row_view(&row, now).await
    }

    async fn row_view(&self, row: &CertificateRow, now: Timestamp) -> Result<CertificateView> {
        let ty = self.require_type(&row.type_code).await?;
        let (name, name_en) = self.issuer_names(&row.issuer).await?;
        Ok(view(row, &ty, name, name_en, china_today(now)))
    }

    async fn issuer_names(&self, code: &str) -> Result<(String, Option<String>)> {
        Ok(match self.db.department(code).await? {
            Some(d) => (d.name, d.name_en),
            None => (code.to_owned(), None),
        })
    }

    /// A holder's certificates with their status on `today` (all types, expired and revoked
    /// included), newest first: one indexed query. Material resolution uses this.
    pub async fn holder_certificates(
        &self,
        kind: HolderKind,
        holder_id: &str,
        today: Date,
    ) -> Result<Vec<HolderCertificate>> {
        Ok(self.db.holder_certificates(kind, holder_id, today).await?)
    }

    /// A holder's certificates in full (content included), newest first.
    pub async fn certificates_of_holder(
        &self,
        kind: HolderKind,
        holder_id: &str,
        now: Timestamp,
    ) -> Result<Vec<CertificateView>> {
        let rows = self.db.certificates_of_holder(kind, holder_id).await?;
        let types: HashMap<String, CertificateType> = self
            .db
            .certificate_types()
            .await?
            .into_iter()
            .map(|t| (t.code.clone(), t))
            .collect();
        let today = china_today(now);
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let Some(ty) = types.get(&row.type_code) else {
                continue;
            };
            let (name, name_en) = self.issuer_names(&row.issuer).await?;
            out.push(view(&row, ty, name, name_en, today));
        }
        Ok(out)
    }

    /// The resident ID number of a person's account (the holder id of their certificates).
    pub async fn holder_of_account(&self, account: &str) -> Result<String> {
        let person = self
            .db
            .person_by_id(account)
            .await?
            .ok_or_else(|| AppError::NotFound {
                kind: "account",
                key: account.to_owned(),
            })?;
        Ok(person.resident_id)
    }

    async fn require_holder(&self, id: &str, holder: (HolderKind, &str)) -> Result<CertificateRow> {
        let row = self.require_certificate(id).await?;
        if row.holder_kind != holder.0 || row.holder_id != holder.1 {
            // Same answer as a missing certificate would leak existence: refuse plainly.
            return Err(AppError::refused(&CertificateRefusal::NotHolder));
        }
        Ok(row)
    }

    /// One certificate of `holder` as its holder sees it: a missing certificate is not found,
    /// another holder's is refused (`certificate_not_holder`).
    pub async fn holder_certificate(
        &self,
        id: &str,
        holder: (HolderKind, &str),
        now: Timestamp,
    ) -> Result<CertificateView> {
        let row = self.require_holder(id, holder).await?;
        self.row_view(&row, now).await
    }

    /// Exports a certificate of `holder` for third parties.
    pub async fn export_certificate(
        &self,
        id: &str,
        holder: (HolderKind, &str),
    ) -> Result<CertificateExport> {
        let row = self.require_holder(id, holder).await?;
        self.export_row(&row).await
    }

    /// Exports any certificate (operator, tests, issuing systems).
    pub async fn export_certificate_unchecked(&self, id: &str) -> Result<CertificateExport> {
        let row = self.require_certificate(id).await?;
        self.export_row(&row).await
    }

    async fn export_row(&self, row: &CertificateRow) -> Result<CertificateExport> {
        let key = self
            .db
            .seal_key(&row.seal_key_id)
            .await?
            .ok_or_else(|| internal(format!("seal key {} missing", row.seal_key_id)))?;
        let signed: Value = serde_json::from_str(&row.signed)
            .map_err(|e| AppError::Store(StoreError::Corrupt(e.to_string())))?;
        Ok(CertificateExport {
            format: EXPORT_FORMAT.to_owned(),
            signed,
            signature: row.signature.clone(),
            algorithm: onetrip_seal::ALGORITHM.to_owned(),
            distinguishing_id: onetrip_seal::DISTINGUISHING_ID.to_owned(),
            seal_key_id: row.seal_key_id.clone(),
            issuer_public_key: key.public_key_pem,
        })
    }

    /// The registered public key `key_id` and its department (cached: keys never change).
    async fn registered_key(&self, key_id: &str) -> Result<Option<(String, SealPublicKey)>> {
        if let Some(k) = self.key_cache().get(key_id) {
            return Ok(Some(k.clone()));
        }
        let Some(row) = self.db.seal_key(key_id).await? else {
            return Ok(None);
        };
        let key = SealPublicKey::from_spki_pem(&row.public_key_pem).map_err(internal)?;
        self.key_cache()
            .insert(key_id.to_owned(), (row.department.clone(), key.clone()));
        Ok(Some((row.department, key)))
    }

    fn key_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, SealPublicKey)>> {
        // A panic while holding this lock leaves a plain map behind: still usable.
        self.certs
            .public_keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Verifies an exported certificate (see [`ExportVerification::authentic`]); the status
    /// is read live from the record.
    pub async fn verify_certificate_export(
        &self,
        export: &CertificateExport,
        now: Timestamp,
    ) -> Result<ExportVerification> {
        let today = china_today(now);
        let signed = export.signed.as_object();
        let claimed_until = signed
            .and_then(|s| s.get("valid_until"))
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<Date>().ok());
        let mut answer = ExportVerification {
            authentic: false,
            status: CertificateStatus::on(claimed_until, false, today),
            issuer: signed
                .and_then(|s| s.get("issuer"))
                .cloned()
                .unwrap_or(Value::Null),
            fields: Value::Null,
            certificate_id: signed
                .and_then(|s| s.get("certificate_id"))
                .cloned()
                .unwrap_or(Value::Null),
            revocation_reason: None,
            reason: None,
        };
        let fail = |mut a: ExportVerification, why: &'static str| {
            a.reason = Some(why);
            Ok(a)
        };
        let Some(signed) = signed else {
            return fail(answer, "malformed");
        };
        let Ok(canonical) = onetrip_seal::canonical_json(&export.signed) else {
            return fail(answer, "not_canonical");
        };
        let Ok(signature) = onetrip_seal::base64_decode(&export.signature) else {
            return fail(answer, "malformed");
        };
        if signed.get("seal_key_id").and_then(Value::as_str) != Some(export.seal_key_id.as_str()) {
            return fail(answer, "key_mismatch");
        }
        let Some((department, key)) = self.registered_key(&export.seal_key_id).await? else {
            return fail(answer, "unknown_key");
        };
        match SealPublicKey::from_spki_pem(&export.issuer_public_key) {
            Ok(embedded) if embedded == key => {}
            _ => return fail(answer, "key_mismatch"),
        }
        let issuer_code = signed
            .get("issuer")
            .and_then(|i| i.get("credit_code"))
            .and_then(Value::as_str);
        if issuer_code != Some(department.as_str()) {
            return fail(answer, "wrong_issuer");
        }
        if key.verify(&canonical, &signature).is_err() {
            return fail(answer, "bad_signature");
        }
        let id = signed
            .get("certificate_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(row) = self.db.certificate(id).await? else {
            return fail(answer, "unknown_certificate");
        };
        if row.signed.as_bytes() != canonical.as_slice() {
            return fail(answer, "unknown_certificate");
        }
        answer.authentic = true;
        answer.status = row.status_on(today);
        answer.revocation_reason = row.revocation_reason.clone();
        answer.fields = row.content.clone();
        Ok(answer)
    }

    /// Makes a presentation (亮证) of a certificate of `holder`: a short-lived token, signed
    /// by the platform, disclosing only `fields` and the results of `predicates`; its URL is
    /// `<public_url>/verify/<token>`, also as a QR code. Revoked certificates cannot be
    /// presented.
    pub async fn present_certificate(
        &self,
        id: &str,
        holder: (HolderKind, &str),
        fields: &[String],
        predicates: &[String],
        lifetime_seconds: Option<u32>,
        now: Timestamp,
    ) -> Result<Presentation> {
        let row = self.require_holder(id, holder).await?;
        let ty = self.require_type(&row.type_code).await?;
        let disclosure = Disclosure::new(&ty, fields, predicates, lifetime_seconds)
            .map_err(|e| invalid("disclosure", &e))?;
        let today = china_today(now);
        if row.revoked_at.is_some() {
            return Err(invalid("id", &CertificateError::Revoked));
        }
        let content = row.content.as_object().cloned().unwrap_or_default();
        let mut shown = Map::new();
        for key in &disclosure.fields {
            shown.insert(
                key.clone(),
                content.get(key).cloned().unwrap_or(Value::Null),
            );
        }
        let mut preds = Map::new();
        for p in &disclosure.predicates {
            let holds = p
                .holds(&ty, &content, today)
                .map_err(|e| invalid("predicates", &e))?;
            preds.insert(p.to_string(), Value::Bool(holds));
        }
        let expires_at = now
            .checked_add(jiff::SignedDuration::from_secs(i64::from(
                disclosure.lifetime_seconds,
            )))
            .map_err(internal)?;
        let signer = &self.certs.signer;
        let key_id = signer.current_key_id(PLATFORM_SEAL, now).await?;
        let claims = json!({
            "v": 1,
            "kid": key_id,
            "cid": row.id,
            "iat": now.as_second(),
            "exp": expires_at.as_second(),
            "fields": shown,
            "predicates": preds,
        });
        let payload = onetrip_seal::canonical_json(&claims).map_err(internal)?;
        let sig = signer.sign(PLATFORM_SEAL, &key_id, &payload).await?;
        let token = format!("{}.{}", b64url(&payload), b64url(&sig.der));
        let url = format!("{}/verify/{token}", self.issuer);
        let qr_svg = qr_svg(&url)?;
        Ok(Presentation {
            token,
            url,
            qr_svg,
            expires_at,
        })
    }

    /// Verifies a presentation token: platform signature, expiry, then live status.
    pub async fn verify_presentation(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<PresentationCheck> {
        let Some(claims) = self.presentation_claims(token).await? else {
            return Ok(PresentationCheck::Tampered);
        };
        let (Some(cid), Some(exp)) = (
            claims.get("cid").and_then(Value::as_str),
            claims.get("exp").and_then(Value::as_i64),
        ) else {
            return Ok(PresentationCheck::Tampered);
        };
        let Ok(expires_at) = Timestamp::from_second(exp) else {
            return Ok(PresentationCheck::Tampered);
        };
        if now > expires_at {
            return Ok(PresentationCheck::Expired {
                expired_at: expires_at,
            });
        }
        let Some(row) = self.db.certificate(cid).await? else {
            return Ok(PresentationCheck::Tampered);
        };
        let ty = self.require_type(&row.type_code).await?;
        let (name, name_en) = self.issuer_names(&row.issuer).await?;
        let mut fields = Vec::new();
        if let Some(shown) = claims.get("fields").and_then(Value::as_object) {
            for (key, value) in shown {
                let (n, n_en) = ty
                    .field(key)
                    .map(|f| (f.name.clone(), f.name_en.clone()))
                    .unwrap_or_else(|| (key.clone(), key.clone()));
                fields.push(DisclosedField {
                    key: key.clone(),
                    name: n,
                    name_en: n_en,
                    value: value.clone(),
                });
            }
            // In the type's field order, not alphabetical.
            fields.sort_by_key(|f| ty.fields.iter().position(|d| d.key == f.key));
        }
        let mut predicates = Vec::new();
        if let Some(preds) = claims.get("predicates").and_then(Value::as_object) {
            for (text, holds) in preds {
                let Ok(p) = Predicate::parse(text) else {
                    continue;
                };
                predicates.push(DisclosedPredicate {
                    predicate: p.to_string(),
                    description: p.describe_zh(),
                    description_en: p.describe_en(),
                    holds: holds.as_bool().unwrap_or(false),
                });
            }
        }
        Ok(PresentationCheck::Verified(Box::new(
            PresentedCertificate {
                certificate_id: row.id.clone(),
                certificate_type: ty.code.clone(),
                type_name: ty.name.clone(),
                type_name_en: ty.name_en.clone(),
                issuer: Party {
                    credit_code: row.issuer.clone(),
                    name,
                    name_en,
                },
                status: row.status_on(china_today(now)),
                revocation_reason: row.revocation_reason.clone(),
                fields,
                predicates,
                expires_at,
            },
        )))
    }

    /// The claims of a presentation token if the platform signed it, else `None`.
    async fn presentation_claims(&self, token: &str) -> Result<Option<Map<String, Value>>> {
        if token.len() > MAX_TOKEN_LEN {
            return Ok(None);
        }
        let Some((payload, sig)) = token.split_once('.') else {
            return Ok(None);
        };
        let (Some(payload), Some(sig)) = (b64url_decode(payload), b64url_decode(sig)) else {
            return Ok(None);
        };
        let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(&payload) else {
            return Ok(None);
        };
        let Some(kid) = claims.get("kid").and_then(Value::as_str) else {
            return Ok(None);
        };
        let Some((department, key)) = self.registered_key(kid).await? else {
            return Ok(None);
        };
        if department != PLATFORM_SEAL || key.verify(&payload, &sig).is_err() {
            return Ok(None);
        }
        Ok(Some(claims))
    }

    /// Rotates a department's seal key (or the platform's, `PLATFORM`); returns the new key
    /// id. Certificates sealed with the old key stay verifiable.
    pub async fn rotate_seal(&self, department: &str, now: Timestamp) -> Result<String> {
        if department != PLATFORM_SEAL && self.db.department(department).await?.is_none() {
            return Err(AppError::NotFound {
                kind: "department",
                key: department.to_owned(),
            });
        }
        let id = self.certs.signer.rotate(department, now).await?;
        tracing::info!(department, key = %id, "seal key rotated");
        Ok(id)
    }

    /// Every seal key of a department (private keys left out).
    pub async fn seal_keys(&self, department: &str) -> Result<Vec<SealKeyRow>> {
        let mut keys = self.db.seal_keys_of(department).await?;
        for k in &mut keys {
            k.private_key_pem = None;
        }
        Ok(keys)
    }

    /// Loads the demo certificate types when there are none, then the demo citizen's
    /// certificates when there are no certificates. Returns whether certificates were issued.
    pub async fn load_demo_certificates_if_empty(&self, now: Timestamp) -> Result<bool> {
        if self.db.certificate_types().await?.is_empty() {
            let types = parse_certificate_types(DEMO_CERTIFICATE_TYPES)?;
            self.save_certificate_types(&types, now).await?;
        }
        if self.db.certificate_count().await? > 0 {
            return Ok(false);
        }
        for request in demo_certificates()? {
            self.issue_certificate(&CertificateActor::System, request, None, now)
                .await?;
        }
        Ok(true)
    }
}

fn canonical_problem(e: &onetrip_seal::SealError) -> FieldProblem {
    FieldProblem {
        path: "content".to_owned(),
        code: "certificate_content_not_canonical",
        message_zh: format!(
            "证照内容不能签章：{e}（只允许整数、文本、是/否、空值、数组和对象，字段名须为ASCII）"
        ),
        message_en: format!(
            "The content cannot be sealed: {e} (only integers, text, booleans, null, arrays \
             and objects with ASCII keys are allowed)"
        ),
    }
}

fn view(
    row: &CertificateRow,
    ty: &CertificateType,
    issuer_name: String,
    issuer_name_en: Option<String>,
    today: Date,
) -> CertificateView {
    CertificateView {
        id: row.id.clone(),
        certificate_type: row.type_code.clone(),
        type_name: ty.name.clone(),
        type_name_en: ty.name_en.clone(),
        holder_kind: row.holder_kind,
        holder: mask(&row.holder_id),
        issuer: Party {
            credit_code: row.issuer.clone(),
            name: issuer_name,
            name_en: issuer_name_en,
        },
        issued_on: row.issued_on,
        valid_until: row.valid_until,
        status: row.status_on(today),
        revocation_reason: row.revocation_reason.clone(),
        content: row.content.as_object().cloned().unwrap_or_default(),
        seal_key_id: row.seal_key_id.clone(),
    }
}

/// The URL as an SVG QR code.
pub fn qr_svg(url: &str) -> Result<String> {
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::L)
        .map_err(internal)?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypesDocument {
    certificate_types: Vec<CertificateType>,
}

/// Parses a certificate types document (YAML or JSON: `{certificate_types: [...]}`).
pub fn parse_certificate_types(text: &str) -> Result<Vec<CertificateType>> {
    let doc: TypesDocument =
        serde_norway::from_str(text).map_err(|e| AppError::Unreadable(e.to_string()))?;
    Ok(doc.certificate_types)
}

/// The demo citizen's certificates (陈志明 330102198503140138): valid ID card, household
/// register, marriage certificate (spouse 林晓燕) and real-estate certificate, and a first
/// driving licence of 2014 that expired in 2020 (shown as stale).
fn demo_certificates() -> Result<Vec<IssueRequest>> {
    const ID: &str = "330102198503140138";
    let req = |ty: &str, on: &str, content: Value| -> Result<IssueRequest> {
        let Value::Object(content) = content else {
            return Err(internal("demo content is not an object"));
        };
        Ok(IssueRequest {
            certificate_type: ty.to_owned(),
            holder_kind: HolderKind::Person,
            holder_id: ID.to_owned(),
            content,
            issued_on: Some(on.parse().map_err(internal)?),
        })
    };
    Ok(vec![
        req(
            "ID_CARD",
            "2016-05-20",
            json!({"name": "陈志明", "sex": "男", "ethnicity": "汉", "birth_date": "1985-03-14",
                   "address": "浙江省杭州市西湖区文三路199号", "resident_id": ID}),
        )?,
        req(
            "HOUSEHOLD_REGISTER",
            "2012-09-03",
            json!({"name": "陈志明", "resident_id": ID, "household_id": "330106012345",
                   "relation_to_head": "户主", "address": "浙江省杭州市西湖区文三路199号"}),
        )?,
        req(
            "MARRIAGE_CERT",
            "2014-10-01",
            json!({"name": "陈志明", "resident_id": ID, "spouse_name": "林晓燕",
                   "spouse_resident_id": "330102199007220264", "registered_on": "2014-10-01"}),
        )?,
        req(
            "REAL_ESTATE_CERT",
            "2019-06-18",
            json!({"name": "陈志明", "resident_id": ID,
                   "certificate_number": "浙（2019）杭州市不动产权第0123456号",
                   "location": "杭州市西湖区文三路199号3幢1单元502室",
                   "unit_number": "330106001001GB00001F00010502", "area_m2": 89,
                   "usage": "住宅", "ownership": "共同共有"}),
        )?,
        req(
            "DRIVING_LICENCE",
            "2014-06-05",
            json!({"name": "陈志明", "resident_id": ID, "vehicle_class": "C1",
                   "first_issued_on": "2014-06-05"}),
        )?,
    ])
}
