//! 一件事一次办 services end to end against the demo platform on loopback: one identification,
//! one merged form, one commitment, then a submission to each member in order. One member's
//! system is down during the visit: the others are filed, that one is saved in the journal's
//! outbox and shown plainly, and when its system is back the outbox delivers it exactly once;
//! the others are never sent twice. Then the same from the command line (`zizhu flow run`).
use std::time::Duration;

use zizhu::catalog::{Catalog, Lang, Service};
use zizhu::flow::play::{play, Script};
use zizhu::flow::{Identity, MemberOutcome, Source};
use zizhu::journal::{self, Journal};
use zizhu::platform::api::Faults;
use zizhu::platform::{demo, Client, ClientConfig};

use crate::util;

fn id_number() -> String {
    zizhu_drivers::idcard::card::with_check_char("44140219800101001")
}

fn one_things() -> Vec<&'static Service> {
    Catalog::builtin()
        .services()
        .iter()
        .filter(|s| s.is_one_thing())
        .collect()
}

#[test]
fn the_catalog_has_five_one_things_each_asking_shared_fields_once() {
    let c = Catalog::builtin();
    let all = one_things();
    assert!(all.len() >= 5, "{} one-things", all.len());
    for o in all {
        let sum: usize = o
            .members
            .iter()
            .map(|m| c.service(&m.id).expect("member").fields.len())
            .sum();
        // Every member field is asked, and each key once.
        let mut keys: Vec<&str> = o.fields.iter().map(|f| f.key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), o.fields.len(), "{}: a key asked twice", o.id);
        for m in &o.members {
            for k in &m.fields {
                assert!(o.field(k).is_some(), "{}: {} lacks {k}", o.id, m.id);
            }
        }
        assert!(o.fields.len() < sum, "{}: nothing merged", o.id);
        println!(
            "{}: {} fields asked, {} in its {} members",
            o.id,
            o.fields.len(),
            sum,
            o.members.len()
        );
        // One commitment covering every member's clauses, numbered once.
        assert!(o.commitment);
        for m in &o.members {
            let member = c.service(&m.id).expect("member");
            for clause in &member.commitment_zh {
                let text = clause.split_once('、').map_or(clause.as_str(), |(_, t)| t);
                assert!(
                    o.commitment_zh.iter().any(|x| x.ends_with(text)),
                    "{}: {}'s clause missing: {text}",
                    o.id,
                    m.id
                );
            }
        }
    }
}

#[test]
fn each_one_thing_with_one_member_down_files_the_others_and_delivers_it_later_once() {
    let d = demo::spawn("127.0.0.1:0".parse().expect("addr"), None).expect("demo");
    let mut cfg = ClientConfig::new(d.url(), "t", "ONE-1");
    cfg.attempts = 1;
    cfg.timeout = Duration::from_secs(5);
    let client = Client::new(cfg).expect("client");
    for (n, one) in one_things().into_iter().enumerate() {
        let dir = tempfile::tempdir().expect("tmp");
        let journal = Journal::open(dir.path()).expect("journal");
        let down = one.members[1].id.clone();
        d.state().set_faults(Faults {
            down_services: vec![down.clone()],
            ..Faults::default()
        });
        let before = d.state().count("requests");
        let mut who = Identity::typed(&id_number()).expect("id");
        who.source = Source::IdCard;
        let script = Script {
            identity: Some(who),
            fields: Default::default(),
            sample: true,
            open_link: &util::phone,
            wait: Duration::from_secs(20),
            rate: Some(5),
            elicense_consent: true,
        };
        let lang = if n % 2 == 0 { Lang::Zh } else { Lang::En };
        let (flow, t) = play(one, lang, script, &client, Some(&journal));
        assert!(t.completed(), "{}: {:?}", one.id, t.failed);
        let outcomes = flow.member_outcomes().to_vec();
        let reference = flow.local_reference();
        flow.end();
        assert_eq!(outcomes.len(), one.members.len(), "{}", one.id);
        for (m, o) in one.members.iter().zip(&outcomes) {
            if m.id == down {
                assert_eq!(o, &MemberOutcome::Queued, "{}: {}", one.id, m.id);
            } else {
                assert!(
                    matches!(o, MemberOutcome::Filed { reference } if !reference.is_empty()),
                    "{}: {} {o:?}",
                    one.id,
                    m.id
                );
            }
        }
        // The citizen sees each member with its state, the saved one plainly.
        assert!(t.queued, "{}", one.id);
        for m in &one.members {
            assert!(
                t.screen.iter().any(|l| l.starts_with(m.name(lang))),
                "{}: {} not on the result screen: {:#?}",
                one.id,
                m.id,
                t.screen
            );
        }
        assert!(
            t.screen.iter().any(|l| l.contains(&reference)),
            "{:#?}",
            t.screen
        );
        assert_eq!(
            d.state().count("requests") - before,
            one.members.len() as i64 - 1,
            "{}: every member but the one down is filed",
            one.id
        );
        assert_eq!(journal.counts().expect("counts").backlog(), 1, "{}", one.id);

        // Its system is back: the outbox delivers that one member, once; nothing else repeats.
        d.state().set_faults(Faults::default());
        let later = journal::now_ms() + journal::flow::ONLINE_GRACE_MS + 1;
        let dc = journal::drain::DrainConfig::default();
        let r = journal::drain::drain_once(&journal, &client, &dc, later).expect("drain");
        assert!(r.delivered >= 1, "{}: {r:?}", one.id);
        let r = journal::drain::drain_once(&journal, &client, &dc, later + 1).expect("drain");
        assert_eq!(r.delivered, 0, "{}", one.id);
        assert_eq!(
            d.state().count("requests") - before,
            one.members.len() as i64,
            "{}: each member exactly once",
            one.id
        );
        assert_eq!(journal.counts().expect("counts").backlog(), 0, "{}", one.id);
    }
}

#[test]
fn flow_run_does_a_one_thing_headless() {
    let d = demo::spawn("127.0.0.1:0".parse().expect("addr"), None).expect("demo");
    let dir = tempfile::tempdir().expect("tmp");
    let one = one_things()[0];
    let o = util::zizhu(dir.path())
        .args([
            "flow",
            "run",
            "--item",
            &one.id,
            "--platform",
            &d.url(),
            "--id-number",
            &id_number(),
            "--sample",
        ])
        .output()
        .expect("zizhu flow run");
    let out = util::stdout(&o);
    assert!(o.status.success(), "{out}\n{}", util::stderr(&o));
    for m in &one.members {
        assert!(out.contains(&m.zh), "{} missing:\n{out}", m.zh);
    }
    assert_eq!(
        d.state().count("requests"),
        one.members.len() as i64,
        "one request per member"
    );
    // Filing to the one-thing itself is refused by the platform: it has no desk of its own.
    let c = Client::new(ClientConfig::new(d.url(), "t", "ONE-2")).expect("client");
    let e = c
        .submit(
            &one.id,
            "k-direct",
            &zizhu::platform::api::ServiceRequest {
                subject: None,
                fields: Default::default(),
                elicense: Vec::new(),
                face_check_id: None,
                commitment_accepted: true,
                lang: Lang::Zh,
                identity_method: None,
                staff_id: None,
            },
        )
        .expect_err("refused");
    assert_eq!(e.code(), Some("file_to_members"));
}
