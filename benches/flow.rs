//! Flow-engine overhead per visit with the network excluded (issue 4 goal: ≤ 1 ms): identify,
//! form (validated), commitment, confirm, result, evaluation and end, against an in-process
//! backend that answers at once. What is measured is the engine's own work per visit.
use std::collections::BTreeMap;

use criterion::{criterion_group, criterion_main, Criterion};
use zizhu::catalog::{Catalog, Lang};
use zizhu::flow::{
    Backend, BackendError, CodeIdentity, Evaluation, Flow, HeldLicence, Identity, Item, PollStatus,
    Reply, ReplyStatus, Slot, Source, SubjectRef, Submission,
};

/// Answers every call immediately (the network is what this bench leaves out).
struct Instant;

impl Backend for Instant {
    fn kiosk_id(&self) -> &str {
        "BENCH-0001"
    }
    fn submit(&self, s: &Submission) -> Result<Reply, BackendError> {
        Ok(Reply {
            request_id: format!("rq-{}", &s.idempotency_key[..8]),
            reference: "MZ2026000001".into(),
            status: ReplyStatus::Completed,
            title_zh: "结果".into(),
            title_en: "Result".into(),
            items: vec![Item {
                label_zh: "状态".into(),
                label_en: "Status".into(),
                value: "正常".into(),
                speak: false,
            }],
            table: None,
            document: None,
            next_steps_zh: None,
            next_steps_en: None,
            pay: None,
            handoff_url: None,
        })
    }
    fn payment(&self, _: &str) -> Result<PollStatus, BackendError> {
        Ok(PollStatus::Done)
    }
    fn start_face_check(&self, _: &str, _: &str) -> Result<(String, String), BackendError> {
        Ok(("fc".into(), "http://x/fc".into()))
    }
    fn face_check(&self, _: &str) -> Result<PollStatus, BackendError> {
        Ok(PollStatus::Done)
    }
    fn slots(&self, _: &str, _: &str) -> Result<Vec<Slot>, BackendError> {
        Ok(Vec::new())
    }
    fn licences(
        &self,
        _: &str,
        _: SubjectRef<'_>,
        _: &[String],
    ) -> Result<Vec<HeldLicence>, BackendError> {
        Ok(Vec::new())
    }
    fn resolve_code(&self, _: &str) -> Result<CodeIdentity, BackendError> {
        Err(BackendError::Unreachable("not in this bench".into()))
    }
    fn consume_ticket(&self, _: &str) -> Result<CodeIdentity, BackendError> {
        Err(BackendError::Unreachable("not in this bench".into()))
    }
    fn evaluate(&self, _: &Evaluation) -> Result<(), BackendError> {
        Ok(())
    }
}

fn visit(c: &mut Criterion) {
    let catalog = Catalog::builtin();
    // A submit service with a form and a commitment: the longest path through the engine.
    let service = catalog
        .services()
        .iter()
        .find(|s| s.commitment && s.fields.len() >= 2)
        .expect("a submit service with fields");
    let id = zizhu_drivers::idcard::card::with_check_char("44140219800101001");
    let values: BTreeMap<&str, &str> = service
        .fields
        .iter()
        .map(|f| (f.key.as_str(), f.example.as_str()))
        .collect();
    c.bench_function("flow_visit_engine_only", |b| {
        b.iter(|| {
            let mut flow = Flow::new(service, Lang::Zh);
            let mut who = Identity::typed(&id).expect("valid");
            who.source = Source::Code;
            who.face_verified = true;
            flow.identify(who, &Instant).expect("identify");
            for (k, v) in &values {
                flow.set_field(k, v).expect("field");
            }
            flow.finish_form().expect("form");
            flow.commit(true).expect("commit");
            flow.confirm(&Instant, None).expect("confirm");
            flow.done_with_result().expect("result");
            flow.evaluate(Some(5), Vec::new(), &Instant, None)
                .expect("evaluate");
            flow.end();
        })
    });
}

criterion_group!(benches, visit);
criterion_main!(benches);
