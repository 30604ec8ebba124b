//! The OpenID Connect provider's storage: registered clients, authorization codes, refresh
//! tokens (with their rotation families) and signing keys. Codes and tokens
//! are stored as digests only.

use jiff::Timestamp;
use sqlx::Row;

use crate::accounts::classify;
use crate::{BeginWrite, Db, Result, StoreError, from_micros, on_pool, to_micros};

/// A registered client.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientRow {
    /// `client_id`.
    pub client_id: String,
    /// Display name (shown on the consent page).
    pub name: String,
    /// Digest of the client secret; `None` for a public client.
    pub secret_digest: Option<String>,
    /// Registered redirect URIs (matched exactly).
    pub redirect_uris: Vec<String>,
    /// Registered post-logout redirect URIs (matched exactly).
    pub post_logout_redirect_uris: Vec<String>,
    /// Grant types the client may use.
    pub grant_types: Vec<String>,
    /// Scopes the client may request.
    pub scopes: Vec<String>,
    /// The department whose system this is, if any.
    pub department_code: Option<String>,
    /// When it was registered.
    pub created_at: Timestamp,
    /// Whether it is disabled.
    pub disabled: bool,
}

impl std::fmt::Debug for ClientRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRow")
            .field("client_id", &self.client_id)
            .field("name", &self.name)
            .field("confidential", &self.secret_digest.is_some())
            .field("redirect_uris", &self.redirect_uris)
            .field("grant_types", &self.grant_types)
            .field("scopes", &self.scopes)
            .field("disabled", &self.disabled)
            .finish()
    }
}

/// What an authorization code or a refresh token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantFacts {
    /// The client.
    pub client_id: String,
    /// The account.
    pub account_id: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// The `acr` value.
    pub acr: String,
    /// The `amr` values, JSON list.
    pub amr: String,
    /// When the user authenticated.
    pub auth_time: Timestamp,
    /// Credit code of the organisation the user acts for, if any.
    pub acting_for: Option<String>,
    /// Reference to the web session (for logout), if any.
    pub session_ref: Option<String>,
}

/// An authorization code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRow {
    /// Digest of the code.
    pub code_digest: String,
    /// The redirect URI it was issued for.
    pub redirect_uri: String,
    /// The nonce of the request, if any.
    pub nonce: Option<String>,
    /// The PKCE `S256` challenge.
    pub code_challenge: String,
    /// What it stands for.
    pub facts: GrantFacts,
    /// Expiry.
    pub expires_at: Timestamp,
}

/// A refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRow {
    /// Digest of the token.
    pub token_digest: String,
    /// Digest of the first token of its chain.
    pub family: String,
    /// What it stands for.
    pub facts: GrantFacts,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// Expiry.
    pub expires_at: Timestamp,
    /// When it was exchanged for its successor.
    pub spent_at: Option<Timestamp>,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
}

/// A token signing key.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeyRow {
    /// Key id (`kid`).
    pub kid: String,
    /// JWS algorithm (`RS256`, `ES256`).
    pub alg: String,
    /// The private key, PKCS#8 PEM.
    pub private_pem: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it stopped being used for signing.
    pub retired_at: Option<Timestamp>,
}

impl std::fmt::Debug for SigningKeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRow")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("private_pem", &"<secret>")
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

fn json_list(s: &str) -> Result<Vec<String>> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn to_json(v: &[String]) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn client<R: Row>(row: &R) -> Result<ClientRow>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let redirect: String = row.try_get(3)?;
    let logout: String = row.try_get(4)?;
    let grants: String = row.try_get(5)?;
    let scopes: String = row.try_get(6)?;
    let disabled: i64 = row.try_get(9)?;
    Ok(ClientRow {
        client_id: row.try_get(0)?,
        name: row.try_get(1)?,
        secret_digest: row.try_get(2)?,
        redirect_uris: json_list(&redirect)?,
        post_logout_redirect_uris: json_list(&logout)?,
        grant_types: json_list(&grants)?,
        scopes: json_list(&scopes)?,
        department_code: row.try_get(7)?,
        created_at: from_micros(row.try_get(8)?)?,
        disabled: disabled != 0,
    })
}

/// Reads the grant facts from columns `first..first + 8`.
fn facts<R: Row>(row: &R, first: usize) -> Result<GrantFacts>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    Ok(GrantFacts {
        client_id: row.try_get(first)?,
        account_id: row.try_get(first + 1)?,
        scope: row.try_get(first + 2)?,
        acr: row.try_get(first + 3)?,
        amr: row.try_get(first + 4)?,
        auth_time: from_micros(row.try_get(first + 5)?)?,
        acting_for: row.try_get(first + 6)?,
        session_ref: row.try_get(first + 7)?,
    })
}

