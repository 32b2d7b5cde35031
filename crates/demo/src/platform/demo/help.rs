//! Help requests (呼叫帮助): `POST /v1/help` raises one (once per kiosk and idempotency key),
//! `POST /v1/help/cancel` cancels one by that key, `GET /v1/help[?open=1]` lists them,
//! `GET /v1/help/{help_id}` is one (the kiosk waits for staff with it), `POST
//! /v1/help/{help_id}/ack` is a staff member taking one. `GET /demo/help` is the site staff's
//! page: the open requests with an "I'm on my way" button each (`POST /demo/help/{help_id}/ack`).
#[allow(unused_imports)]
use super::*;

/// Longest free-text value a kiosk may send in a help request (screen, service, error kind).
const MAX_FIELD: usize = 64;

fn help_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<api::HelpEntry> {
    let state: String = r.get(7)?;
    Ok(api::HelpEntry {
        help_id: r.get(0)?,
        kiosk_id: r.get(1)?,
        request: api::HelpRequest {
            site: r.get(2)?,
            screen: r.get(3)?,
            service_id: r.get(4)?,
            visit_seconds: r.get::<_, i64>(5)?.max(0) as u64,
            last_error: r.get(6)?,
        },
        state: match state.as_str() {
            "acknowledged" => api::HelpState::Acknowledged,
            "cancelled" => api::HelpState::Cancelled,
            _ => api::HelpState::Open,
        },
        created_unix: r.get(8)?,
        acknowledged_unix: r.get(9)?,
        staff_id: r.get(10)?,
    })
}

const COLUMNS: &str = "help_id, kiosk_id, site, screen, service_id, visit_seconds, last_error, \
                       state, created_at, acknowledged_at, staff_id";

fn by_id(c: &Connection, id: &str) -> Res<api::HelpEntry> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM help WHERE help_id = ?1"),
        params![id],
        help_row,
    )
    .optional()?
    .ok_or_else(|| {
        DemoError::not_found(
            "help_not_found",
            "没有这个求助请求。",
            "No such help request.",
        )
    })
}

