//! Web sessions: tower-sessions over onetrip's own database store, and what a session holds.
//!
//! Decisions:
//! - **Cookie:** `onetrip_sid`, `HttpOnly`, `SameSite=Lax` (a department system redirecting
//!   the user back for single sign-on is a top-level navigation, which `Lax` allows; `Strict`
//!   would drop the session on that hop), `Secure` unless the operator turns it off for plain
//!   HTTP development, path `/`.
//! - **Store:** the `web_sessions` table, keyed by the SHA-256 digest of the session id, so a
//!   copy of the database holds no usable session ids; every replica sees every session.
//! - **Rotation:** the id is replaced ([`Session::cycle_id`]) at sign-in, sign-out, step-up and
//!   every switch of the identity acted for, so an id planted before a privilege change is
//!   worthless after it (session fixation).
//! - **Timeouts:** idle 30 minutes (the record's expiry is pushed forward at most once a
//!   minute, by [`touch`], so an active session costs one write a minute, not one per request)
//!   and absolute 12 hours from sign-in, after which the session is flushed whatever the
//!   activity.
//! - **CSRF:** every session holds a random token. API requests authenticated by the cookie
//!   that change anything must echo it in `X-CSRF-Token`; forms carry it in a hidden
//!   `csrf_token` field. Requests with a bearer token need neither.

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use onetrip_app::App;
use onetrip_domain::identity::{AssuranceLevel, RoleGrant, secret_digest};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions::{Expiry, Session, SessionManagerLayer};

/// Name of the session cookie.
pub const COOKIE_NAME: &str = "onetrip_sid";
/// Idle timeout.
pub const IDLE_TIMEOUT: SignedDuration = SignedDuration::from_mins(30);
/// Absolute timeout from sign-in.
pub const ABSOLUTE_TIMEOUT: SignedDuration = SignedDuration::from_hours(12);
/// How often activity pushes the idle expiry forward.
const TOUCH_INTERVAL: SignedDuration = SignedDuration::from_mins(1);

const KEY_AUTH: &str = "auth";
const KEY_CSRF: &str = "csrf";
const KEY_SEEN: &str = "seen";

/// Who signed in to a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SessionAuth {
    /// A person.
    Citizen {
        /// Account id.
        account: String,
        /// Assurance level reached in this session.
        level: AssuranceLevel,
        /// Methods used (`pwd`, `sms`, …).
        amr: Vec<String>,
        /// Sign-in time, seconds since the epoch.
        auth_time: i64,
        /// Credit code of the organisation acted for, after an explicit switch.
        acting_for: Option<String>,
        /// Stable reference of this sign-in (the `sid` of ID tokens), kept across rotations.
        sid: String,
    },
    /// A member of staff.
    Staff {
        /// Staff id.
        staff: String,
        /// Name.
        name: String,
        /// Department.
        department: String,
        /// Role grants.
        roles: Vec<RoleGrant>,
        /// Whether TOTP was verified at sign-in.
        totp_verified: bool,
        /// Sign-in time, seconds since the epoch.
        auth_time: i64,
        /// Stable reference of this sign-in.
        sid: String,
    },
}

impl SessionAuth {
    /// A person signed in just now with `method` (`pwd`, `sms`, `fed`…), acting for
    /// themselves, with a fresh sign-in reference.
    pub fn citizen(
        account: &str,
        level: AssuranceLevel,
        method: &str,
        now: Timestamp,
    ) -> Result<SessionAuth, SessionError> {
        Ok(SessionAuth::Citizen {
            account: account.to_owned(),
            level,
            amr: vec![method.to_owned()],
            auth_time: now.as_second(),
            acting_for: None,
            sid: onetrip_app::sso::random_secret()
                .map_err(|e| SessionError(e.to_string()))?
                .chars()
                .take(22)
                .collect(),
        })
    }

    /// Sign-in time.
    pub fn auth_time(&self) -> i64 {
        match self {
            SessionAuth::Citizen { auth_time, .. } | SessionAuth::Staff { auth_time, .. } => {
                *auth_time
            }
        }
    }

    /// The stable sign-in reference.
    pub fn sid(&self) -> &str {
        match self {
            SessionAuth::Citizen { sid, .. } | SessionAuth::Staff { sid, .. } => sid,
        }
    }
}

/// The session store over the onetrip database.
#[derive(Clone)]
pub struct DbSessionStore {
    app: App,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbSessionStore")
    }
}

impl DbSessionStore {
    /// A store over `app`'s database.
    pub fn new(app: App) -> DbSessionStore {
        DbSessionStore { app }
    }
}

fn key(id: &Id) -> String {
    secret_digest(&id.to_string())
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn to_timestamp(t: OffsetDateTime) -> Timestamp {
    let nanos = t.unix_timestamp_nanos();
    Timestamp::from_nanosecond(nanos).unwrap_or(Timestamp::MAX)
}

fn from_timestamp(t: Timestamp) -> session_store::Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(t.as_nanosecond()).map_err(backend)
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data).map_err(backend)?;
        // 128 random bits make a collision all but impossible; draw again if one happens.
        for _ in 0..8 {
            if self
                .app
                .db
                .insert_session(&key(&record.id), &data, to_timestamp(record.expiry_date))
                .await
                .map_err(backend)?
            {
                return Ok(());
            }
            record.id = Id::default();
        }
        Err(backend("could not draw a fresh session id"))
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data).map_err(backend)?;
        self.app
            .db
            .save_session(&key(&record.id), &data, to_timestamp(record.expiry_date))
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some((data, expires_at)) = self
            .app
            .db
            .load_session(&key(id), Timestamp::now())
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        Ok(Some(Record {
            id: *id,
            data: serde_json::from_str(&data)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?,
            expiry_date: from_timestamp(expires_at)?,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.app.db.delete_session(&key(id)).await.map_err(backend)
    }
}

/// The session layer: cookie settings and the database store.
pub fn layer(app: App, secure: bool) -> SessionManagerLayer<DbSessionStore> {
    SessionManagerLayer::new(DbSessionStore::new(app))
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_secure(secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            IDLE_TIMEOUT.as_secs(),
        )))
}

