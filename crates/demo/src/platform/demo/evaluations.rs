//! `POST /v1/evaluations`: the citizen's rating of a finished service (好差评).
#[allow(unused_imports)]
use super::*;

pub(super) async fn evaluate(
    State(st): State<Shared>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Res<Response> {
    let body = body_bytes(body)?;
    let ev: api::Evaluation = parse(&body)?;
    if !(1..=5).contains(&ev.level) {
        return Err(DemoError::unprocessable(
            "bad_level",
            "评价等级应为1到5。",
            "level must be 1 (very dissatisfied) to 5 (very satisfied).",
        ));
    }
    if ev.request_id.is_empty() || ev.reasons.len() > 16 {
        return Err(DemoError::unprocessable(
            "bad_evaluation",
            "评价内容不完整。",
            "An evaluation names its request_id and at most 16 reasons.",
        ));
    }
    if ev.staff_level.is_some_and(|l| !(1..=5).contains(&l))
        || (ev.staff_level.is_some() && ev.staff_id.is_none())
        || ev.staff_id.as_deref().is_some_and(|s| !staff_id_ok(s))
    {
        return Err(DemoError::unprocessable(
            "bad_staff_rating",
            "对帮办员的评价不完整。",
            "staff_level is 1 to 5 and needs the helper's staff_id.",
        ));
    }
    once(&st, &h, "evaluations", body_hash(&body), |c| {
        let n = store::next(c, "evaluation")?;
        let evaluation_id = format!("ev_{n:06}");
        c.execute(
            "INSERT INTO evaluations (evaluation_id, request_id, service_id, level, reasons)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                evaluation_id,
                ev.request_id,
                ev.service_id,
                ev.level,
                ev.reasons.join(",")
            ],
        )?;
        if let Some(staff) = &ev.staff_id {
            c.execute(
                "INSERT INTO evaluation_staff (evaluation_id, staff_id, staff_level)
                 VALUES (?1, ?2, ?3)",
                params![evaluation_id, staff, ev.staff_level],
            )?;
        }
        Ok((
            StatusCode::OK,
            to_json(&api::EvaluationAck { evaluation_id })?,
        ))
    })
}
