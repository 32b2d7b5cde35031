//! The demo platform over loopback, driven by the kiosk's client and by raw HTTP: every endpoint,
//! idempotency (a retried submission returns the first result and creates nothing new), faults
//! (down, error rate, dropped answers, latency), bad input, and the client's typed errors for
//! malformed and oversized answers; `zizhu platform` on the command line.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use zizhu::catalog::{Auth, Catalog, Output};
use zizhu::platform::api::{self, Faults, Subject, SubjectKind};
use zizhu::platform::client::{new_key, Client, ClientConfig, Fetched};
use zizhu::platform::demo::{self, DemoHandle, DemoOptions};
use zizhu::platform::{ErrorKind, PlatformError};

const ID: &str = "11010519491231002X";

fn start() -> DemoHandle {
    demo::spawn("127.0.0.1:0".parse().expect("addr"), None).expect("demo platform")
}

fn client(d: &DemoHandle) -> Client {
    let mut cfg = ClientConfig::new(d.url(), "kiosk-token", "kiosk-test");
    cfg.backoff = Duration::from_millis(10);
    cfg.timeout = Duration::from_secs(10);
    Client::new(cfg).expect("client")
}

/// One raw HTTP/1.1 exchange (Connection: close); returns (status, body).
fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("write");
    s.write_all(body).expect("write body");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|x| x.1.to_string())
        .unwrap_or_default();
    (status, body)
}

fn get_page(d: &DemoHandle, url: &str) -> (u16, String) {
    let path = url.strip_prefix(&d.url()).expect("link on this platform");
    raw(d.addr(), "GET", path, &[], b"")
}

fn subject(c: &Client, kind: SubjectKind, proxy: bool) -> Subject {
    let t = c
        .subject(&api::SubjectRequest {
            id_number: ID.into(),
            kind,
        })
        .expect("subject token");
    assert_eq!(t.id_masked, "110105********002X");
    Subject::token(t.subject_token, kind, proxy)
}

fn request(s: &zizhu::catalog::Service, subject: Option<Subject>) -> api::ServiceRequest {
    api::ServiceRequest {
        subject,
        fields: s
            .fields
            .iter()
            .map(|f| (f.key.clone(), f.example.clone()))
            .collect(),
        elicense: vec![],
        face_check_id: None,
        commitment_accepted: true,
        lang: Default::default(),
        identity_method: None,
        staff_id: None,
    }
}

fn api_code(e: &PlatformError) -> &str {
    e.code().unwrap_or("<no code>")
}

fn first(output: Output, auth: Auth) -> &'static zizhu::catalog::Service {
    Catalog::builtin()
        .services()
        .iter()
        .find(|s| s.output == output && s.auth == auth)
        .expect("a service of that kind")
}

#[test]
fn catalog_with_etag() {
    let d = start();
    let c = client(&d);
    let Fetched::Fresh { etag, body } = c.catalog(None).expect("catalog") else {
        panic!("expected the catalog");
    };
    Catalog::parse(&body).expect("a valid catalog");
    let etag = etag.expect("an ETag");
    assert_eq!(
        c.catalog(Some(&etag)).expect("conditional"),
        Fetched::NotModified
    );
    assert!(matches!(
        c.catalog(Some("\"other\"")),
        Ok(Fetched::Fresh { .. })
    ));
}

#[test]
fn trust_list_absent_then_served() {
    let d = start();
    let e = client(&d)
        .trust_list(None)
        .expect_err("no trust list configured");
    assert_eq!(api_code(&e), "trust_list_unavailable");
    let d = demo::spawn_with(
        "127.0.0.1:0".parse().expect("addr"),
        DemoOptions {
            trust_list: Some(b"\xd2\x84signed".to_vec()),
            ..DemoOptions::default()
        },
    )
    .expect("demo");
    let c = client(&d);
    let Fetched::Fresh { etag, body } = c.trust_list(None).expect("trust list") else {
        panic!("expected bytes");
    };
    assert_eq!(body, b"\xd2\x84signed");
    assert_eq!(
        c.trust_list(etag.as_deref()).expect("conditional"),
        Fetched::NotModified
    );
}

#[test]
fn every_service_works_with_sample_values_and_results_match_the_output_kind() {
    let d = start();
    let c = client(&d);
    let code = subject(&c, SubjectKind::Code, false);
    for s in Catalog::builtin().services() {
        let sub = (s.auth != Auth::None).then(|| {
            let mut x = code.clone();
            x.proxy = s.proxy;
            x
        });
        let r = c.submit(&s.id, &new_key().expect("key"), &request(s, sub));
        if s.is_one_thing() {
            // A 一件事 is filed to each of its members (also in this loop), never to itself.
            assert_eq!(
                r.expect_err("no desk of its own").code(),
                Some("file_to_members")
            );
            continue;
        }
        let r = r.unwrap_or_else(|e| panic!("{}: {e}", s.id));
        let kind_ok = matches!(
            (s.output, &r.result),
            (Output::Screen, api::ServiceResult::Screen(_))
                | (Output::Print, api::ServiceResult::Print(_))
                | (Output::Submit, api::ServiceResult::Submit(_))
                | (Output::Pay, api::ServiceResult::Pay(_))
                | (Output::Appointment, api::ServiceResult::Appointment(_))
        );
        assert!(kind_ok, "{}: {:?} for {:?}", s.id, r.result, s.output);
        assert!(
            r.handoff_url.contains(&format!("/r/{}/v_", r.request_id)),
            "{}",
            r.handoff_url
        );
    }
    // Deterministic: the same person and service give the same records.
    let s = first(Output::Screen, Auth::IdCard);
    let a = c
        .submit(
            &s.id,
            &new_key().expect("k"),
            &request(s, Some(code.clone())),
        )
        .expect("a");
    let b = c
        .submit(&s.id, &new_key().expect("k"), &request(s, Some(code)))
        .expect("b");
    assert_ne!(a.request_id, b.request_id);
    assert_eq!(a.result, b.result);
}

