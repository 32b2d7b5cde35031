//! E-licences (扫码亮证 and 免证办): `POST /v1/elicense/tickets/consume`, `POST
//! /v1/elicense/licences`, and the government app for synthetic people (`POST /demo/elicense`,
//! `GET /demo/elicense/{id_number}`).
#[allow(unused_imports)]
use super::*;

/// What a demo ticket reference stands for: hex of `<licence-type>:<id number>` (or that text).
pub fn ticket_content(reference: &str) -> Option<(String, String)> {
    let text = hex::decode(reference.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_else(|| reference.trim().to_string());
    let (t, id) = text.split_once(':')?;
    Some((t.to_string(), id.to_string()))
}

pub(super) async fn consume_ticket(
    State(st): State<Shared>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Res<Response> {
    let body = body_bytes(body)?;
    let req: api::TicketRequest = parse(&body)?;
    let unknown = || {
        DemoError::not_found(
            "unknown_ticket",
            "证照码无效，请在手机上刷新后重新出示。",
            "This e-licence ticket is not known; refresh the code on the phone.",
        )
    };
    let (lt, id) = ticket_content(&req.ticket).ok_or_else(unknown)?;
    let licence = st.catalog.licence(&lt).ok_or_else(unknown)?;
    let p = check_id(&id)?;
    once(&st, &h, "tickets", body_hash(&body), |c| {
        let fresh = c.execute(
            "INSERT OR IGNORE INTO tickets (ticket, used_at) VALUES (?1, ?2)",
            params![req.ticket.trim(), now()],
        )?;
        if fresh == 0 {
            return Err(DemoError::new(
                StatusCode::CONFLICT,
                "ticket_used",
                "该证照码已使用，请在手机上重新亮证。",
                "This ticket was already used; show a new code from the phone.",
                false,
            ));
        }
        let (token, _) = issue_subject(c, &id)?;
        let mut fields = std::collections::BTreeMap::new();
        fields.insert("证照名称".to_string(), licence.zh.clone());
        fields.insert("持证人".to_string(), data::mask_name(&p.name));
        fields.insert("签发地".to_string(), p.region.clone());
        let mut rng = data::Rng::new(&p.seed, &lt);
        let out = api::TicketLicence {
            licence_type: lt.clone(),
            identifier: format!("{}-{:010}", lt.to_uppercase(), rng.below(10_000_000_000)),
            holder_masked: masked(&id),
            subject_token: token,
            fields,
        };
        Ok((StatusCode::OK, to_json(&out)?))
    })
}

pub(super) fn new_reference() -> Res<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(DemoError::internal)?;
    Ok(format!("lic_{}", hex::encode(b)))
}

/// `POST /v1/elicense/licences`: the requested types the citizen holds, each with a fresh
/// reference (recorded for this citizen) to attach it to a service request.
pub(super) async fn licences(
    State(st): State<Shared>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Res<Response> {
    let body = body_bytes(body)?;
    let req: api::LicenceRequest = parse(&body)?;
    service(&st, &req.service_id)?;
    if req.types.len() > MAX_LICENCES {
        return Err(DemoError::bad_request(
            "bad_request",
            "请求的证照类型过多。",
            format!("Ask for at most {MAX_LICENCES} licence types per call."),
        ));
    }
    once(&st, &h, "licences", body_hash(&body), |c| {
        let id = subject_id(c, &req.subject)?;
        let person = check_id(&id)?;
        let held = data::holdings(&person, Utc::now().date_naive());
        let mut wanted: Vec<&data::Holding> = Vec::new();
        if req.types.is_empty() {
            wanted.extend(held.iter());
        } else {
            for t in &req.types {
                if let Some(h) = held.iter().find(|h| h.licence_type.id == t.trim()) {
                    if !wanted
                        .iter()
                        .any(|w| w.licence_type.id == h.licence_type.id)
                    {
                        wanted.push(h);
                    }
                }
            }
        }
        let mut out = Vec::new();
        for h in wanted {
            let Some(cat) = st.catalog.licence(h.licence_type.id) else {
                continue;
            };
            let reference = new_reference()?;
            c.execute(
                "INSERT INTO licence_refs (reference, id_number, licence_type, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![reference, id, cat.id, now() + LICENCE_REF_TTL],
            )?;
            out.push(api::HeldLicence {
                licence_type: cat.id.clone(),
                name_zh: cat.zh.clone(),
                name_en: cat.en.clone(),
                identifier_masked: masked(&h.identifier),
                reference,
                valid_to: h.valid_to.clone(),
            });
        }
        tracing::info!(service = %req.service_id, held = out.len(), "demo platform: licences");
        Ok((
            StatusCode::OK,
            to_json(&api::LicenceList { licences: out })?,
        ))
    })
}

/// A code as the government app would show it: an `EL1:` presentation or `ET1:` ticket of a
/// licence the synthetic person holds, signed by the demo issuer. Identity presentations carry a
/// fresh subject token in `sd.subject_token`.
pub(super) fn make_code(st: &DemoState, req: &api::DemoCodeRequest) -> Res<api::DemoCode> {
    let person = check_id(&req.id_number)?;
    let id = req.id_number.trim().to_ascii_uppercase();
    let Some(cat) = st.catalog.licence(req.licence.trim()) else {
        return Err(DemoError::unprocessable(
            "unknown_licence_type",
            "没有这种电子证照。",
            format!(
                "No such licence type; use a catalog licence id: {}.",
                st.catalog
                    .licences()
                    .iter()
                    .map(|l| l.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    let alg_name = req.alg.as_deref().unwrap_or("sm2");
    let Some(alg) = elicense::Alg::parse(alg_name) else {
        return Err(DemoError::bad_request(
            "bad_request",
            "签名算法不正确。",
            "alg must be es256 or sm2.",
        ));
    };
    let held = data::holdings(&person, Utc::now().date_naive());
    let Some(holding) = held.iter().find(|h| h.licence_type.id == cat.id) else {
        let names: Vec<String> = held
            .iter()
            .filter_map(|h| st.catalog.licence(h.licence_type.id))
            .map(|l| l.id.clone())
            .collect();
        return Err(DemoError::not_found(
            "licence_not_held",
            "此人没有这种电子证照，请选择其持有的证照。",
            &format!(
                "This synthetic person holds no {}; choose one they hold: {}.",
                cat.id,
                names.join(", ")
            ),
        ));
    };
    let issuer = elicense::demo::issuer(alg).map_err(DemoError::internal)?;
    let iat = now();
    match req.kind {
        api::DemoCodeKind::Ticket => {
            let reference = format!("{}:{id}", cat.id);
            let payload = elicense::issue_ticket(&issuer, reference.as_bytes(), iat, TICKET_TTL)
                .map_err(DemoError::internal)?;
            Ok(api::DemoCode {
                payload,
                expires_at: iat + TICKET_TTL,
            })
        }
        api::DemoCodeKind::Presentation => {
            let mut licence = elicense::Licence::default();
            if holding.licence_type.id == elicense::types::IDENTITY_CARD.id {
                let c = st.db.lock().map_err(|_| DemoError::internal("lock"))?;
                let (token, _) = issue_subject(&c, &id)?;
                licence.disclosed.push(elicense::Field {
                    name: elicense::SUBJECT_TOKEN_FIELD.into(),
                    value: token,
                });
            }
            licence.licence_type = holding.licence_type.code.into();
            licence.identifier = holding.identifier.clone();
            licence.holder_name = Some(data::mask_name(&person.name));
            licence.holder_id = Some(masked(&id));
            licence.holder_id_type = Some("111".into());
            licence.org_name = Some(holding.org_name.clone());
            licence.org_code = Some(data::DEMO_ISSUING_ORG.into());
            licence.issued = Some(holding.issued.clone());
            licence.valid_to = holding.valid_to.clone();
            let claims = elicense::PresentationClaims {
                licence,
                iat,
                ttl: PRESENTATION_TTL,
                aud: None,
                cti: None,
            };
            let payload =
                elicense::issue_presentation(&issuer, &claims).map_err(DemoError::internal)?;
            Ok(api::DemoCode {
                payload,
                expires_at: iat + PRESENTATION_TTL,
            })
        }
    }
}

pub(super) async fn demo_elicense(
    State(st): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Res<Json<api::DemoCode>> {
    let body = body_bytes(body)?;
    let req: api::DemoCodeRequest = parse(&body)?;
    Ok(Json(make_code(&st, &req)?))
}

#[derive(Deserialize)]
pub(super) struct CodeQuery {
    licence: Option<String>,
    kind: Option<String>,
    alg: Option<String>,
}

/// The QR page a person opens on a second screen or phone to show a demo code to a real scanner.
pub(super) async fn demo_elicense_page(
    State(st): State<Shared>,
    Path(id_number): Path<String>,
    Query(q): Query<CodeQuery>,
) -> Response {
    let kind = match q.kind.as_deref() {
        Some("ticket") => api::DemoCodeKind::Ticket,
        _ => api::DemoCodeKind::Presentation,
    };
    let req = api::DemoCodeRequest {
        id_number,
        licence: q.licence.unwrap_or_else(|| "identity".into()),
        kind,
        alg: q.alg,
    };
    let code = match make_code(&st, &req) {
        Ok(c) => c,
        Err(e) => {
            let body = format!(
                "<p>{}</p><p>{}</p>",
                escape(&e.error.message_zh),
                escape(&e.error.message_en)
            );
            return (e.status, page("无法生成证照码 / No code", &body)).into_response();
        }
    };
    let svg =
        qrcode::QrCode::with_error_correction_level(code.payload.as_bytes(), qrcode::EcLevel::M)
            .map(|qr| {
                qr.render::<qrcode::render::svg::Color<'_>>()
                    .min_dimensions(360, 360)
                    .quiet_zone(true)
                    .build()
            })
            .map(|svg| match svg.find("<svg") {
                Some(i) => svg[i..].to_string(),
                None => svg,
            })
            .unwrap_or_default();
    let ttl = code.expires_at - now();
    // Reload 30 s before expiry (the kiosk tolerates 60 s of skew past it).
    let refresh = (ttl - 30).max(5);
    let name = st
        .catalog
        .licence(&req.licence)
        .map(|l| format!("{} / {}", l.zh, l.en))
        .unwrap_or_default();
    let what = match kind {
        api::DemoCodeKind::Presentation => "亮证码 / presentation (EL1)",
        api::DemoCodeKind::Ticket => "在线核验码 / online ticket (ET1)",
    };
    let until = chrono::DateTime::from_timestamp(code.expires_at, 0)
        .map(|d| d.format("%H:%M:%S UTC").to_string())
        .unwrap_or_default();
    let body = format!(
        "<p>{what}</p><div>{svg}</div>\
         <p>有效至 Valid until {until}；页面每 {refresh} 秒自动刷新 / this page refreshes every \
         {refresh} s.</p>\
         <p>演示数据，仅供测试。Synthetic demo data, for testing only.</p>\
         <details><summary>码文本 / Payload text</summary>\
         <pre style=\"white-space:pre-wrap;word-break:break-all\">{}</pre></details>",
        escape(&code.payload)
    );
    let html = page_with_head(
        &format!("{name} — 演示证照码 / Demo code"),
        &format!("<meta http-equiv=\"refresh\" content=\"{refresh}\">"),
        &body,
    );
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        html,
    )
        .into_response()
}
