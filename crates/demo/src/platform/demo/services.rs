//! Service requests and what follows them: `POST /v1/services/{id}/requests`, `GET
//! /v1/requests/{id}`, payments, face checks and appointment slots.
#[allow(unused_imports)]
use super::*;

pub(super) fn base_url(st: &DemoState, h: &HeaderMap) -> String {
    match h.get(header::HOST).and_then(|v| v.to_str().ok()) {
        Some(host)
            if !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".:-[]".contains(&b)) =>
        {
            format!("http://{host}")
        }
        _ => format!("http://{}", st.listen),
    }
}

pub(super) fn service<'a>(st: &'a DemoState, id: &str) -> Res<&'a Service> {
    st.catalog.service(id).ok_or_else(|| {
        DemoError::not_found(
            "unknown_service",
            "没有这项服务。",
            "No such service; refresh the catalog (GET /v1/catalog).",
        )
    })
}

pub(super) fn check_fields(s: &Service, req: &api::ServiceRequest) -> Res<()> {
    for f in &s.fields {
        let v = req.fields.get(&f.key).map(|v| v.trim()).unwrap_or("");
        if f.required && v.is_empty() {
            return Err(DemoError::unprocessable(
                "missing_field",
                format!("请填写“{}”。", f.zh),
                format!("Fill in \"{}\" (field `{}`).", f.en, f.key),
            ));
        }
        if v.is_empty() {
            continue;
        }
        let ok = match f.kind {
            FieldKind::Select => f.options.iter().any(|o| o.value == v),
            FieldKind::Amount => data::parse_yuan(v).is_some(),
            FieldKind::Date => NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok(),
            FieldKind::MonthRange => !data::months(v).is_empty(),
            FieldKind::Digits => v.bytes().all(|b| b.is_ascii_digit()),
            FieldKind::Phone => {
                v.len() == 11 && v.starts_with('1') && v.bytes().all(|b| b.is_ascii_digit())
            }
            FieldKind::Text => v.chars().count() <= 500,
        };
        if !ok {
            return Err(DemoError::unprocessable(
                "bad_field",
                format!("“{}”填写不正确。", f.zh),
                format!("\"{}\" (field `{}`) is not valid.", f.en, f.key),
            ));
        }
    }
    if req.fields.len() > 64 || req.fields.values().any(|v| v.len() > 2000) {
        return Err(DemoError::unprocessable(
            "bad_field",
            "填写内容过多。",
            "Too many or too long field values.",
        ));
    }
    Ok(())
}

/// A helper's staff number as the demo accepts it: 1 to 64 printable characters.
pub(super) fn staff_id_ok(s: &str) -> bool {
    let n = s.chars().count();
    (1..=64).contains(&n) && !s.chars().any(char::is_control)
}

pub(super) fn unknown_licence_reference() -> DemoError {
    DemoError::unprocessable(
        "unknown_licence_reference",
        "所附电子证照无法使用（已过期或不属于本人），请返回重新选择证照，或改用纸质材料。",
        "An attached e-licence cannot be used (expired, or not this citizen's); go back and \
         choose the licences again, or bring the paper documents.",
    )
}

/// Checks the e-licences a service request attaches: each entry is a reference from
/// `/v1/elicense/licences` issued for this citizen and still live. (Ticket references are not
/// accepted: the demo's carry the ID number, and the request's references are journaled in clear;
/// after consuming a ticket the kiosk lists the citizen's licences for a reference.)
pub(super) fn check_elicense(c: &Connection, refs: &[String], id_number: Option<&str>) -> Res<()> {
    if refs.len() > MAX_LICENCES {
        return Err(unknown_licence_reference());
    }
    for r in refs {
        let r = r.trim();
        let Some(id) = id_number else {
            return Err(unknown_licence_reference());
        };
        let known = r.starts_with("lic_")
            && c.query_row(
                "SELECT COUNT(*) FROM licence_refs
                 WHERE reference = ?1 AND id_number = ?2 AND expires_at >= ?3",
                params![r, id, now()],
                |row| row.get::<_, i64>(0),
            )? > 0;
        if !known {
            return Err(unknown_licence_reference());
        }
    }
    Ok(())
}

