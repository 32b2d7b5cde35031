//! The demo pages a citizen's phone opens (payment, face check, result pages), the fault switch
//! (`/demo/faults`), and [`open_link`], which opens one as the phone would.
#[allow(unused_imports)]
use super::*;

pub(super) async fn get_faults(State(st): State<Shared>) -> Json<Faults> {
    Json(st.faults())
}

pub(super) async fn set_faults(
    State(st): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Res<Json<Faults>> {
    let body = body_bytes(body)?;
    let f: Faults = parse(&body)?;
    if !(0.0..=1.0).contains(&f.error_rate) || f.latency_ms > 600_000 {
        return Err(DemoError::unprocessable(
            "bad_faults",
            "故障参数不正确。",
            "error_rate is 0.0-1.0 and latency_ms at most 600000.",
        ));
    }
    tracing::info!(?f, "demo platform: faults");
    st.set_faults(f.clone());
    Ok(Json(f))
}

pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(super) fn page(title: &str, body: &str) -> Html<String> {
    page_with_head(title, "", body)
}

pub(super) fn page_with_head(title: &str, head: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">{head}<title>{t}</title></head>\
         <body style=\"font-family:sans-serif;max-width:40em;margin:1em auto\"><h1>{t}</h1>{body}\
         </body></html>",
        t = escape(title)
    ))
}

pub(super) async fn demo_pay(
    State(st): State<Shared>,
    Path(id): Path<String>,
) -> Res<Html<String>> {
    let c = st.db.lock().map_err(|_| DemoError::internal("lock"))?;
    let p = payment_row(&c, &id)?;
    if p.status == api::PaymentState::Pending {
        c.execute(
            "UPDATE payments SET status = 'paid' WHERE order_id = ?1",
            params![id],
        )?;
    }
    let p = payment_row(&c, &id)?;
    let (zh, en) = match p.status {
        api::PaymentState::Paid => ("支付成功", "Paid"),
        api::PaymentState::Cancelled => ("订单已取消", "Cancelled"),
        api::PaymentState::Expired => ("订单已过期", "Expired"),
        api::PaymentState::Pending => ("待支付", "Pending"),
    };
    Ok(page(
        &format!("{zh} / {en}"),
        &format!(
            "<p>订单 Order {} — ¥{}</p>",
            escape(&p.order_id),
            escape(&p.amount)
        ),
    ))
}

#[derive(Deserialize)]
pub(super) struct FaceQuery {
    refuse: Option<String>,
}

pub(super) async fn demo_face(
    State(st): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<FaceQuery>,
) -> Res<Html<String>> {
    let c = st.db.lock().map_err(|_| DemoError::internal("lock"))?;
    let f = face_row(&c, &id)?;
    if f.status == api::FaceCheckState::Pending {
        let to = if q.refuse.is_some() {
            "refused"
        } else {
            "confirmed"
        };
        c.execute(
            "UPDATE face_checks SET status = ?2 WHERE check_id = ?1",
            params![id, to],
        )?;
    }
    let f = face_row(&c, &id)?;
    let (zh, en) = match f.status {
        api::FaceCheckState::Confirmed => ("刷脸认证通过", "Face check passed"),
        api::FaceCheckState::Refused => ("刷脸认证未通过", "Face check refused"),
        api::FaceCheckState::Expired => ("认证已过期", "Expired"),
        api::FaceCheckState::Pending => ("等待认证", "Pending"),
    };
    Ok(page(
        &format!("{zh} / {en}"),
        "<p>请回到自助机继续办理。Go back to the kiosk.</p>",
    ))
}

/// `/r/{request_id}` without its view token: no such page (as for an unknown id).
pub(super) async fn no_page() -> DemoError {
    not_found_page()
}

pub(super) fn not_found_page() -> DemoError {
    DemoError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "没有这个页面。",
        "No such page.",
        false,
    )
}

pub(super) async fn result_page(
    State(st): State<Shared>,
    Path((id, view)): Path<(String, String)>,
) -> Res<Html<String>> {
    let c = st.db.lock().map_err(|_| DemoError::internal("lock"))?;
    // Without the request's own view token the page does not exist (the same answer as an
    // unknown id, so ids cannot be probed either).
    let known: Option<String> = c
        .query_row(
            "SELECT view FROM result_views WHERE request_id = ?1",
            params![id],
            |r| r.get(0),
        )
        .optional()?;
    let same = known.is_some_and(|k| {
        use subtle::ConstantTimeEq;
        k.len() == view.len() && bool::from(k.as_bytes().ct_eq(view.as_bytes()))
    });
    if !same {
        return Err(not_found_page());
    }
    let r = load_request(&c, &id)?;
    let mut body = format!(
        "<p>业务编号 Reference: <b>{}</b></p><table>",
        escape(&r.reference)
    );
    let items: Vec<api::Item> = match &r.result {
        api::ServiceResult::Screen(s) => s.items.clone(),
        api::ServiceResult::Print(p) => p.screen.items.clone(),
        api::ServiceResult::Pay(p) => p.items.clone(),
        api::ServiceResult::Submit(s) => vec![api::Item {
            label_zh: "下一步".into(),
            label_en: "Next steps".into(),
            value: s.next_steps_zh.clone(),
            speak: false,
        }],
        api::ServiceResult::Appointment(a) => vec![api::Item {
            label_zh: "预约时段".into(),
            label_en: "Slot".into(),
            value: format!("{} {} – {}", a.office_zh, a.slot.start, a.slot.end),
            speak: false,
        }],
    };
    for i in items {
        body.push_str(&format!(
            "<tr><td>{} / {}</td><td>{}</td></tr>",
            escape(&i.label_zh),
            escape(&i.label_en),
            escape(&i.value)
        ));
    }
    body.push_str("</table>");
    let title = st
        .catalog
        .service(&r.service_id)
        .map(|s| format!("{} / {}", s.zh, s.en))
        .unwrap_or_else(|| r.service_id.clone());
    Ok(page(&title, &body))
}

/// Opens a link as the citizen's phone would (a payment or face-check page of this demo
/// platform): one GET, success when it answers 2xx. For `zizhu flow run --sample` and the
/// simulated kiosk's "phone" button.
pub fn open_link(url: &str) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let r = reqwest::Client::new()
            .get(url)
            .timeout(std::time::Duration::from_secs(10))
            .send()
            .await?;
        anyhow::ensure!(
            r.status().is_success(),
            "opening {url}: HTTP {}",
            r.status()
        );
        Ok(())
    })
}