/// A failure of the session store, reported as a 503 by the callers.
#[derive(Debug, thiserror::Error)]
#[error("session store: {0}")]
pub struct SessionError(String);

impl From<tower_sessions::session::Error> for SessionError {
    fn from(e: tower_sessions::session::Error) -> Self {
        SessionError(e.to_string())
    }
}

/// Who is signed in, when the session is within both timeouts. A session past its absolute
/// timeout is flushed.
pub async fn current(
    session: &Session,
    now: Timestamp,
) -> Result<Option<SessionAuth>, SessionError> {
    let Some(auth) = session.get::<SessionAuth>(KEY_AUTH).await? else {
        return Ok(None);
    };
    if now.as_second() - auth.auth_time() > ABSOLUTE_TIMEOUT.as_secs() {
        session.flush().await?;
        return Ok(None);
    }
    Ok(Some(auth))
}

/// Pushes the idle expiry forward, at most once per minute.
pub async fn touch(session: &Session, now: Timestamp) -> Result<(), SessionError> {
    let seen = session.get::<i64>(KEY_SEEN).await?.unwrap_or(0);
    if now.as_second() - seen >= TOUCH_INTERVAL.as_secs() {
        session.insert(KEY_SEEN, now.as_second()).await?;
    }
    Ok(())
}

/// Signs `auth` in: a fresh session id and a fresh CSRF token. Returns the token.
pub async fn sign_in(
    session: &Session,
    auth: &SessionAuth,
    now: Timestamp,
) -> Result<String, SessionError> {
    session.cycle_id().await?;
    session.insert(KEY_AUTH, auth).await?;
    session.insert(KEY_SEEN, now.as_second()).await?;
    let token = onetrip_app::sso::random_secret().map_err(|e| SessionError(e.to_string()))?;
    session.insert(KEY_CSRF, &token).await?;
    Ok(token)
}

/// Replaces who is signed in after a privilege change (step-up, identity switch): a fresh id,
/// the same CSRF token.
pub async fn elevate(session: &Session, auth: &SessionAuth) -> Result<(), SessionError> {
    session.cycle_id().await?;
    session.insert(KEY_AUTH, auth).await?;
    Ok(())
}

/// After a step-up: the signed-in person's level becomes `level` and `method` joins the
/// methods used; the id rotates. Returns whether a person was signed in.
pub async fn raise_level(
    session: &Session,
    level: AssuranceLevel,
    method: &str,
    now: Timestamp,
) -> Result<bool, SessionError> {
    let Some(SessionAuth::Citizen {
        account,
        mut amr,
        auth_time,
        acting_for,
        sid,
        ..
    }) = current(session, now).await?
    else {
        return Ok(false);
    };
    if !amr.iter().any(|m| m == method) {
        amr.push(method.to_owned());
    }
    let raised = SessionAuth::Citizen {
        account,
        level,
        amr,
        auth_time,
        acting_for,
        sid,
    };
    elevate(session, &raised).await?;
    Ok(true)
}

/// Switches the organisation the signed-in person acts for (`None`: themselves); the id
/// rotates. Returns whether a person was signed in.
pub async fn act_for(
    session: &Session,
    organisation: Option<String>,
    now: Timestamp,
) -> Result<bool, SessionError> {
    let Some(SessionAuth::Citizen {
        account,
        level,
        amr,
        auth_time,
        sid,
        ..
    }) = current(session, now).await?
    else {
        return Ok(false);
    };
    let switched = SessionAuth::Citizen {
        account,
        level,
        amr,
        auth_time,
        acting_for: organisation,
        sid,
    };
    elevate(session, &switched).await?;
    Ok(true)
}

/// Signs out: the record is deleted and the cookie cleared.
pub async fn sign_out(session: &Session) -> Result<(), SessionError> {
    session.flush().await?;
    Ok(())
}

/// The CSRF token of the session, created when missing (for forms shown before sign-in).
pub async fn csrf_token(session: &Session) -> Result<String, SessionError> {
    if let Some(token) = session.get::<String>(KEY_CSRF).await? {
        return Ok(token);
    }
    let token = onetrip_app::sso::random_secret().map_err(|e| SessionError(e.to_string()))?;
    session.insert(KEY_CSRF, &token).await?;
    Ok(token)
}

/// Whether `presented` is the session's CSRF token (compared in constant time).
pub async fn csrf_matches(
    session: &Session,
    presented: Option<&str>,
) -> Result<bool, SessionError> {
    let Some(presented) = presented else {
        return Ok(false);
    };
    let Some(token) = session.get::<String>(KEY_CSRF).await? else {
        return Ok(false);
    };
    Ok(onetrip_domain::identity::constant_time_eq(
        token.as_bytes(),
        presented.as_bytes(),
    ))
}