pub(super) fn face_confirmed(conn: &Connection, check_id: Option<&str>) -> Res<bool> {
    let Some(id) = check_id else { return Ok(false) };
    let st: Option<String> = conn
        .query_row(
            "SELECT status FROM face_checks WHERE check_id = ?1",
            params![id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(st.as_deref() == Some("confirmed"))
}

pub(super) fn pick_slot(s: &Service, req: &api::ServiceRequest) -> Res<api::Slot> {
    let today = Utc::now().date_naive();
    if let Some(slot_id) = req.fields.get("slot_id") {
        let date = slot_id
            .get(..10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        let found = date.and_then(|d| {
            data::slots(s, d)
                .into_iter()
                .find(|x| &x.slot_id == slot_id)
        });
        return match found {
            Some(x) if x.available => Ok(x),
            Some(_) => Err(DemoError::new(
                StatusCode::CONFLICT,
                "slot_taken",
                "该时段已约满，请选择其他时段。",
                "That slot is taken; choose another.",
                false,
            )),
            None => Err(DemoError::unprocessable(
                "unknown_slot",
                "没有这个预约时段。",
                "No such slot; list them with GET /v1/services/{id}/slots?date=.",
            )),
        };
    }
    let mut date = req
        .fields
        .get("date")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .filter(|d| *d > today)
        .unwrap_or_else(|| data::next_working_day(today));
    let office = req.fields.get("office");
    for _ in 0..14 {
        if let Some(x) = data::slots(s, date)
            .into_iter()
            .find(|x| x.available && office.is_none_or(|o| &x.office == o))
        {
            return Ok(x);
        }
        date = data::next_working_day(date);
    }
    Err(DemoError::new(
        StatusCode::CONFLICT,
        "no_slots",
        "近期没有可预约的时段，请到窗口咨询。",
        "No free slots soon; please ask at a counter.",
        false,
    ))
}

/// The idempotency hash of a service request: the body with the subject replaced by the person
/// it stands for, so a re-send carrying a new subject token for the same person is the same call.
pub(super) fn request_hash(st: &DemoState, req: &api::ServiceRequest) -> Res<String> {
    let mut canon = req.clone();
    if let Some(sub) = &req.subject {
        let id = {
            let c = st.db.lock().map_err(|_| DemoError::internal("lock"))?;
            subject_id(&c, sub)?
        };
        canon.subject = Some(api::Subject {
            id_number: Some(body_hash(id.as_bytes())),
            subject_token: None,
            kind: sub.kind,
            proxy: sub.proxy,
        });
    }
    let bytes = serde_json::to_vec(&canon).map_err(DemoError::internal)?;
    Ok(body_hash(&bytes))
}

pub(super) async fn service_request(
    State(st): State<Shared>,
    Path(service_id): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Res<Response> {
    let body = body_bytes(body)?;
    let s = service(&st, &service_id)?;
    if s.is_one_thing() {
        return Err(DemoError::unprocessable(
            "file_to_members",
            "“一件事”请分别向其包含的各事项提交。",
            format!(
                "`{}` is a one-thing service: file a request to each of its members ({}).",
                s.id,
                s.members
                    .iter()
                    .map(|m| m.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let req: api::ServiceRequest = parse(&body)?;
    let base = base_url(&st, &h);
    let hash = request_hash(&st, &req)?;
    once(&st, &h, &format!("requests:{}", s.id), hash, |c| {
        let id_number = match &req.subject {
            Some(sub) => Some(subject_id(c, sub)?),
            None if s.auth == Auth::None => None,
            None => {
                return Err(DemoError::unprocessable(
                    "subject_required",
                    "办理此业务需要先认证身份。",
                    "This service needs the citizen identified first.",
                ))
            }
        };
        let staff_checked = req.identity_method == Some(api::IdentityMethod::IdCardStaff);
        if staff_checked {
            // 人工核验 stands in for the face check only where the catalog allows it, and only
            // with the helper named.
            if !s.staff_verify || s.auth != Auth::IdCardFace {
                return Err(DemoError::unprocessable(
                    "staff_verify_not_allowed",
                    "本事项不能由工作人员人工核验，请用手机刷脸或出示身份码。",
                    "This service does not take a staff check instead of the face check; do the \
                     face check on the phone, or show an identity code.",
                ));
            }
            if !req.staff_id.as_deref().is_some_and(staff_id_ok) {
                return Err(DemoError::unprocessable(
                    "staff_id_required",
                    "人工核验需注明帮办员工号。",
                    "A staff check (idcard+staff) needs the helper's staff_id.",
                ));
            }
        }
        if req.staff_id.as_deref().is_some_and(|s| !staff_id_ok(s)) {
            return Err(DemoError::unprocessable(
                "bad_staff_id",
                "帮办员工号不正确。",
                "staff_id must be 1 to 64 printable characters.",
            ));
        }
        if let (Some(sub), Auth::IdCardFace, false) = (&req.subject, s.auth, staff_checked) {
            if sub.kind != api::SubjectKind::Code
                && !face_confirmed(c, req.face_check_id.as_deref())?
            {
                return Err(DemoError::new(
                    StatusCode::CONFLICT,
                    "face_check_required",
                    "此业务需要刷脸认证：请用手机扫码完成刷脸，或出示粤省事身份码。",
                    "This service needs a face check: scan the QR with your phone, or show an \
                     identity code.",
                    false,
                ));
            }
        }
        if s.commitment && !req.commitment_accepted {
            return Err(DemoError::unprocessable(
                "commitment_required",
                "办理此业务需要同意告知承诺。",
                "This service needs the commitment accepted.",
            ));
        }
        check_fields(s, &req)?;
        check_elicense(c, &req.elicense, id_number.as_deref())?;
        let person = id_number.as_deref().map(check_id).transpose()?;
        let masked_id = id_number.as_deref().map(masked).unwrap_or_default();
        let n = store::next(c, "request")?;
        let request_id = format!("rq_{n:06}");
        let today = Utc::now();
        let reference = format!("YZ{}{n:06}", today.format("%Y%m%d"));
        // The result page is reached only through this link: an unguessable view token next
        // to the (sequential) request id, checked by `result_page`.
        let view = new_token()?.replacen("st_", "v_", 1);
        c.execute(
            "INSERT INTO result_views (request_id, view) VALUES (?1, ?2)",
            params![request_id, view],
        )?;
        let handoff = format!("{base}/r/{request_id}/{view}");
        let who = person.as_ref().map(|p| (p, masked_id.as_str()));
        let category = st.catalog.category(&s.category);
        let (status, result) = match s.output {
            Output::Screen => (
                api::RequestStatus::Completed,
                api::ServiceResult::Screen(data::screen(s, category, who, &req.fields)),
            ),
            Output::Print => {
                let sc = data::screen(s, category, who, &req.fields);
                (
                    api::RequestStatus::Completed,
                    api::ServiceResult::Print(data::print(sc, s, &reference, handoff.clone())),
                )
            }
            Output::Submit => (
                api::RequestStatus::Accepted,
                api::ServiceResult::Submit(data::submit(s, &reference)),
            ),
            Output::Pay => {
                let order_id = format!("od_{n:06}");
                let url = format!("{base}/demo/pay/{order_id}");
                let (p, _) = data::pay(s, person.as_ref(), &req.fields, &order_id, url);
                c.execute(
                    "INSERT INTO payments (order_id, request_id, amount, status, created_at)
                     VALUES (?1, ?2, ?3, 'pending', ?4)",
                    params![order_id, request_id, p.amount, now()],
                )?;
                (
                    api::RequestStatus::PaymentPending,
                    api::ServiceResult::Pay(p),
                )
            }
            Output::Appointment => {
                let slot = pick_slot(s, &req)?;
                (
                    api::RequestStatus::Completed,
                    api::ServiceResult::Appointment(data::appointment(s, slot, &reference)),
                )
            }
        };
        let resp = api::ServiceResponse {
            request_id: request_id.clone(),
            reference,
            service_id: s.id.clone(),
            status,
            result,
            handoff_url: handoff,
            created_at: today.to_rfc3339(),
        };
        let json = to_json(&resp)?;
        c.execute(
            "INSERT INTO requests (request_id, service_id, response, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![request_id, s.id, json.to_string(), resp.created_at],
        )?;
        if req.identity_method.is_some() || req.staff_id.is_some() {
            c.execute(
                "INSERT INTO request_identity (request_id, identity_method, staff_id)
                 VALUES (?1, ?2, ?3)",
                params![
                    request_id,
                    req.identity_method.map(|m| m.as_str()),
                    req.staff_id
                ],
            )?;
        }
        tracing::info!(service = %s.id, request = %request_id, "demo platform: request");
        Ok((StatusCode::OK, json))
    })
}

pub(super) fn payment_row(c: &Connection, order_id: &str) -> Res<api::Payment> {
    let row: Option<(String, String, String, i64)> = c
        .query_row(
            "SELECT request_id, amount, status, created_at FROM payments WHERE order_id = ?1",
            params![order_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((request_id, amount, status, created)) = row else {
        return Err(DemoError::not_found(
            "unknown_order",
            "没有这笔订单。",
            "No such order.",
        ));
    };
    let status = match status.as_str() {
        "paid" => api::PaymentState::Paid,
        "cancelled" => api::PaymentState::Cancelled,
        _ if now() - created > PAYMENT_TTL => api::PaymentState::Expired,
        _ => api::PaymentState::Pending,
    };
    Ok(api::Payment {
        order_id: order_id.into(),
        request_id,
        status,
        amount,
    })
}

pub(super) fn load_request(c: &Connection, request_id: &str) -> Res<api::ServiceResponse> {
    let text: Option<String> = c
        .query_row(
            "SELECT response FROM requests WHERE request_id = ?1",
            params![request_id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(text) = text else {
        return Err(DemoError::not_found(
            "unknown_request",
            "没有这笔业务。",
            "No such request.",
        ));
    };
    let mut resp: api::ServiceResponse =
        serde_json::from_str(&text).map_err(DemoError::internal)?;
    if let api::ServiceResult::Pay(p) = &resp.result {
        if payment_row(c, &p.order_id)?.status == api::PaymentState::Paid {
            resp.status = api::RequestStatus::Completed;
        }
    }
    Ok(resp)
}

pub(super) async fn get_request(
    State(st): State<Shared>,
    Path(id): Path<String>,
) -> Res<Json<api::ServiceResponse>> {
    let c = st.db.lock().map_err(|_| DemoError::internal("lock"))?;
    Ok(Json(load_request(&c, &id)?))
}

pub(super) async fn payment(
    State(st): State<Shared>,
    Path(id): Path<String>,
) -> Res<Json<api::Payment>> {
    let c = st.db.lock().map_err(|_| DemoError::internal("lock"))?;
    Ok(Json(payment_row(&c, &id)?))
}

pub(super) async fn cancel_payment(
    State(st): State<Shared>,
    Path(id): Path<String>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Res<Response> {
    let body = body_bytes(body)?;
    once(&st, &h, &format!("cancel:{id}"), body_hash(&body), |c| {
        let p = payment_row(c, &id)?;
        if p.status == api::PaymentState::Paid {
            return Err(DemoError::new(
                StatusCode::CONFLICT,
                "already_paid",
                "订单已支付，无法取消。",
                "The order is already paid and cannot be cancelled.",
                false,
            ));
        }
        c.execute(
            "UPDATE payments SET status = 'cancelled' WHERE order_id = ?1",
            params![id],
        )?;
        Ok((StatusCode::OK, to_json(&payment_row(c, &id)?)?))
    })
}

pub(super) async fn start_face_check(
    State(st): State<Shared>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Res<Response> {
    let body = body_bytes(body)?;
    let req: api::FaceCheckRequest = parse(&body)?;
    service(&st, &req.service_id)?;
    let base = base_url(&st, &h);
    once(&st, &h, "face-checks", body_hash(&body), |c| {
        subject_id(c, &req.subject)?;
        let n = store::next(c, "face")?;
        let check_id = format!("fc_{n:06}");
        c.execute(
            "INSERT INTO face_checks (check_id, service_id, status, created_at) VALUES (?1, ?2, 'pending', ?3)",
            params![check_id, req.service_id, now()],
        )?;
        let out = api::FaceCheck {
            url: format!("{base}/demo/face/{check_id}"),
            check_id,
            status: api::FaceCheckState::Pending,
        };
        Ok((StatusCode::OK, to_json(&out)?))
    })
}

pub(super) fn face_row(c: &Connection, id: &str) -> Res<api::FaceCheckStatus> {
    let row: Option<(String, i64)> = c
        .query_row(
            "SELECT status, created_at FROM face_checks WHERE check_id = ?1",
            params![id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((status, created)) = row else {
        return Err(DemoError::not_found(
            "unknown_face_check",
            "没有这次刷脸认证。",
            "No such face check.",
        ));
    };
    let status = match status.as_str() {
        "confirmed" => api::FaceCheckState::Confirmed,
        "refused" => api::FaceCheckState::Refused,
        _ if now() - created > FACE_TTL => api::FaceCheckState::Expired,
        _ => api::FaceCheckState::Pending,
    };
    Ok(api::FaceCheckStatus {
        check_id: id.into(),
        status,
    })
}

pub(super) async fn face_check(
    State(st): State<Shared>,
    Path(id): Path<String>,
) -> Res<Json<api::FaceCheckStatus>> {
    let c = st.db.lock().map_err(|_| DemoError::internal("lock"))?;
    Ok(Json(face_row(&c, &id)?))
}

#[derive(Deserialize)]
pub(super) struct DateQuery {
    date: Option<String>,
}

pub(super) async fn slots(
    State(st): State<Shared>,
    Path(service_id): Path<String>,
    Query(q): Query<DateQuery>,
) -> Res<Json<Vec<api::Slot>>> {
    let s = service(&st, &service_id)?;
    let date = match q.date.as_deref() {
        None => data::next_working_day(Utc::now().date_naive()),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            DemoError::bad_request("bad_date", "日期格式不正确。", "date must be YYYY-MM-DD.")
        })?,
    };
    Ok(Json(data::slots(s, date)))
}
