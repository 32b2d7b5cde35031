//! `GET /v1/health`, `GET /v1/catalog`, `GET /v1/catalog/bundle` and `GET /v1/trust-list`:
//! what every kiosk reads, with ETags; and `PUT /v1/catalog/bundle`, where a publisher puts the
//! signed catalog bundle kiosks fetch.
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

/// The catalog bundle being served.
pub(super) struct Published {
    bytes: Vec<u8>,
    etag: String,
    seq: u64,
    services: usize,
}

impl Published {
    /// Reads a bundle's header (sequence, catalog checks). The platform holds no catalog key:
    /// it does not judge the signature, which every kiosk verifies itself.
    pub(super) fn new(bytes: Vec<u8>) -> Result<Published, crate::catalog::bundle::BundleError> {
        let p = crate::catalog::bundle::peek(&bytes)?;
        Ok(Published {
            etag: etag(&bytes),
            seq: p.seq,
            services: p.services,
            bytes,
        })
    }

    fn answer(&self, changed: bool) -> api::CatalogPublished {
        api::CatalogPublished {
            seq: self.seq,
            services: self.services,
            etag: self.etag.clone(),
            changed,
        }
    }
}

pub(super) async fn catalog_bundle(State(st): State<Shared>, h: HeaderMap) -> Response {
    let Ok(g) = st.catalog_bundle.read() else {
        return DemoError::internal("catalog bundle lock poisoned").into_response();
    };
    let Some(b) = g.as_ref() else {
        return DemoError::not_found(
            "catalog_bundle_unpublished",
            "服务平台尚未发布事项目录。",
            "No catalog bundle is published yet; publish one with `zizhu catalog publish` \
             (kiosks keep the catalog they have).",
        )
        .into_response();
    };
    if if_none_match(&h, &b.etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, b.etag.clone())]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "application/cose".to_string()),
            (header::ETAG, b.etag.clone()),
        ],
        b.bytes.clone(),
    )
        .into_response()
}

pub(super) async fn publish_catalog_bundle(
    State(st): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Res<Json<api::CatalogPublished>> {
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            DemoError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "bundle_too_large",
                "事项目录包过大。",
                &format!(
                    "The bundle exceeds {} bytes; publish a smaller catalog.",
                    crate::catalog::bundle::MAX_BUNDLE
                ),
                false,
            )
        } else {
            DemoError::bad_request("bad_request", "请求无法读取。", r.body_text())
        }
    })?;
    let new = Published::new(body.to_vec()).map_err(|e| {
        DemoError::unprocessable(
            "bad_catalog_bundle",
            "事项目录包无效。",
            format!("The bundle was not published: {e}"),
        )
    })?;
    let mut g = st
        .catalog_bundle
        .write()
        .map_err(|_| DemoError::internal("catalog bundle lock poisoned"))?;
    if let Some(cur) = g.as_ref() {
        if cur.bytes == new.bytes {
            return Ok(Json(cur.answer(false)));
        }
        if new.seq <= cur.seq {
            return Err(DemoError::new(
                StatusCode::CONFLICT,
                "catalog_sequence_not_newer",
                "事项目录包的序号必须大于已发布的序号。",
                &format!(
                    "Bundle sequence {} is not above {}, the one published; sign it with \
                     --seq {} or higher.",
                    new.seq,
                    cur.seq,
                    cur.seq + 1
                ),
                false,
            ));
        }
    }
    tracing::info!(
        seq = new.seq,
        services = new.services,
        "catalog bundle published"
    );
    let answer = new.answer(true);
    *g = Some(new);
    Ok(Json(answer))
}
