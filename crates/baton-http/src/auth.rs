//! Authentication: API keys (`Authorization: Bearer <key>` or `x-api-key: <key>`) and signed
//! JWTs for front ends; `x-tenant-id` picks the project for admin keys.

use crate::error::ApiError;
use crate::scope::{Scope, Scopes};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use baton_core::ProjectId;
use serde_json::Value;

/// Who is calling and for which project, set by the auth layer.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The tenant.
    pub project: ProjectId,
    /// The API key's id, or `jwt:<subject>` (`created_by_id` of what it creates).
    pub key_id: String,
    /// What the caller may do.
    pub scopes: Scopes,
    /// The JWT subject, for front-end callers.
    pub subject: Option<String>,
}

impl Caller {
    /// The identity whose tasks alone this caller may see, when it may not read the project:
    /// a front end's end user without the `read` scope.
    pub fn own_identity(&self) -> Option<&str> {
        if self.scopes.has(Scope::Read) {
            None
        } else {
            // A caller that may not read the project and has no subject sees nothing.
            Some(self.subject.as_deref().unwrap_or_default())
        }
    }
}

pub use baton_engine::keys::hash_api_key;

/// How JWTs are checked.
pub struct JwtSettings {
    /// The key: an HS256 secret or an RS256 public key.
    pub key: jsonwebtoken::DecodingKey,
    /// HS256 or RS256.
    pub algorithm: jsonwebtoken::Algorithm,
    /// Required `iss`, if any.
    pub issuer: Option<String>,
    /// Required `aud`, if any.
    pub audience: Option<String>,
    /// The claim holding the tenant (project id).
    pub tenant_claim: String,
}

impl JwtSettings {
    fn verify(&self, token: &str) -> Result<(String, String, Scopes), ApiError> {
        let mut validation = jsonwebtoken::Validation::new(self.algorithm);
        validation.leeway = 30;
        match &self.issuer {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        match &self.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&["exp", "sub"]);
        // A token is not valid before its `nbf`.
        validation.validate_nbf = true;
        let data =
            jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, &self.key, &validation)
                .map_err(|e| ApiError::unauthorized(format!("the token is not valid: {e}")))?;
        let claims = data.claims;
        let tenant = claims
            .get(&self.tenant_claim)
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized(format!(
                    "the token has no `{}` claim naming its tenant",
                    self.tenant_claim
                ))
            })?;
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::unauthorized("the token's `sub` must name its user"))?;
        let scopes = Scopes::of_token(claims.get("scope").and_then(Value::as_str));
        Ok((tenant.to_owned(), subject.to_owned(), scopes))
    }
}

fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(axum::http::header::AUTHORIZATION) {
        let value = value.to_str().ok()?.trim();
        let (scheme, key) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| key.trim())
            .filter(|k| !k.is_empty());
    }
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
}

/// Ensemble's clients expect their own wording for a refused key on `/api/agents/...`.
fn bad_key_message(path: &str) -> &'static str {
    if path.starts_with("/api/agents/") {
        crate::ensemble::BAD_KEY
    } else {
        "the API key is not valid"
    }
}

fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3 && token.starts_with("eyJ")
}

/// Rejects requests without a valid API key or token; otherwise records the caller.
pub async fn require_api_key(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(key) = presented_key(req.headers()) else {
        return Err(ApiError::unauthorized(
            "an API key is required: send `Authorization: Bearer <key>` or `x-api-key: <key>`",
        ));
    };
    let tenant_header = req
        .headers()
        .get("x-tenant-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    let mut caller = match (&state.jwt, looks_like_jwt(key)) {
        (Some(jwt), true) => {
            let (tenant, subject, scopes) = jwt.verify(key)?;
            Caller {
                project: ProjectId(tenant),
                key_id: format!("jwt:{subject}"),
                scopes,
                subject: Some(subject),
            }
        }
        _ => {
            let record = state
                .engine
                .api_keys()
                .authenticate(key)
                .await?
                .ok_or_else(|| ApiError::unauthorized(bad_key_message(req.uri().path())))?;
            Caller {
                project: record.project_id,
                key_id: record.id,
                scopes: Scopes::of_key(record.scope),
                subject: None,
            }
        }
    };
    if let Some(tenant) = tenant_header {
        if caller.scopes.has(Scope::Admin) {
            caller.project = ProjectId(tenant);
        } else if tenant != caller.project.0 && req.uri().path().starts_with("/api/agents/") {
            // Ensemble answers a key used with another tenant like a bad key.
            return Err(ApiError::unauthorized(crate::ensemble::BAD_KEY));
        } else if tenant != caller.project.0 {
            return Err(ApiError::forbidden(
                "this credential acts for one tenant only; x-tenant-id must name it or be left out",
            ));
        }
    }
    req.extensions_mut().insert(caller);
    Ok(next.run(req).await)
}