#[test]
fn retried_submission_returns_the_first_result_and_creates_nothing_new() {
    let d = start();
    let c = client(&d);
    let s = first(Output::Submit, Auth::IdCardFace);
    let key = new_key().expect("key");
    let req = request(s, Some(subject(&c, SubjectKind::Code, false)));
    let a = c.submit(&s.id, &key, &req).expect("first");
    let before = d.state().count("requests");
    // The same call again, even with a fresh subject token for the same person.
    let mut again = req.clone();
    again.subject = Some(subject(&c, SubjectKind::Code, false));
    let b = c.submit(&s.id, &key, &again).expect("retry");
    assert_eq!(a, b);
    assert_eq!(d.state().count("requests"), before);
    // The same key with a different body is refused.
    let mut other = req.clone();
    other.lang = zizhu::catalog::Lang::En;
    let e = c.submit(&s.id, &key, &other).expect_err("mismatch");
    assert_eq!(api_code(&e), "idempotency_mismatch");
    assert_eq!(d.state().count("requests"), before);
}

#[test]
fn subjects_identity_codes_and_bad_id_numbers() {
    let d = start();
    let c = client(&d);
    let p = c
        .resolve_identity(&format!("YSS:{ID}"))
        .expect("identity code");
    assert_eq!(p.id_masked, "110105********002X");
    assert_eq!(p.birth_date, "1949-12-31");
    assert_eq!(p.sex, "F");
    let e = c.resolve_identity("not a code").expect_err("unknown code");
    assert_eq!(api_code(&e), "unknown_code");
    let e = c
        .subject(&api::SubjectRequest {
            id_number: "110105194912310021".into(),
            kind: SubjectKind::Typed,
        })
        .expect_err("bad check digit");
    assert_eq!(api_code(&e), "invalid_id_number");
    assert_eq!(e.kind(), ErrorKind::Rejected);
    assert!(!e.retryable());
    // An invalid number inside a service request.
    let s = first(Output::Screen, Auth::IdCard);
    let req = request(
        s,
        Some(Subject::id_number("12345", SubjectKind::Typed, true)),
    );
    let e = c
        .submit(&s.id, &new_key().expect("k"), &req)
        .expect_err("422");
    assert_eq!(api_code(&e), "invalid_id_number");
    let req = request(
        s,
        Some(Subject::token("st_nope", SubjectKind::IdCard, false)),
    );
    let e = c
        .submit(&s.id, &new_key().expect("k"), &req)
        .expect_err("422");
    assert_eq!(api_code(&e), "unknown_subject_token");
    let e = c
        .submit(&s.id, &new_key().expect("k"), &request(s, None))
        .expect_err("no subject");
    assert_eq!(api_code(&e), "subject_required");
    let e = c
        .submit("no-such-service", &new_key().expect("k"), &request(s, None))
        .expect_err("404");
    assert_eq!(api_code(&e), "unknown_service");
}

#[test]
fn payment_is_polled_paid_by_its_link_and_completes_the_request() {
    let d = start();
    let c = client(&d);
    let s = first(Output::Pay, Auth::IdCard);
    let r = c
        .submit(
            &s.id,
            &new_key().expect("k"),
            &request(s, Some(subject(&c, SubjectKind::IdCard, false))),
        )
        .expect("pay request");
    assert_eq!(r.status, api::RequestStatus::PaymentPending);
    let api::ServiceResult::Pay(p) = &r.result else {
        panic!("pay result");
    };
    assert_eq!(
        c.payment(&p.order_id).expect("poll").status,
        api::PaymentState::Pending
    );
    let (status, page) = get_page(&d, &p.pay_url);
    assert_eq!(status, 200);
    assert!(page.contains("支付成功"), "{page}");
    assert_eq!(
        c.payment(&p.order_id).expect("poll").status,
        api::PaymentState::Paid
    );
    assert_eq!(
        c.request(&r.request_id).expect("request").status,
        api::RequestStatus::Completed
    );
    let e = c
        .cancel_payment(&p.order_id)
        .expect_err("paid orders stay paid");
    assert_eq!(api_code(&e), "already_paid");
    // Another order, cancelled.
    let r2 = c
        .submit(
            &s.id,
            &new_key().expect("k"),
            &request(s, Some(subject(&c, SubjectKind::IdCard, false))),
        )
        .expect("pay request");
    let api::ServiceResult::Pay(p2) = &r2.result else {
        panic!("pay result");
    };
    assert_eq!(
        c.cancel_payment(&p2.order_id).expect("cancel").status,
        api::PaymentState::Cancelled
    );
    let e = c.payment("od_nope").expect_err("unknown");
    assert_eq!(api_code(&e), "unknown_order");
}

