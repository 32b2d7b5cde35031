//! `GET /v1/health`, `GET /v1/catalog` and `GET /v1/trust-list`: what every kiosk reads,
//! with ETags.
#[allow(unused_imports)]
use super::*;

pub(super) async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

pub(super) fn if_none_match(h: &HeaderMap, tag: &str) -> bool {
    h.get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
}

pub(super) async fn catalog(State(st): State<Shared>, h: HeaderMap) -> Response {
    if if_none_match(&h, &st.catalog_etag) {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, st.catalog_etag.clone())],
        )
            .into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                "application/toml; charset=utf-8".to_string(),
            ),
            (header::ETAG, st.catalog_etag.clone()),
        ],
        crate::catalog::BUILTIN_TOML,
    )
        .into_response()
}

pub(super) async fn trust_list(State(st): State<Shared>, h: HeaderMap) -> Response {
    let Some((bytes, tag)) = &st.trust_list else {
        return DemoError::not_found(
            "trust_list_unavailable",
            "服务平台未配置证照信任列表。",
            "This platform has no trust list; start it with --trust-list FILE \
             (make one with `zizhu elicense trust-list sign`).",
        )
        .into_response();
    };
    if if_none_match(&h, tag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, tag.clone())]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "application/cose".to_string()),
            (header::ETAG, tag.clone()),
        ],
        bytes.clone(),
    )
        .into_response()
}