impl Db {
    /// Registers a client. A taken `client_id` is [`StoreError::Conflict`].
    pub async fn insert_client(&self, c: &ClientRow) -> Result<()> {
        let (redirect, logout) = (
            to_json(&c.redirect_uris)?,
            to_json(&c.post_logout_redirect_uris)?,
        );
        let (grants, scopes) = (to_json(&c.grant_types)?, to_json(&c.scopes)?);
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO oidc_clients (client_id, name, secret_digest, redirect_uris, \
                 post_logout_redirect_uris, grant_types, scopes, department_code, \
                 created_at, disabled) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&c.client_id)
            .bind(&c.name)
            .bind(&c.secret_digest)
            .bind(&redirect)
            .bind(&logout)
            .bind(&grants)
            .bind(&scopes)
            .bind(&c.department_code)
            .bind(to_micros(c.created_at))
            .bind(i64::from(c.disabled))
            .execute(pool)
            .await
            .map_err(|e| classify(e, &["client_id"], "client"))?;
        });
        Ok(())
    }

    /// One client.
    pub async fn client(&self, client_id: &str) -> Result<Option<ClientRow>> {
        const SQL: &str = "SELECT client_id, name, secret_digest, redirect_uris, \
             post_logout_redirect_uris, grant_types, scopes, department_code, created_at, \
             disabled FROM oidc_clients WHERE client_id = $1";
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(client_id).fetch_optional(pool).await?;
            row.as_ref().map(client).transpose()
        })
    }

    /// Every client, by id.
    pub async fn list_clients(&self) -> Result<Vec<ClientRow>> {
        const SQL: &str = "SELECT client_id, name, secret_digest, redirect_uris, \
             post_logout_redirect_uris, grant_types, scopes, department_code, created_at, \
             disabled FROM oidc_clients ORDER BY client_id";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).fetch_all(pool).await?;
            rows.iter().map(client).collect()
        })
    }

    /// Replaces a client's secret digest; `false` when there is no such client.
    pub async fn set_client_secret(&self, client_id: &str, digest: &str) -> Result<bool> {
        on_pool!(self, pool => {
            let done = sqlx::query("UPDATE oidc_clients SET secret_digest = $1 WHERE client_id = $2")
                .bind(digest)
                .bind(client_id)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Enables or disables a client; `false` when there is no such client.
    pub async fn set_client_disabled(&self, client_id: &str, disabled: bool) -> Result<bool> {
        on_pool!(self, pool => {
            let done = sqlx::query("UPDATE oidc_clients SET disabled = $1 WHERE client_id = $2")
                .bind(i64::from(disabled))
                .bind(client_id)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Stores an authorization code.
    pub async fn insert_code(&self, c: &CodeRow) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO oidc_codes (code_digest, redirect_uri, nonce, code_challenge, \
                 client_id, account_id, scope, acr, amr, auth_time, acting_for, session_ref, \
                 expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(&c.code_digest)
            .bind(&c.redirect_uri)
            .bind(&c.nonce)
            .bind(&c.code_challenge)
            .bind(&c.facts.client_id)
            .bind(&c.facts.account_id)
            .bind(&c.facts.scope)
            .bind(&c.facts.acr)
            .bind(&c.facts.amr)
            .bind(to_micros(c.facts.auth_time))
            .bind(&c.facts.acting_for)
            .bind(&c.facts.session_ref)
            .bind(to_micros(c.expires_at))
            .execute(pool)
            .await
            .map_err(|e| classify(e, &["code_digest"], "client"))?;
        });
        Ok(())
    }

    /// Spends an authorization code: marks it spent and returns it, or `None` when it is
    /// unknown or already spent. Only one of any number of concurrent calls gets it.
    pub async fn spend_code(&self, code_digest: &str, now: Timestamp) -> Result<Option<CodeRow>> {
        const SQL: &str = "UPDATE oidc_codes SET spent_at = $1 WHERE code_digest = $2 \
             AND spent_at IS NULL RETURNING code_digest, redirect_uri, nonce, code_challenge, \
             client_id, account_id, scope, acr, amr, auth_time, acting_for, session_ref, expires_at";
        on_pool!(self, pool => {
            let row = sqlx::query(SQL)
                .bind(to_micros(now))
                .bind(code_digest)
                .fetch_optional(pool)
                .await?;
            match row {
                Some(row) => Ok(Some(CodeRow {
                    code_digest: row.try_get(0)?,
                    redirect_uri: row.try_get(1)?,
                    nonce: row.try_get(2)?,
                    code_challenge: row.try_get(3)?,
                    facts: facts(&row, 4)?,
                    expires_at: from_micros(row.try_get(12)?)?,
                })),
                None => Ok(None),
            }
        })
    }

    /// Stores a refresh token that starts or continues a family.
    pub async fn insert_refresh_token(&self, r: &RefreshRow) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO oidc_refresh_tokens (token_digest, family, client_id, account_id, \
                 scope, acr, amr, auth_time, acting_for, session_ref, issued_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(&r.token_digest)
            .bind(&r.family)
            .bind(&r.facts.client_id)
            .bind(&r.facts.account_id)
            .bind(&r.facts.scope)
            .bind(&r.facts.acr)
            .bind(&r.facts.amr)
            .bind(to_micros(r.facts.auth_time))
            .bind(&r.facts.acting_for)
            .bind(&r.facts.session_ref)
            .bind(to_micros(r.issued_at))
            .bind(to_micros(r.expires_at))
            .execute(pool)
            .await
            .map_err(|e| classify(e, &["token_digest"], "client"))?;
        });
        Ok(())
    }

    /// A refresh token by digest, in whatever state.
    pub async fn refresh_token(&self, token_digest: &str) -> Result<Option<RefreshRow>> {
        const SQL: &str = "SELECT token_digest, family, client_id, account_id, scope, acr, amr, \
             auth_time, acting_for, session_ref, issued_at, expires_at, spent_at, revoked_at \
             FROM oidc_refresh_tokens WHERE token_digest = $1";
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(token_digest).fetch_optional(pool).await?;
            match row {
                Some(row) => {
                    let spent: Option<i64> = row.try_get(12)?;
                    let revoked: Option<i64> = row.try_get(13)?;
                    Ok(Some(RefreshRow {
                        token_digest: row.try_get(0)?,
                        family: row.try_get(1)?,
                        facts: facts(&row, 2)?,
                        issued_at: from_micros(row.try_get(10)?)?,
                        expires_at: from_micros(row.try_get(11)?)?,
                        spent_at: spent.map(from_micros).transpose()?,
                        revoked_at: revoked.map(from_micros).transpose()?,
                    }))
                }
                None => Ok(None),
            }
        })
    }

    /// Rotates a refresh token in one transaction: spends `old_digest` (only if live) and
    /// stores `next`. `false` (nothing written) when the old token was already spent or
    /// revoked, so that of two concurrent uses only one succeeds.
    pub async fn rotate_refresh_token(
        &self,
        old_digest: &str,
        next: &RefreshRow,
        now: Timestamp,
    ) -> Result<bool> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write(self.write_gate()).await?;
            let spent = sqlx::query(
                "UPDATE oidc_refresh_tokens SET spent_at = $1 WHERE token_digest = $2 \
                 AND spent_at IS NULL AND revoked_at IS NULL",
            )
            .bind(to_micros(now))
            .bind(old_digest)
            .execute(&mut *tx)
            .await?;
            if spent.rows_affected() != 1 {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO oidc_refresh_tokens (token_digest, family, client_id, account_id, \
                 scope, acr, amr, auth_time, acting_for, session_ref, issued_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(&next.token_digest)
            .bind(&next.family)
            .bind(&next.facts.client_id)
            .bind(&next.facts.account_id)
            .bind(&next.facts.scope)
            .bind(&next.facts.acr)
            .bind(&next.facts.amr)
            .bind(to_micros(next.facts.auth_time))
            .bind(&next.facts.acting_for)
            .bind(&next.facts.session_ref)
            .bind(to_micros(next.issued_at))
            .bind(to_micros(next.expires_at))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Revokes every live token of a family; returns how many.
    pub async fn revoke_refresh_family(&self, family: &str, now: Timestamp) -> Result<u64> {
        on_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE oidc_refresh_tokens SET revoked_at = $1 WHERE family = $2 AND revoked_at IS NULL",
            )
            .bind(to_micros(now))
            .bind(family)
            .execute(pool)
            .await?;
            Ok(done.rows_affected())
        })
    }

    /// Revokes every live refresh token bound to a web session (logout); returns how many.
    pub async fn revoke_refresh_tokens_of_session(
        &self,
        session_ref: &str,
        now: Timestamp,
    ) -> Result<u64> {
        on_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE oidc_refresh_tokens SET revoked_at = $1 WHERE session_ref = $2 AND revoked_at IS NULL",
            )
            .bind(to_micros(now))
            .bind(session_ref)
            .execute(pool)
            .await?;
            Ok(done.rows_affected())
        })
    }

    /// Stores a signing key.
    pub async fn insert_signing_key(&self, k: &SigningKeyRow) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO signing_keys (kid, alg, private_pem, created_at, retired_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&k.kid)
            .bind(&k.alg)
            .bind(&k.private_pem)
            .bind(to_micros(k.created_at))
            .bind(k.retired_at.map(to_micros))
            .execute(pool)
            .await
            .map_err(|e| classify(e, &["kid"], "key"))?;
        });
        Ok(())
    }

    /// Every signing key, newest first.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRow>> {
        const SQL: &str = "SELECT kid, alg, private_pem, created_at, retired_at FROM signing_keys \
             ORDER BY created_at DESC, kid DESC";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).fetch_all(pool).await?;
            rows.iter()
                .map(|row| {
                    let retired: Option<i64> = row.try_get(4)?;
                    Ok(SigningKeyRow {
                        kid: row.try_get(0)?,
                        alg: row.try_get(1)?,
                        private_pem: row.try_get(2)?,
                        created_at: from_micros(row.try_get(3)?)?,
                        retired_at: retired.map(from_micros).transpose()?,
                    })
                })
                .collect()
        })
    }

    /// Marks a signing key retired.
    pub async fn retire_signing_key(&self, kid: &str, at: Timestamp) -> Result<bool> {
        on_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE signing_keys SET retired_at = $1 WHERE kid = $2 AND retired_at IS NULL",
            )
            .bind(to_micros(at))
            .bind(kid)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }
}