#[test]
fn face_check_is_required_for_card_holders_and_confirmed_by_its_link() {
    let d = start();
    let c = client(&d);
    let s = first(Output::Print, Auth::IdCardFace);
    let card = subject(&c, SubjectKind::IdCard, false);
    let mut req = request(s, Some(card.clone()));
    let e = c
        .submit(&s.id, &new_key().expect("k"), &req)
        .expect_err("needs a face check");
    assert_eq!(api_code(&e), "face_check_required");
    let fc = c
        .start_face_check(&api::FaceCheckRequest {
            service_id: s.id.clone(),
            subject: card,
        })
        .expect("start");
    assert_eq!(
        c.face_check(&fc.check_id).expect("poll").status,
        api::FaceCheckState::Pending
    );
    req.face_check_id = Some(fc.check_id.clone());
    let e = c
        .submit(&s.id, &new_key().expect("k"), &req)
        .expect_err("still pending");
    assert_eq!(api_code(&e), "face_check_required");
    let (status, _) = get_page(&d, &fc.url);
    assert_eq!(status, 200);
    assert_eq!(
        c.face_check(&fc.check_id).expect("poll").status,
        api::FaceCheckState::Confirmed
    );
    let r = c
        .submit(&s.id, &new_key().expect("k"), &req)
        .expect("with the face check");
    let api::ServiceResult::Print(p) = r.result else {
        panic!("print result");
    };
    assert!(!p.document.lines.is_empty());
    // A refused check.
    let fc = c
        .start_face_check(&api::FaceCheckRequest {
            service_id: s.id.clone(),
            subject: subject(&c, SubjectKind::IdCard, false),
        })
        .expect("start");
    get_page(&d, &format!("{}?refuse=1", fc.url));
    assert_eq!(
        c.face_check(&fc.check_id).expect("poll").status,
        api::FaceCheckState::Refused
    );
}

#[test]
fn appointment_slots_are_listed_and_booked() {
    let d = start();
    let c = client(&d);
    let s = first(Output::Appointment, Auth::IdCardFace);
    let slots = c.slots(&s.id, "2030-01-07").expect("slots");
    assert!(!slots.is_empty());
    assert!(c.slots(&s.id, "2030-01-05").expect("saturday").is_empty());
    let e = c.slots(&s.id, "tomorrow").expect_err("bad date");
    assert_eq!(api_code(&e), "bad_date");
    let free = slots.iter().find(|x| x.available).expect("a free slot");
    let mut req = request(s, Some(subject(&c, SubjectKind::Code, false)));
    req.fields.insert("slot_id".into(), free.slot_id.clone());
    req.fields.insert("office".into(), free.office.clone());
    let r = c.submit(&s.id, &new_key().expect("k"), &req).expect("book");
    let api::ServiceResult::Appointment(a) = r.result else {
        panic!("appointment");
    };
    assert_eq!(&a.slot, free);
    if let Some(taken) = slots.iter().find(|x| !x.available) {
        req.fields.insert("slot_id".into(), taken.slot_id.clone());
        let e = c
            .submit(&s.id, &new_key().expect("k"), &req)
            .expect_err("taken");
        assert_eq!(api_code(&e), "slot_taken");
        assert_eq!(e.kind(), ErrorKind::Conflict);
    }
}

