//! The OpenAPI document of the REST API, served at `/api/v1/openapi.json`. It is built from
//! the same [`OpenApiRouter`] that serves the routes, so every served route is documented.

use std::sync::OnceLock;

use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, RefOr, Schema};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use super::api;
use super::error::ApiFailure;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Samla", description = "Schedule and manage Samla meetings. Authenticate with an API token \
        from `samla-server token create`, sent as `Authorization: Bearer <token>`."),
    modifiers(&BearerToken),
)]
struct ApiDoc;

/// Declares the `bearer` security scheme the routes refer to.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, doc: &mut Document) {
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
    }
}

/// Response bodies whose every field is always sent, `null` when empty. utoipa counts an
/// `Option` field as not required, which would tell clients the key may be missing.
/// (Annotating the fields `#[schema(required = true)]` in samla-protocol would do the same.)
const ALWAYS_COMPLETE: [&str; 4] = ["Meeting", "Me", "ApiError", "OrganisationSettings"];

/// The `/api/v1` routes and their document, from one definition.
pub fn split() -> (Router<AppState>, Document) {
    let api = api::routes().fallback(|| async { ApiFailure::unknown_route() });
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api)
        .split_for_parts();
    if let Some(components) = doc.components.as_mut() {
        for name in ALWAYS_COMPLETE {
            if let Some(RefOr::T(Schema::Object(schema))) = components.schemas.get_mut(name) {
                schema.required = schema.properties.keys().cloned().collect();
            }
        }
    }
    (router, doc)
}

/// The document, built once.
pub fn document() -> &'static Document {
    static DOCUMENT: OnceLock<Document> = OnceLock::new();
    DOCUMENT.get_or_init(|| split().1)
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json")))]
pub async fn openapi_json() -> Json<&'static Document> {
    Json(document())
}