fn list(c: &Connection, open_only: bool) -> Res<Vec<api::HelpEntry>> {
    let sql = if open_only {
        format!("SELECT {COLUMNS} FROM help WHERE state = 'open' ORDER BY created_at, help_id")
    } else {
        format!("SELECT {COLUMNS} FROM help ORDER BY created_at, help_id")
    };
    let mut st = c.prepare(&sql)?;
    let rows = st.query_map([], help_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn plain(field: &str, v: &str) -> Res<()> {
    if v.chars().count() > MAX_FIELD || v.chars().any(char::is_control) {
        return Err(DemoError::unprocessable(
            "bad_help_request",
            "求助请求内容不正确。",
            format!("`{field}` must be at most {MAX_FIELD} characters without control characters."),
        ));
    }
    Ok(())
}

pub(super) async fn raise_help(
    State(st): State<Shared>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Res<Response> {
    let body = body_bytes(body)?;
    let req: api::HelpRequest = parse(&body)?;
    plain("screen", &req.screen)?;
    plain("site", &req.site)?;
    for (k, v) in [
        ("service_id", &req.service_id),
        ("last_error", &req.last_error),
    ] {
        if let Some(v) = v {
            plain(k, v)?;
        }
    }
    let kiosk_id = kiosk(&h);
    let key = idem_key(&h)?;
    once(&st, &h, "help", body_hash(&body), |c| {
        let n = store::next(c, "help")?;
        let help_id = format!("hp_{n:06}");
        c.execute(
            "INSERT INTO help (help_id, kiosk_id, request_key, site, screen, service_id,
                               visit_seconds, last_error, state, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', ?9)",
            params![
                help_id,
                kiosk_id,
                key,
                req.site,
                req.screen,
                req.service_id,
                req.visit_seconds.min(i64::MAX as u64) as i64,
                req.last_error,
                now()
            ],
        )?;
        tracing::info!(help = %help_id, kiosk = %kiosk_id, screen = %req.screen, "demo platform: help requested");
        Ok((StatusCode::OK, to_json(&by_id(c, &help_id)?)?))
    })
}

pub(super) async fn cancel_help(
    State(st): State<Shared>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Res<Response> {
    let body = body_bytes(body)?;
    let req: api::HelpCancel = parse(&body)?;
    plain("reason", &req.reason)?;
    let kiosk_id = kiosk(&h);
    once(&st, &h, "help-cancel", body_hash(&body), |c| {
        let id: Option<String> = c
            .query_row(
                "SELECT help_id FROM help WHERE kiosk_id = ?1 AND request_key = ?2",
                params![kiosk_id, req.request_key],
                |r| r.get(0),
            )
            .optional()?;
        let Some(id) = id else {
            return Err(DemoError::not_found(
                "help_not_found",
                "没有这个求助请求。",
                "No help request of this kiosk was sent with that key.",
            ));
        };
        // Only an open request is cancelled: staff already on the way still come.
        c.execute(
            "UPDATE help SET state = 'cancelled' WHERE help_id = ?1 AND state = 'open'",
            params![id],
        )?;
        Ok((StatusCode::OK, to_json(&by_id(c, &id)?)?))
    })
}

#[derive(Deserialize)]
pub(super) struct HelpQuery {
    open: Option<String>,
}

fn open_only(q: &HelpQuery) -> bool {
    matches!(q.open.as_deref(), Some("1" | "true" | "yes"))
}

pub(super) async fn list_help(
    State(st): State<Shared>,
    Query(q): Query<HelpQuery>,
) -> Res<Json<api::HelpList>> {
    let c = st.db.lock().map_err(|_| DemoError::internal("lock"))?;
    Ok(Json(api::HelpList {
        requests: list(&c, open_only(&q))?,
    }))
}

pub(super) async fn get_help(
    State(st): State<Shared>,
    Path(id): Path<String>,
) -> Res<Json<api::HelpEntry>> {
    let c = st.db.lock().map_err(|_| DemoError::internal("lock"))?;
    Ok(Json(by_id(&c, &id)?))
}

fn ack(st: &DemoState, id: &str, staff_id: Option<&str>) -> Res<api::HelpEntry> {
    if let Some(s) = staff_id {
        if s.is_empty() || s.len() > 16 || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(DemoError::unprocessable(
                "bad_staff_id",
                "工号格式不正确。",
                "staff_id is 1-16 letters or digits (a staff number, never a name).",
            ));
        }
    }
    let c = st.db.lock().map_err(|_| DemoError::internal("lock"))?;
    let entry = by_id(&c, id)?;
    if entry.state == api::HelpState::Cancelled {
        return Err(DemoError::new(
            StatusCode::CONFLICT,
            "help_cancelled",
            "求助已被取消。",
            "The citizen cancelled this help request.",
            false,
        ));
    }
    c.execute(
        "UPDATE help SET state = 'acknowledged', acknowledged_at = COALESCE(acknowledged_at, ?2),
                staff_id = COALESCE(staff_id, ?3)
         WHERE help_id = ?1",
        params![id, now(), staff_id],
    )?;
    tracing::info!(help = %id, "demo platform: help acknowledged");
    by_id(&c, id)
}

pub(super) async fn ack_help(
    State(st): State<Shared>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Res<Json<api::HelpEntry>> {
    let body = body_bytes(body)?;
    let req: api::HelpAckRequest = if body.is_empty() {
        api::HelpAckRequest { staff_id: None }
    } else {
        parse(&body)?
    };
    Ok(Json(ack(&st, &id, req.staff_id.as_deref())?))
}

/// The site staff's page: open requests, oldest first, each with a button to take it.
pub(super) async fn help_page(State(st): State<Shared>) -> Res<Html<String>> {
    let open = {
        let c = st.db.lock().map_err(|_| DemoError::internal("lock"))?;
        list(&c, true)?
    };
    let mut body =
        String::from("<p>自助机上的群众请求现场帮助。Citizens at kiosks asking for help.</p>");
    if open.is_empty() {
        body.push_str("<p>暂无求助。No open requests.</p>");
    } else {
        body.push_str(
            "<table border=\"1\" cellpadding=\"6\"><tr><th>#</th><th>自助机 Kiosk</th>\
             <th>地点 Site</th><th>页面 Screen</th><th>事项 Service</th><th>已用时 Visit</th>\
             <th>错误 Error</th><th></th></tr>",
        );
        for e in &open {
            body.push_str(&format!(
                "<tr><td>{id}</td><td>{k}</td><td>{site}</td><td>{screen}</td><td>{svc}</td>\
                 <td>{secs} s</td><td>{err}</td><td><form method=\"post\" \
                 action=\"/demo/help/{id}/ack\"><button>我去处理 On my way</button></form></td></tr>",
                id = escape(&e.help_id),
                k = escape(&e.kiosk_id),
                site = escape(&e.request.site),
                screen = escape(&e.request.screen),
                svc = escape(e.request.service_id.as_deref().unwrap_or("-")),
                secs = e.request.visit_seconds,
                err = escape(e.request.last_error.as_deref().unwrap_or("-")),
            ));
        }
        body.push_str("</table>");
    }
    Ok(page_with_head(
        "求助 / Help requests",
        "<meta http-equiv=\"refresh\" content=\"5\">",
        &body,
    ))
}

/// The staff page's button.
pub(super) async fn help_page_ack(
    State(st): State<Shared>,
    Path(id): Path<String>,
) -> Res<Html<String>> {
    let e = ack(&st, &id, None)?;
    Ok(page(
        "已接单 / Taken",
        &format!(
            "<p>请前往自助机 {k}。Go to kiosk {k}.</p><p><a href=\"/demo/help\">返回 Back</a></p>",
            k = escape(&e.kiosk_id)
        ),
    ))
}