#[test]
fn elicense_tickets_are_single_use() {
    let d = start();
    let c = client(&d);
    let ticket = hex_encode(format!("household-register:{ID}").as_bytes());
    let key = new_key().expect("k");
    let l = c.consume_ticket(&ticket, &key).expect("first use");
    assert_eq!(l.licence_type, "household-register");
    assert_eq!(l.holder_masked, "110105********002X");
    assert_eq!(
        c.consume_ticket(&ticket, &key)
            .expect("same key: same answer"),
        l
    );
    let e = c
        .consume_ticket(&ticket, &new_key().expect("k"))
        .expect_err("reuse");
    assert_eq!(api_code(&e), "ticket_used");
    assert_eq!(e.kind(), ErrorKind::Conflict);
    let e = c
        .consume_ticket("00ff", &new_key().expect("k"))
        .expect_err("unknown");
    assert_eq!(api_code(&e), "unknown_ticket");
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn evaluations_are_idempotent_and_checked() {
    let d = start();
    let c = client(&d);
    let ev = api::Evaluation {
        request_id: "rq_000001".into(),
        service_id: "ss-insured-cert-print".into(),
        level: 5,
        reasons: vec![],
        staff_id: None,
        staff_level: None,
    };
    let key = new_key().expect("k");
    let a = c.evaluate(&key, &ev).expect("evaluate");
    assert_eq!(c.evaluate(&key, &ev).expect("again"), a);
    assert_eq!(d.state().count("evaluations"), 1);
    let bad = api::Evaluation { level: 6, ..ev };
    let e = c
        .evaluate(&new_key().expect("k"), &bad)
        .expect_err("level 6");
    assert_eq!(api_code(&e), "bad_level");
}

#[test]
fn result_page_shows_the_reference() {
    let d = start();
    let c = client(&d);
    let s = first(Output::Screen, Auth::IdCard);
    let r = c
        .submit(
            &s.id,
            &new_key().expect("k"),
            &request(s, Some(subject(&c, SubjectKind::IdCard, false))),
        )
        .expect("request");
    let (status, page) = get_page(&d, &r.handoff_url);
    assert_eq!(status, 200);
    assert!(page.contains(&r.reference), "{page}");
    assert!(
        !page.contains(ID),
        "the page must not show the full ID number"
    );
    assert_eq!(raw(d.addr(), "GET", "/r/rq_nope", &[], b"").0, 404);
    // The page needs its own unguessable view token: the sequential id alone, another
    // request's token, or a guessed one find nothing.
    let path = r.handoff_url.split_once("/r/").map(|(_, p)| p).unwrap();
    assert_eq!(
        raw(d.addr(), "GET", &format!("/r/{}", r.request_id), &[], b"").0,
        404
    );
    assert_eq!(
        raw(
            d.addr(),
            "GET",
            &format!("/r/{}/v_00", r.request_id),
            &[],
            b""
        )
        .0,
        404
    );
    let other = c
        .submit(
            &s.id,
            &new_key().expect("k"),
            &request(s, Some(subject(&c, SubjectKind::IdCard, false))),
        )
        .expect("request");
    let (_, view) = path.split_once('/').unwrap();
    assert_eq!(
        raw(
            d.addr(),
            "GET",
            &format!("/r/{}/{view}", other.request_id),
            &[],
            b""
        )
        .0,
        404
    );
}

#[test]
fn bad_requests_get_the_error_model() {
    let d = start();
    let a = d.addr();
    let auth = ("Authorization", "Bearer t");
    let json = ("Content-Type", "application/json");
    // No token.
    let (st, body) = raw(a, "GET", "/v1/catalog", &[], b"");
    assert_eq!(st, 401);
    let e: api::ErrorBody = serde_json::from_str(&body).expect("error body");
    assert_eq!(e.error.code, "unauthorized");
    assert!(!e.error.message_zh.is_empty() && !e.error.message_en.is_empty());
    // No idempotency key on a state-changing call.
    let (st, body) = raw(a, "POST", "/v1/evaluations", &[auth, json], b"{}");
    assert_eq!(st, 400, "{body}");
    assert!(body.contains("idempotency_key_required"), "{body}");
    let (st, body) = raw(
        a,
        "POST",
        "/v1/evaluations",
        &[auth, json, ("Idempotency-Key", "bad key!")],
        b"{}",
    );
    assert_eq!(st, 400);
    assert!(body.contains("bad_idempotency_key"), "{body}");
    // Malformed and oversized bodies.
    let (st, body) = raw(
        a,
        "POST",
        "/v1/subjects",
        &[auth, json, ("Idempotency-Key", "k1")],
        b"{not json",
    );
    assert_eq!(st, 400);
    assert!(body.contains("bad_request"), "{body}");
    let big = vec![b'a'; 200 * 1024];
    let (st, body) = raw(
        a,
        "POST",
        "/v1/subjects",
        &[auth, json, ("Idempotency-Key", "k2")],
        &big,
    );
    assert_eq!(st, 413, "{body}");
    assert!(body.contains("body_too_large"), "{body}");
    let (st, body) = raw(a, "GET", "/v1/nothing-here", &[auth], b"");
    assert_eq!(st, 404);
    assert!(body.contains("not_found"));
    // A configured token must match.
    let d2 = demo::spawn_with(
        "127.0.0.1:0".parse().expect("addr"),
        DemoOptions {
            token: Some("secret".into()),
            ..DemoOptions::default()
        },
    )
    .expect("demo");
    let c = client(&d2);
    let e = c.ping().expect_err("wrong token");
    assert_eq!(e.kind(), ErrorKind::Unauthorized);
    let ok = Client::new(ClientConfig::new(d2.url(), "secret", "k")).expect("client");
    ok.ping().expect("right token");
}

#[test]
fn faults_down_error_rate_latency_and_dropped_answers() {
    let d = start();
    let c = client(&d);
    let s = first(Output::Submit, Auth::IdCardFace);
    let req = request(s, Some(subject(&c, SubjectKind::Code, false)));

    d.state().set_faults(Faults {
        down: true,
        ..Faults::default()
    });
    let e = c.ping().expect_err("down");
    assert_eq!(api_code(&e), "platform_down");
    assert!(e.retryable());
    assert_eq!(e.kind(), ErrorKind::Unavailable);

    d.state().set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let e = c.payment("od_1").expect_err("every call fails");
    assert_eq!(api_code(&e), "injected_fault");

    // A dropped answer: the call is carried out, the client sees a broken connection; the
    // retry with the same key gets the first answer and nothing new is created.
    d.state().set_faults(Faults {
        drop: true,
        ..Faults::default()
    });
    let key = new_key().expect("k");
    let before = d.state().count("requests");
    let e = c.submit(&s.id, &key, &req).expect_err("answer dropped");
    assert!(matches!(e, PlatformError::Unreachable(_)), "{e:?}");
    assert_eq!(d.state().count("requests"), before + 1);
    d.state().set_faults(Faults::default());
    let r = c.submit(&s.id, &key, &req).expect("retry");
    assert_eq!(d.state().count("requests"), before + 1);
    assert_eq!(c.request(&r.request_id).expect("stored"), r);

    // Latency beyond the client's timeout.
    d.state().set_faults(Faults {
        latency_ms: 2000,
        ..Faults::default()
    });
    let mut cfg = ClientConfig::new(d.url(), "t", "k");
    cfg.timeout = Duration::from_millis(200);
    cfg.attempts = 2;
    cfg.backoff = Duration::from_millis(10);
    let slow = Client::new(cfg).expect("client");
    let e = slow.payment("od_1").expect_err("timeout");
    assert!(matches!(e, PlatformError::Timeout), "{e:?}");

    // The runtime switch over HTTP.
    d.state().set_faults(Faults::default());
    let (st, body) = raw(
        d.addr(),
        "POST",
        "/demo/faults",
        &[("Content-Type", "application/json")],
        br#"{"down":true}"#,
    );
    assert_eq!(st, 200, "{body}");
    assert!(c.ping().is_err());
    let (st, _) = raw(
        d.addr(),
        "POST",
        "/demo/faults",
        &[],
        br#"{"error_rate":7}"#,
    );
    assert_eq!(st, 422);
    raw(d.addr(), "POST", "/demo/faults", &[], b"{}");
    c.ping().expect("up again");
}

/// A one-shot server that answers every connection with `answer`.
fn fake_server(answer: Vec<u8>) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    std::thread::spawn(move || {
        for s in l.incoming().take(8) {
            let Ok(mut s) = s else { continue };
            let mut r = BufReader::new(s.try_clone().expect("clone"));
            let mut line = String::new();
            while r.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                if line == "\r\n" {
                    break;
                }
                line.clear();
            }
            let _ = s.write_all(&answer);
        }
    });
    addr
}

