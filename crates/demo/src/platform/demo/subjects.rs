//! `POST /v1/subjects` (an ID number becomes a subject token) and `POST /v1/identity/resolve`
//! (an identity code or an e-ID presentation becomes one).
#[allow(unused_imports)]
use super::*;

pub(super) fn check_id(id: &str) -> Res<data::Person> {
    data::person(id).map_err(|e| {
        let why_en = match e {
            data::BadId::Shape => "it must be 17 digits and a final digit or X",
            data::BadId::CheckDigit => "its check character is wrong",
            data::BadId::BirthDate => "its birth date is not a date",
        };
        DemoError::unprocessable(
            "invalid_id_number",
            "身份证号码无效，请核对后重新输入。",
            format!("The ID number is not valid ({why_en}); check it and enter it again."),
        )
    })
}

pub(super) fn issue_subject(conn: &Connection, id: &str) -> Res<(String, i64)> {
    let token = new_token()?;
    let exp = now() + SUBJECT_TTL;
    conn.execute(
        "INSERT INTO subjects (token, id_number, expires_at) VALUES (?1, ?2, ?3)",
        params![token, id.to_ascii_uppercase(), exp],
    )?;
    Ok((token, exp))
}

/// The ID number and expiry behind a live subject token.
pub(super) fn token_subject(conn: &Connection, token: &str) -> Res<(String, i64)> {
    let row: Option<(String, i64)> = conn
        .query_row(
            "SELECT id_number, expires_at FROM subjects WHERE token = ?1",
            params![token],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        Some((id, exp)) if exp >= now() => Ok((id, exp)),
        _ => Err(DemoError::unprocessable(
            "unknown_subject_token",
            "身份凭据已失效，请重新认证身份。",
            "The subject token is unknown or expired; identify again.",
        )),
    }
}

/// The ID number behind a subject (number or token).
pub(super) fn subject_id(conn: &Connection, s: &api::Subject) -> Res<String> {
    match (&s.id_number, &s.subject_token) {
        (Some(id), None) => {
            check_id(id)?;
            Ok(id.trim().to_ascii_uppercase())
        }
        (None, Some(t)) => token_subject(conn, t).map(|(id, _)| id),
        _ => Err(DemoError::bad_request(
            "bad_subject",
            "身份信息不完整。",
            "A subject carries exactly one of id_number and subject_token.",
        )),
    }
}

pub(super) async fn subjects(
    State(st): State<Shared>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Res<Response> {
    let body = body_bytes(body)?;
    let req: api::SubjectRequest = parse(&body)?;
    check_id(&req.id_number)?;
    once(&st, &h, "subjects", body_hash(&body), |c| {
        let (token, exp) = issue_subject(c, req.id_number.trim())?;
        let out = api::SubjectToken {
            subject_token: token,
            id_masked: masked(req.id_number.trim()),
            expires_at: exp,
        };
        Ok((StatusCode::OK, to_json(&out)?))
    })
}

/// The ID number inside a demo identity code: `YSS:<id number>` (粤省事码 stand-in).
pub fn identity_code(code: &str) -> Option<&str> {
    let c = code.trim();
    let rest = c.strip_prefix("YSS:").or_else(|| c.strip_prefix("yss:"))?;
    Some(rest.trim())
}

pub(super) async fn resolve(
    State(st): State<Shared>,
    h: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Res<Response> {
    let body = body_bytes(body)?;
    let req: api::ResolveRequest = parse(&body)?;
    if req
        .code
        .trim_start()
        .starts_with(elicense::codec::PREFIX_PRESENTATION)
    {
        let code = req.code.trim().to_string();
        return once(&st, &h, "identity", body_hash(&body), |c| {
            resolve_presentation(&st, c, &code)
        });
    }
    let Some(id) = identity_code(&req.code) else {
        return Err(DemoError::unprocessable(
            "unknown_code",
            "无法识别该身份码，请在手机上刷新后重新出示。",
            "This identity code is not recognised; refresh it on the phone and show it again.",
        ));
    };
    let p = check_id(id)?;
    let id = id.to_string();
    once(&st, &h, "identity", body_hash(&body), |c| {
        let (token, exp) = issue_subject(c, &id)?;
        let out = api::Person {
            subject_token: token,
            id_masked: masked(&id),
            name: p.name.clone(),
            sex: p.sex.into(),
            birth_date: p.birth_date.clone(),
            expires_at: exp,
        };
        Ok((StatusCode::OK, to_json(&out)?))
    })
}

/// `/v1/identity/resolve` for an `EL1:` identity presentation (sent by a kiosk whose offline
/// checking is off): verified with the demo issuer keys, the person found through the subject
/// token it carries (`sd.subject_token`), which is also the token answered.
pub(super) fn resolve_presentation(
    st: &DemoState,
    c: &Connection,
    code: &str,
) -> Res<(StatusCode, serde_json::Value)> {
    let verified = st
        .verifier
        .lock()
        .map_err(|_| DemoError::internal("verifier lock poisoned"))?
        .verify(code, Utc::now());
    let p = match verified {
        Ok(Verified::Presentation(p)) => p,
        Ok(_) => return Err(not_identity()),
        Err(e) => {
            return Err(DemoError::unprocessable(
                "invalid_presentation",
                e.message_zh(),
                e.message_en(),
            ))
        }
    };
    if !p.is_identity() {
        return Err(not_identity());
    }
    let Some(token) = p.subject_token() else {
        return Err(DemoError::unprocessable(
            "unknown_code",
            "该电子身份证未包含身份凭据，请在手机上刷新后重新出示，或使用身份证。",
            "This e-ID carries no subject token; refresh it on the phone and show it again, \
             or use the ID card.",
        ));
    };
    let (id, exp) = token_subject(c, token)?;
    let person = check_id(&id)?;
    let out = api::Person {
        subject_token: token.to_string(),
        id_masked: masked(&id),
        name: person.name.clone(),
        sex: person.sex.into(),
        birth_date: person.birth_date.clone(),
        expires_at: exp,
    };
    Ok((StatusCode::OK, to_json(&out)?))
}

pub(super) fn not_identity() -> DemoError {
    DemoError::unprocessable(
        "unknown_code",
        "这是电子证照码，不是身份码；请出示电子身份证或粤省事身份码。",
        "This is an e-licence code, not an identity code; show your e-ID or identity code.",
    )
}