#[test]
fn client_types_malformed_and_oversized_answers() {
    let a = fake_server(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello".to_vec(),
    );
    let c = Client::new(ClientConfig::new(format!("http://{a}"), "t", "k")).expect("client");
    let e = c.payment("od_1").expect_err("not JSON");
    assert!(matches!(e, PlatformError::Malformed(_)), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::Internal);

    let mut big = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
    big.extend(std::iter::repeat_n(b'x', 64 * 1024));
    let a = fake_server(big);
    let mut cfg = ClientConfig::new(format!("http://{a}"), "t", "k");
    cfg.max_response = 4096;
    let c = Client::new(cfg).expect("client");
    let e = c.payment("od_1").expect_err("too large");
    assert!(
        matches!(e, PlatformError::TooLarge { limit: 4096 }),
        "{e:?}"
    );

    let a = fake_server(
        b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbad".to_vec(),
    );
    let mut cfg = ClientConfig::new(format!("http://{a}"), "t", "k");
    cfg.backoff = Duration::from_millis(5);
    let c = Client::new(cfg).expect("client");
    let e = c.payment("od_1").expect_err("502");
    assert!(matches!(e, PlatformError::Api { status: 502, .. }), "{e:?}");
    assert!(e.retryable());

    let e = Client::new(ClientConfig::new("ftp://x", "t", "k")).expect_err("bad scheme");
    assert!(matches!(e, PlatformError::Setup(_)));
    let closed = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let mut cfg = ClientConfig::new(format!("http://{closed}"), "t", "k");
    cfg.attempts = 1;
    let e = Client::new(cfg)
        .expect("client")
        .ping()
        .expect_err("nothing listens");
    assert_eq!(e.kind(), ErrorKind::Unavailable);
}

#[test]
fn platform_command_serves_and_refuses_bad_usage() {
    let o = crate::util::run(&["platform", "--listen", "nonsense"]);
    assert_eq!(crate::util::code(&o), 2, "{}", crate::util::stderr(&o));
    let o = crate::util::run(&["platform", "--listen", "127.0.0.1:0", "--fault", "explode"]);
    assert_eq!(crate::util::code(&o), 2);
    assert!(
        crate::util::stderr(&o).contains("--fault"),
        "{}",
        crate::util::stderr(&o)
    );

    let home = tempfile::tempdir().expect("tmp");
    let db = home.path().join("platform.db");
    let mut child = crate::util::zizhu(home.path())
        .args(["platform", "--listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut err = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    err.read_line(&mut line).expect("first line");
    let url = line
        .trim()
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_string();
    let c = Client::new(ClientConfig::new(url.clone(), "t", "k")).expect("client");
    let ok = c.ping();
    let _ = child.kill();
    let _ = child.wait();
    ok.unwrap_or_else(|e| panic!("{line}: {e}"));
    assert!(db.exists());
}

// ---------------------------------------------------------------------------------------------
// E-licences: the licences endpoint (免证办), demo codes, EL1 identity presentations.

/// Another synthetic person (a man born 1985 in Guangzhou).
const OTHER_ID: &str = "440106198501010015";

/// A service that lists e-licences, answers on screen or paper, and takes an identity code.
fn licence_service() -> &'static zizhu::catalog::Service {
    Catalog::builtin()
        .services()
        .iter()
        .find(|s| {
            !s.elicense.is_empty()
                && s.auth != Auth::None
                && matches!(s.output, Output::Screen | Output::Print)
        })
        .expect("a service with e-licences")
}

fn held(c: &Client, subject: Subject, types: &[&str]) -> api::LicenceList {
    c.licences(&api::LicenceRequest {
        subject,
        service_id: licence_service().id.clone(),
        types: types.iter().map(|t| t.to_string()).collect(),
    })
    .expect("licences")
}

fn submit_with(
    c: &Client,
    subject: Subject,
    elicense: Vec<String>,
) -> Result<api::ServiceResponse, PlatformError> {
    let s = licence_service();
    let mut req = request(s, Some(subject));
    req.elicense = elicense;
    c.submit(&s.id, &new_key().expect("key"), &req)
}

/// The kiosk's offline verifier with the demo roots and the demo trust list.
fn kiosk_verifier() -> zizhu::elicense::Verifier {
    use zizhu::elicense::{self, store::MemoryStore, Verifier};
    let now = chrono::Utc::now();
    let mut v = Verifier::from_store(
        elicense::demo::roots().expect("roots"),
        Box::new(MemoryStore::default()),
    )
    .expect("verifier");
    let list = elicense::demo::trust_list(1, now.timestamp() - 60, 7 * 86_400).expect("list");
    v.install_trust_list(&list, now).expect("install");
    v
}

fn demo_code(c: &Client, id: &str, licence: &str, kind: api::DemoCodeKind) -> api::DemoCode {
    c.demo_code(&api::DemoCodeRequest {
        id_number: id.into(),
        licence: licence.into(),
        kind,
        alg: None,
    })
    .expect("demo code")
}

#[test]
fn licences_are_listed_for_a_valid_subject_and_absent_types_are_absent() {
    let d = start();
    let c = client(&d);
    let subject = subject(&c, SubjectKind::Code, false);
    // Born 1949, a woman: no birth certificate, no veteran card; "no-such-type" is no type.
    let list = held(
        &c,
        subject.clone(),
        &[
            "household-register",
            "birth-cert",
            "identity",
            "veteran-card",
            "no-such-type",
            "social-security-card",
        ],
    );
    let types: Vec<&str> = list
        .licences
        .iter()
        .map(|l| l.licence_type.as_str())
        .collect();
    assert_eq!(
        types,
        ["household-register", "identity", "social-security-card"]
    );
    let catalog = Catalog::builtin();
    for l in &list.licences {
        let cat = catalog.licence(&l.licence_type).expect("a catalog licence");
        assert_eq!(
            (l.name_zh.as_str(), l.name_en.as_str()),
            (cat.zh.as_str(), cat.en.as_str())
        );
        assert!(l.reference.starts_with("lic_"), "{}", l.reference);
        assert!(l.identifier_masked.contains('*'), "{}", l.identifier_masked);
    }
    assert_eq!(
        list.licences[1].valid_to.as_deref(),
        Some("长期"),
        "an ID card at 76"
    );
    // The same person, asked again: the same licences (new references).
    let again = held(&c, subject.clone(), &["household-register", "identity"]);
    assert_eq!(again.licences.len(), 2);
    assert_ne!(again.licences[0].reference, list.licences[0].reference);
    // Every type held, when none is named.
    let all = held(&c, subject, &[]);
    assert!(all.licences.len() >= 3);
    // An unknown subject token is refused.
    let e = c
        .licences(&api::LicenceRequest {
            subject: Subject::token("st_nobody", SubjectKind::Code, false),
            service_id: licence_service().id.clone(),
            types: vec!["identity".into()],
        })
        .expect_err("unknown token");
    assert_eq!(api_code(&e), "unknown_subject_token");
    let e = c
        .licences(&api::LicenceRequest {
            subject: Subject::id_number(ID, SubjectKind::Typed, true),
            service_id: "no-such-service".into(),
            types: vec![],
        })
        .expect_err("unknown service");
    assert_eq!(api_code(&e), "unknown_service");
}

#[test]
fn service_requests_accept_known_licence_references_and_refuse_unknown_ones() {
    let d = start();
    let c = client(&d);
    let subject = subject(&c, SubjectKind::Code, false);
    let list = held(&c, subject.clone(), &["household-register", "identity"]);
    let refs: Vec<String> = list.licences.iter().map(|l| l.reference.clone()).collect();
    submit_with(&c, subject.clone(), refs.clone()).expect("known references");
    submit_with(&c, subject.clone(), vec![]).expect("no licences at all");
    for bad in [
        vec!["household-register".to_string()],
        vec!["lic_00000000000000000000000000000000".to_string()],
        vec![refs[0].clone(), "made-up".into()],
    ] {
        let e = submit_with(&c, subject.clone(), bad).expect_err("unknown reference");
        assert_eq!(api_code(&e), "unknown_licence_reference");
        assert_eq!(e.kind(), ErrorKind::Rejected);
        let PlatformError::Api { status, error } = &e else {
            panic!("an API error");
        };
        assert_eq!(*status, 422);
        assert!(!error.message_zh.is_empty() && error.message_en.contains("go back"));
    }
    // Another citizen's reference is not this citizen's.
    let other = c
        .subject(&api::SubjectRequest {
            id_number: OTHER_ID.into(),
            kind: SubjectKind::Code,
        })
        .expect("other subject");
    let other = Subject::token(other.subject_token, SubjectKind::Code, false);
    let e = submit_with(&c, other, refs).expect_err("someone else's licence");
    assert_eq!(api_code(&e), "unknown_licence_reference");
}

#[test]
fn demo_presentation_verifies_offline_and_its_subject_token_is_accepted() {
    use zizhu::elicense::Verified;
    let d = start();
    let c = client(&d);
    let code = demo_code(&c, ID, "identity", api::DemoCodeKind::Presentation);
    assert!(code.payload.starts_with("EL1:"));
    let now = chrono::Utc::now().timestamp();
    assert!(code.expires_at > now && code.expires_at <= now + 300);
    let v = kiosk_verifier();
    let Ok(Verified::Presentation(p)) = v.verify(&code.payload, chrono::Utc::now()) else {
        panic!("the demo presentation verifies with the demo trust list");
    };
    assert!(p.is_identity());
    assert_eq!(p.licence.holder_id.as_deref(), Some("110105********002X"));
    let name = p.licence.holder_name.clone().expect("masked name");
    assert_eq!(
        name.chars().count(),
        zizhu::platform::demo::data::person(ID)
            .expect("person")
            .name
            .chars()
            .count()
    );
    assert!(name.contains('*'));
    let token = p.subject_token().expect("a subject token").to_string();
    // The kiosk acts for the citizen with it, offline-verified.
    submit_with(
        &c,
        Subject::token(token.clone(), SubjectKind::Code, false),
        vec![],
    )
    .expect("the platform accepts the token");
    let list = held(
        &c,
        Subject::token(token, SubjectKind::Code, false),
        &["identity"],
    );
    assert_eq!(list.licences.len(), 1);
    // Other licences: a presentation without a token; a licence not held is refused.
    let hr = demo_code(
        &c,
        ID,
        "household-register",
        api::DemoCodeKind::Presentation,
    );
    let Ok(Verified::Presentation(p)) = v.verify(&hr.payload, chrono::Utc::now()) else {
        panic!("household register presentation");
    };
    assert!(!p.is_identity());
    assert_eq!(p.subject_token(), None);
    let e = c
        .demo_code(&api::DemoCodeRequest {
            id_number: ID.into(),
            licence: "veteran-card".into(),
            kind: api::DemoCodeKind::Presentation,
            alg: Some("es256".into()),
        })
        .expect_err("not held");
    assert_eq!(api_code(&e), "licence_not_held");
    // A ticket: verified offline, consumed online; the licence is then listed for a reference
    // (the ticket reference itself is not an attachable reference).
    let t = demo_code(&c, ID, "household-register", api::DemoCodeKind::Ticket);
    let Ok(Verified::Ticket(t)) = v.verify(&t.payload, chrono::Utc::now()) else {
        panic!("a ticket");
    };
    let l = c
        .consume_ticket(&t.reference, &new_key().expect("k"))
        .expect("consume");
    assert_eq!(l.licence_type, "household-register");
    let holder = Subject::token(l.subject_token, SubjectKind::Code, false);
    let e = submit_with(&c, holder.clone(), vec![t.reference]).expect_err("ticket reference");
    assert_eq!(api_code(&e), "unknown_licence_reference");
    let list = held(&c, holder.clone(), &[&l.licence_type]);
    submit_with(&c, holder, vec![list.licences[0].reference.clone()]).expect("listed reference");
}

#[test]
fn el1_identity_presentations_resolve_online_once() {
    let d = start();
    let c = client(&d);
    let code = demo_code(&c, ID, "identity", api::DemoCodeKind::Presentation);
    let person = c.resolve_identity(&code.payload).expect("resolve");
    assert_eq!(person.id_masked, "110105********002X");
    assert_eq!(person.birth_date, "1949-12-31");
    assert!(person.subject_token.starts_with("st_"));
    submit_with(
        &c,
        Subject::token(person.subject_token, SubjectKind::Code, false),
        vec![],
    )
    .expect("the resolved token works");
    let e = c.resolve_identity(&code.payload).expect_err("second use");
    assert_eq!(api_code(&e), "invalid_presentation");
    let hr = demo_code(
        &c,
        ID,
        "household-register",
        api::DemoCodeKind::Presentation,
    );
    let e = c
        .resolve_identity(&hr.payload)
        .expect_err("not an identity code");
    assert_eq!(api_code(&e), "unknown_code");
    // A forged code (another signer) never resolves.
    let forged = zizhu::elicense::issue_ticket(
        &zizhu::elicense::Issuer::new(
            zizhu::elicense::SecretKey::from_seed(zizhu::elicense::Alg::Es256, "forger")
                .expect("key"),
            "GD-DEMO",
        ),
        b"x",
        chrono::Utc::now().timestamp(),
        60,
    )
    .expect("code")
    .replacen("ET1:", "EL1:", 1);
    let e = c.resolve_identity(&forged).expect_err("forged");
    assert_eq!(api_code(&e), "invalid_presentation");
}

#[test]
fn demo_code_page_shows_a_qr_code() {
    let d = start();
    let (status, body) = raw(
        d.addr(),
        "GET",
        &format!("/demo/elicense/{ID}?licence=identity"),
        &[],
        b"",
    );
    assert_eq!(status, 200);
    assert!(body.contains("<svg"), "an inline SVG QR code");
    assert!(body.contains("EL1:"));
    assert!(body.contains("http-equiv=\"refresh\""));
    assert!(!body.contains(ID), "no full ID number on the page");
    let (status, body) = raw(
        d.addr(),
        "GET",
        &format!("/demo/elicense/{ID}?licence=identity&kind=ticket"),
        &[],
        b"",
    );
    assert_eq!(status, 200);
    assert!(body.contains("ET1:"));
    let (status, body) = raw(
        d.addr(),
        "GET",
        "/demo/elicense/110105194912310021",
        &[],
        b"",
    );
    assert_eq!(status, 422);
    assert!(body.contains("身份证号码无效"));
}

#[test]
fn demo_code_command() {
    let d = start();
    let o = crate::util::run(&[
        "elicense",
        "demo-code",
        "--id-number",
        ID,
        "--platform",
        &d.url(),
        "--json",
    ]);
    assert_eq!(crate::util::code(&o), 0, "{}", crate::util::stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&crate::util::stdout(&o)).expect("json");
    let payload = v["payload"].as_str().expect("payload");
    assert!(payload.starts_with("EL1:"));
    assert!(v["expires_at"].as_i64().is_some());
    let o = crate::util::run(&[
        "elicense",
        "demo-code",
        "--id-number",
        ID,
        "--licence",
        "household-register",
        "--ticket",
        "--platform",
        &d.url(),
    ]);
    assert_eq!(crate::util::code(&o), 0, "{}", crate::util::stderr(&o));
    assert!(crate::util::stdout(&o).starts_with("ET1:"));
    // Bad ID number, unknown licence: usage (2). No platform: failure (1).
    let o = crate::util::run(&[
        "elicense",
        "demo-code",
        "--id-number",
        "110105194912310021",
        "--platform",
        &d.url(),
    ]);
    assert_eq!(crate::util::code(&o), 2);
    assert!(
        !crate::util::stderr(&o).contains("110105194912310021"),
        "ID masked"
    );
    let o = crate::util::run(&[
        "elicense",
        "demo-code",
        "--id-number",
        ID,
        "--licence",
        "hukou",
        "--platform",
        &d.url(),
    ]);
    assert_eq!(crate::util::code(&o), 2, "{}", crate::util::stderr(&o));
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let o = crate::util::run(&[
        "elicense",
        "demo-code",
        "--id-number",
        ID,
        "--platform",
        &format!("http://127.0.0.1:{port}"),
    ]);
    assert_eq!(crate::util::code(&o), 1, "{}", crate::util::stderr(&o));
}

/// `POST /v1/help` is raised once per kiosk and key, listed for staff (JSON and the page),
/// acknowledged once; `zizhu help list|ack` on the command line, with bad input refused (exit 2).
#[test]
fn help_requests_are_raised_once_listed_and_acknowledged() {
    let d = start();
    let kiosk = Client::new(ClientConfig::new(d.url(), "t", "MZ-0042")).unwrap();
    let req = api::HelpRequest {
        site: "梅江区邮政支局".into(),
        screen: "form".into(),
        service_id: Some("ps-idcard-lost".into()),
        visit_seconds: 30,
        last_error: Some("step".into()),
    };
    let body = serde_json::to_vec(&req).unwrap();
    let key = new_key().unwrap();
    let first = kiosk.help_as("MZ-0042", &key, body.clone()).unwrap();
    let again = kiosk.help_as("MZ-0042", &key, body.clone()).unwrap();
    assert_eq!(first, again);
    assert_eq!(d.state().count("help"), 1);
    assert_eq!(first.state, api::HelpState::Open);
    assert_eq!(first.request, req);
    // Another kiosk's key is its own request.
    kiosk.help_as("MZ-0043", &key, body).unwrap();
    assert_eq!(d.state().count("help"), 2);
    // A screen name that is not a short plain word is refused.
    let mut bad = req.clone();
    bad.screen = "x\ny".into();
    let e = kiosk
        .help_as(
            "MZ-0042",
            &new_key().unwrap(),
            serde_json::to_vec(&bad).unwrap(),
        )
        .unwrap_err();
    assert!(matches!(e, PlatformError::Api { status: 422, .. }), "{e}");

    let (status, page) = raw(d.addr(), "GET", "/demo/help", &[], b"");
    assert_eq!(status, 200);
    assert!(
        page.contains("MZ-0042") && page.contains(&first.help_id),
        "{page}"
    );

    let dir = tempfile::tempdir().unwrap();
    let out = crate::util::zizhu(dir.path())
        .args(["help", "list", "--json", "--platform", &d.url()])
        .output()
        .unwrap();
    assert_eq!(crate::util::code(&out), 0, "{}", crate::util::stderr(&out));
    let list: api::HelpList = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.requests.len(), 2);
    let out = crate::util::zizhu(dir.path())
        .args([
            "help",
            "ack",
            &first.help_id,
            "--staff",
            "0012",
            "--platform",
            &d.url(),
        ])
        .output()
        .unwrap();
    assert_eq!(crate::util::code(&out), 0, "{}", crate::util::stderr(&out));
    assert!(crate::util::stdout(&out).contains("acknowledged"));
    let entry = kiosk.help(&first.help_id).unwrap();
    assert_eq!(entry.state, api::HelpState::Acknowledged);
    assert_eq!(entry.staff_id.as_deref(), Some("0012"));
    let out = crate::util::zizhu(dir.path())
        .args(["help", "list", "--platform", &d.url()])
        .output()
        .unwrap();
    let table = crate::util::stdout(&out);
    assert!(!table.contains(&first.help_id), "{table}");
    assert!(table.contains("MZ-0043"), "{table}");

    for (args, want) in [
        (vec!["help", "ack", "hp_999999"], "No such help request"),
        (
            vec!["help", "ack", &first.help_id, "--staff", "张三"],
            "--staff",
        ),
    ] {
        let out = crate::util::zizhu(dir.path())
            .args(&args)
            .args(["--platform", &d.url()])
            .output()
            .unwrap();
        assert_eq!(crate::util::code(&out), 2, "{args:?}");
        assert!(
            crate::util::stderr(&out).contains(want),
            "{}",
            crate::util::stderr(&out)
        );
    }
}
