//! Staff sign-in (帮办员) on the touchscreen: the real `KioskUi` with `FlowUi` attached on Slint's
//! testing backend, the demo platform on loopback (serving the demo trust list, with its staff
//! key), a journal in a temporary directory. Staff codes arrive as scans on the runtime's device
//! channel or typed into the sign-in panel; the ID card as a card read. 呼叫帮助 and its overlay
//! (`HelpUi`, from which staff also sign in), the status endpoint over real HTTP and the real voice
//! on the ALSA file plugin are attached as the runtime attaches them. What is on screen is read
//! by accessible labels; the platform's store and the journal's audit trail are checked after.
use std::rc::Rc;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::util::screen::{labels, press, settle, shows};
use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use slint::ComponentHandle;
use zizhu::elicense;
use zizhu::help::HelpDesk;
use zizhu::journal::Journal;
use zizhu::kiosk::{
    FlowContext, FlowUi, HelpContext, HelpUi, KioskUi, Options, ScreenId, ScreenSpec,
};
use zizhu::platform::demo::{self, DemoHandle, DemoOptions};
use zizhu::platform::{Client, ClientConfig};
use zizhu::runtime::DeviceEvent;
use zizhu::staff::{self, StaffClaims};
use zizhu::status::StatusState;
use zizhu::text::Text;
use zizhu::ui::{AppState, FlowAdapter, KioskWindow, Screen, StaffAdapter};
use zizhu_drivers::idcard::card::{samples, CardRead};

const SITE: &str = "测试站";

struct Rig {
    ui: KioskUi,
    flow: Rc<FlowUi>,
    _help: HelpUi,
    status: StatusState,
    journal: Arc<Journal>,
    tx: Sender<DeviceEvent>,
    platform: DemoHandle,
    _dir: tempfile::TempDir,
}

fn rig(idle: Duration) -> Rig {
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let now = chrono::Utc::now().timestamp();
    let platform = demo::spawn_with(
        "127.0.0.1:0".parse().unwrap(),
        DemoOptions {
            trust_list: Some(elicense::demo::current_trust_list(now).unwrap()),
            ..DemoOptions::default()
        },
    )
    .unwrap();
    let mut cc = ClientConfig::new(platform.url(), "t", "TEST");
    cc.timeout = Duration::from_secs(2);
    let client = Arc::new(Client::new(cc).unwrap());
    let journal = Arc::new(Journal::open(dir.path()).unwrap());
    let (tx, rx) = mpsc::channel();
    let ui = KioskUi::new(Options {
        idle_timeout: idle,
        site_name: SITE.into(),
        ..Options::default()
    })
    .unwrap();
    ui.window().show().unwrap();
    let flow = Rc::new(FlowUi::attach(
        &ui,
        FlowContext {
            client: client.clone(),
            journal: Some(journal.clone()),
            printer: None,
            events: Some(rx),
            kiosk_id: "TEST".into(),
            verifier: Some(Arc::new(Mutex::new(crate::util::demo_verifier()))),
            sim: None,
        },
    ));
    flow.enable_staff(journal.clone(), SITE, "TEST");
    // 呼叫帮助 and the status endpoint's state, as the runtime wires them.
    let status = StatusState::new("TEST", SITE);
    ui.staff().set_status(status.clone());
    let help = HelpUi::attach(
        &ui,
        HelpContext {
            desk: Arc::new(HelpDesk::new(journal.clone(), client, "TEST")),
            status: Some(status.clone()),
            site: SITE.into(),
            config: zizhu::config::HelpConfig {
                hotline: "0753-12345".into(),
                video_url: None,
            },
            poll: Duration::from_millis(300),
        },
        Some(flow.clone()),
    );
    Rig {
        ui,
        flow,
        _help: help,
        status,
        journal,
        tx,
        platform,
        _dir: dir,
    }
}

impl Rig {
    fn w(&self) -> &KioskWindow {
        self.ui.window()
    }

    fn start(&self, id: &str) {
        let mut spec = ScreenSpec::new(ScreenId::Detail);
        spec.item = Some(id.into());
        self.ui.show_screen(&spec).unwrap();
        settle();
        press(self.w(), "开始办理");
        assert_eq!(self.w().global::<AppState>().get_screen(), Screen::Flow);
    }

    fn scan(&self, text: &str) {
        self.tx.send(DeviceEvent::Scan(text.into())).unwrap();
        self.tick();
        self.settle_staff();
    }

    /// Until the staff code sent is checked (sign-in runs on a worker).
    fn settle_staff(&self) {
        for _ in 0..500 {
            if !self.ui.staff().busy() {
                self.tick();
                return;
            }
            self.tick();
        }
        panic!("the staff code was not checked in time");
    }

    fn tick(&self) {
        i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(100));
        std::thread::sleep(Duration::from_millis(10));
    }

    fn wait_for(&self, text: &str) {
        for _ in 0..800 {
            if shows(self.w(), text) {
                return;
            }
            self.tick();
        }
        panic!(
            "timed out waiting for {text:?}; on screen: {:?}",
            labels(self.w())
        );
    }

    /// On the form of a contribution-record service: types the months, goes on, confirms and
    /// waits for the result.
    fn submit_months(&self) {
        for k in "202501202512".chars() {
            press(self.w(), &k.to_string());
        }
        press(self.w(), "填好了，下一步");
        self.wait_for("请核对办理信息");
        press(self.w(), "确认提交");
        self.wait_for("完成");
    }

    /// The first sample ID card on the reader.
    fn card(&self) {
        self.tx
            .send(DeviceEvent::Card(Box::new(CardRead {
                card: samples().remove(0),
                photo_wlt: Vec::new(),
                fingerprint: Vec::new(),
            })))
            .unwrap();
    }

    /// The audit trail, oldest first: (actor, action, detail), once the sign-in's and sign-out's
    /// workers wrote theirs.
    fn audit(&self) -> Vec<(String, String, String)> {
        self.settle_staff();
        let mut log: Vec<_> = self
            .journal
            .audit_log(100)
            .unwrap()
            .into_iter()
            .map(|e| (e.actor, e.action, e.detail.unwrap_or_default()))
            .collect();
        log.reverse();
        log
    }
}

/// Every button on screen is labelled and at least a touch target (100 px) both ways.
fn targets_large_enough(w: &KioskWindow, what: &str) {
    targets_at_least(w, what, 100.0)
}

/// Every button on screen is labelled and at least `min` px both ways.
fn targets_at_least(w: &KioskWindow, what: &str, min: f32) {
    use i_slint_backend_testing::ElementRoot;
    for e in w
        .root_element()
        .query_descendants()
        .match_accessible_role(AccessibleRole::Button)
        .find_all()
    {
        let label = e.accessible_label().unwrap_or_default();
        assert!(!label.trim().is_empty(), "{what}: a button without a label");
        let size = e.size();
        assert!(
            size.width >= min && size.height >= min,
            "{what}: {label:?} is {size:?}, under {min} px"
        );
    }
}

fn code(site: &str, iat: i64) -> String {
    staff::issue(
        &elicense::demo::staff_key().unwrap(),
        &StaffClaims {
            code_id: staff::random_code_id().unwrap(),
            staff_id: "0012".into(),
            name: "张三丰".into(),
            site: Some(site.into()),
            kiosk: None,
            iat,
            exp: iat + 300,
        },
    )
    .unwrap()
}

const BANNER: &str = "张* · 工号 0012";

#[test]
fn staff_sign_in_on_screen_refused_then_good_then_sign_out() {
    let r = rig(Duration::from_secs(3600));
    r.start("ss-insured-cert-print");
    // The 工作人员 control opens the sign-in panel.
    targets_large_enough(r.w(), "identify with the 工作人员 control");
    press(r.w(), "工作人员签到");
    assert!(shows(
        r.w(),
        "请把工作人员码对准扫码口，或在下方输入工作人员码。"
    ));
    targets_large_enough(r.w(), "the sign-in panel");
    // Another site's code, scanned: refused with its plain message; nobody signed in.
    let now = chrono::Utc::now().timestamp();
    r.scan(&code("别的网点", now));
    assert!(
        shows(r.w(), Text::StaffOtherSite.zh()),
        "{:?}",
        labels(r.w())
    );
    assert!(!shows(r.w(), BANNER));
    // An expired code, typed into the panel.
    let input: Vec<_> = ElementHandle::find_by_accessible_label(r.w(), "工作人员码").collect();
    assert_eq!(input.len(), 1);
    input[0].set_accessible_value(code(SITE, now - 7200));
    press(r.w(), "签到");
    r.settle_staff();
    assert!(shows(r.w(), Text::StaffExpired.zh()), "{:?}", labels(r.w()));
    // Another kiosk's.
    let other_kiosk = staff::issue(
        &elicense::demo::staff_key().unwrap(),
        &StaffClaims {
            code_id: staff::random_code_id().unwrap(),
            staff_id: "0012".into(),
            name: "张三丰".into(),
            site: None,
            kiosk: Some("MZ-0001".into()),
            iat: now,
            exp: now + 300,
        },
    )
    .unwrap();
    r.scan(&other_kiosk);
    assert!(shows(r.w(), Text::StaffOtherKiosk.zh()));
    // A damaged one.
    input[0].set_accessible_value("ST1:damaged");
    press(r.w(), "签到");
    r.settle_staff();
    assert!(shows(r.w(), Text::StaffMalformed.zh()));
    // A good one, typed: the panel closes, the banner names the helper, masked.
    let good = code(SITE, now);
    input[0].set_accessible_value(good.clone());
    press(r.w(), "签到");
    r.settle_staff();
    assert!(shows(r.w(), BANNER), "{:?}", labels(r.w()));
    assert!(!shows(r.w(), "签到"), "the panel closed");
    assert!(labels(r.w()).iter().all(|l| !l.contains("张三丰")));
    assert_eq!(r.flow.helper().map(|h| h.staff_id), Some("0012".into()));
    // Used again (scanned): replayed, and the signed-in helper stays.
    r.scan(&good);
    assert!(shows(r.w(), Text::StaffReplayed.zh()));
    assert!(shows(r.w(), BANNER));
    press(r.w(), "关闭");
    // Sign-out by the button.
    press(r.w(), "帮办员签退");
    assert!(!shows(r.w(), BANNER));
    assert!(r.flow.helper().is_none());
    assert!(shows(r.w(), "工作人员签到"));
    let log = r.audit();
    let actions: Vec<(&str, &str)> = log
        .iter()
        .map(|(_, a, d)| (a.as_str(), d.as_str()))
        .filter(|(a, _)| *a != "staff.sign_in")
        .collect();
    assert_eq!(
        actions,
        vec![
            ("staff.refused", "other-site"),
            ("staff.refused", "expired"),
            ("staff.refused", "other-kiosk"),
            ("staff.refused", "malformed"),
            ("staff.refused", "replayed"),
            ("staff.sign_out", "press"),
        ]
    );
    assert_eq!(
        log.iter().filter(|(_, a, _)| a == "staff.sign_in").count(),
        1
    );
    // The status endpoint's counters: one sign-in, each refusal by its reason; nobody now.
    let c = r.status.snapshot().counters;
    assert_eq!(c.staff_sign_ins, 1);
    let refused: Vec<(&str, u64)> = c
        .staff_sign_in_refusals
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        refused,
        vec![
            ("expired", 1),
            ("malformed", 1),
            ("other-kiosk", 1),
            ("other-site", 1),
            ("replayed", 1)
        ]
    );
    assert!(!r.status.snapshot().staff_signed_in);
    assert!(log.iter().all(|e| !format!("{e:?}").contains("张三丰")));
}

#[test]
fn an_assisted_idcard_face_visit_on_screen() {
    let r = rig(Duration::from_secs(3600));
    r.start("ss-contrib-detail-print");
    r.scan(&code(SITE, chrono::Utc::now().timestamp()));
    assert!(shows(r.w(), BANNER), "{:?}", labels(r.w()));
    let card = samples().remove(0);
    r.tx.send(DeviceEvent::Card(Box::new(CardRead {
        card: card.clone(),
        photo_wlt: Vec::new(),
        fingerprint: Vec::new(),
    })))
    .unwrap();
    r.wait_for("请用粤省事扫码刷脸");
    targets_large_enough(r.w(), "the face check with the helper's banner");
    // No smartphone: the helper checks the person against the card.
    press(r.w(), "人工核验：帮办员已核对本人与身份证");
    r.wait_for("查询月份");
    r.submit_months();
    press(r.w(), "完成");
    // The rating asks about the helper too.
    assert!(shows(r.w(), "请评价帮办员的服务"));
    targets_large_enough(r.w(), "the rating with the helper's");
    press(r.w(), "满意");
    press(r.w(), "帮办员：非常满意");
    press(r.w(), "提交评价");
    r.wait_for("请取走您的身份证和凭条");
    for l in labels(r.w()) {
        assert!(
            !l.contains(&card.id_number),
            "full ID number on screen: {l}"
        );
    }
    // The goodbye ends the visit: the helper is signed out.
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(7));
    assert_eq!(r.w().global::<AppState>().get_screen(), Screen::Attract);
    assert!(r.flow.helper().is_none());
    assert_eq!(r.w().global::<StaffAdapter>().get_banner(), "");

    // The platform stored the request as identified by card and staff check, with the helper,
    // and the helper's rating.
    let stored = r.platform.state().assisted();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].service_id, "ss-contrib-detail-print");
    assert_eq!(stored[0].identity_method.as_deref(), Some("idcard+staff"));
    assert_eq!(stored[0].staff_id.as_deref(), Some("0012"));
    let ratings = r.platform.state().staff_ratings();
    assert_eq!(ratings.len(), 1);
    assert_eq!((ratings[0].1.as_str(), ratings[0].2), ("0012", Some(5)));
    // The audit trail: sign-in, the check, the service, the rating, sign-out at the end.
    let log = r.audit();
    let actions: Vec<&str> = log.iter().map(|(_, a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        vec![
            "staff.sign_in",
            "staff.verify_identity",
            "staff.service",
            "staff.rating",
            "staff.sign_out"
        ]
    );
    assert!(log.iter().all(|(actor, _, _)| actor == "staff:0012"));
    assert!(log[2].2.contains("method=idcard+staff"), "{:?}", log[2]);
    assert!(log[3].2.contains("helper_level=5"), "{:?}", log[3]);
    assert_eq!(log[4].2, "end-of-visit");
}

#[test]
fn the_staff_check_is_offered_only_where_allowed_and_idle_signs_out() {
    let r = rig(Duration::from_secs(30));
    // A face-check service whose catalog entry does not allow the staff check.
    r.start("ss-card-pin-change");
    r.scan(&code(SITE, chrono::Utc::now().timestamp()));
    assert!(shows(r.w(), BANNER));
    r.tx.send(DeviceEvent::Card(Box::new(CardRead {
        card: samples().remove(0),
        photo_wlt: Vec::new(),
        fingerprint: Vec::new(),
    })))
    .unwrap();
    r.wait_for("请用粤省事扫码刷脸");
    assert!(!shows(r.w(), "人工核验：帮办员已核对本人与身份证"));
    assert!(!r.w().global::<FlowAdapter>().get_can_staff_verify());
    // Another service of the same visit: the helper stays signed in, and its flow carries them.
    r.start("ss-insured-cert-print");
    assert_eq!(r.flow.helper().map(|h| h.staff_id), Some("0012".into()));
    assert!(shows(r.w(), BANNER));
    assert!(
        !ElementHandle::find_by_accessible_label(r.w(), "工作人员签到")
            .any(|e| e.accessible_role() == Some(AccessibleRole::Button))
    );
    // Nobody touches the screen: the idle timeout ends the visit and signs the helper out.
    let tick = || i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
    for _ in 0..45 {
        tick();
    }
    i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(200));
    assert_eq!(r.w().global::<AppState>().get_screen(), Screen::Attract);
    assert!(r.flow.helper().is_none());
    let outs: Vec<String> = r
        .audit()
        .into_iter()
        .filter(|(_, a, _)| a == "staff.sign_out")
        .map(|(_, _, d)| d)
        .collect();
    assert_eq!(outs, vec!["idle".to_string()]);
    assert_eq!(r.w().global::<StaffAdapter>().get_banner(), "");
}

#[test]
fn the_staff_controls_in_elderly_mode_and_in_english() {
    let r = rig(Duration::from_secs(3600));
    r.ui.set_elderly(true);
    settle();
    // The help overlay's 工作人员签到, on the home screen.
    r.ui.show_screen(&ScreenSpec::new(ScreenId::Home)).unwrap();
    settle();
    press(r.w(), "呼叫帮助");
    r.wait_for("已通知工作人员");
    targets_at_least(
        r.w(),
        "elderly: the help overlay with the staff sign-in",
        140.0,
    );
    press(r.w(), "继续办理");
    r.start("ss-contrib-detail-print");
    targets_at_least(r.w(), "elderly: identify with the 工作人员 control", 140.0);
    press(r.w(), "工作人员签到");
    targets_at_least(r.w(), "elderly: the sign-in panel", 140.0);
    r.scan(&code(SITE, chrono::Utc::now().timestamp()));
    assert!(shows(r.w(), BANNER));
    r.tx.send(DeviceEvent::Card(Box::new(CardRead {
        card: samples().remove(0),
        photo_wlt: Vec::new(),
        fingerprint: Vec::new(),
    })))
    .unwrap();
    r.wait_for("请用粤省事扫码刷脸");
    targets_at_least(r.w(), "elderly: the face check with the staff check", 140.0);
    // In English the banner and the staff check speak English; the name stays masked.
    r.ui.set_lang(zizhu::catalog::Lang::En);
    settle();
    r.wait_for("张* · staff no. 0012");
    assert!(
        shows(
            r.w(),
            "Staff check: the helper has checked the person against the ID card"
        ),
        "{:?}",
        labels(r.w())
    );
    assert!(shows(r.w(), "Helper sign-out"));
}

#[test]
fn the_staff_check_after_the_phone_refused_the_face_check() {
    let r = rig(Duration::from_secs(3600));
    r.start("ss-contrib-detail-print");
    r.card();
    r.wait_for("请用粤省事扫码刷脸");
    // No helper yet, and the phone's face check is refused: the visit is stuck on it.
    let link = r.flow.qr_link().expect("face check QR");
    demo::open_link(&format!("{link}?refuse=1")).unwrap();
    r.wait_for(Text::NeedsFaceCheck.zh());
    assert!(r.w().global::<FlowAdapter>().get_stuck());
    assert!(shows(r.w(), "结束办理"));
    assert!(!shows(r.w(), "人工核验：帮办员已核对本人与身份证"));
    // The helper comes and signs in on the stuck step: 人工核验 is offered there.
    r.scan(&code(SITE, chrono::Utc::now().timestamp()));
    assert!(shows(r.w(), BANNER), "{:?}", labels(r.w()));
    assert!(
        shows(r.w(), "人工核验：帮办员已核对本人与身份证"),
        "{:?}",
        labels(r.w())
    );
    targets_large_enough(r.w(), "the stuck face check with the staff check");
    press(r.w(), "人工核验：帮办员已核对本人与身份证");
    r.wait_for("查询月份");
    assert!(!r.w().global::<FlowAdapter>().get_stuck());
    r.submit_months();
    let stored = r.platform.state().assisted();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].identity_method.as_deref(), Some("idcard+staff"));
    assert_eq!(stored[0].staff_id.as_deref(), Some("0012"));
    let actions: Vec<String> = r.audit().into_iter().map(|(_, a, _)| a).collect();
    assert_eq!(
        actions,
        vec!["staff.sign_in", "staff.verify_identity", "staff.service"]
    );
}

#[test]
fn staff_called_for_help_sign_in_from_the_overlay_and_assist_the_rest_of_the_visit() {
    let r = rig(Duration::from_secs(3600));
    // The status endpoint over real HTTP on loopback.
    const TOKEN: &str = "test-token-0123456789abcdef";
    let server = zizhu::status::spawn(
        zizhu::status::StatusConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            token: zizhu::status::Secret::new(TOKEN),
            tls: None,
            limits: zizhu::status::Limits::default(),
        },
        r.status.clone(),
    )
    .unwrap();
    let status = || {
        let (code, body) = crate::status::get(server.local_addr(), "/v1/status", Some(TOKEN));
        assert_eq!(code, 200, "{body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()
    };
    assert_eq!(status()["staff_signed_in"], false);
    // A citizen on the home screen calls for help; staff take it on the platform.
    r.ui.show_screen(&ScreenSpec::new(ScreenId::Home)).unwrap();
    settle();
    press(r.w(), "呼叫帮助");
    r.wait_for("已通知工作人员");
    let staff = Client::new(ClientConfig::new(r.platform.url(), "t", "STAFF")).unwrap();
    let open = staff.help_list(false).unwrap().requests;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].request.screen, "home");
    staff.help_ack(&open[0].help_id, Some("0012")).unwrap();
    r.wait_for("工作人员正在赶来");
    // The helper who came signs in from the overlay, with a scanned code.
    targets_large_enough(r.w(), "the help overlay with the staff sign-in");
    press(r.w(), "工作人员签到");
    assert!(!shows(r.w(), "工作人员正在赶来"), "the overlay closed");
    assert!(shows(
        r.w(),
        "请把工作人员码对准扫码口，或在下方输入工作人员码。"
    ));
    targets_large_enough(r.w(), "the sign-in panel over the home screen");
    r.scan(&code(SITE, chrono::Utc::now().timestamp()));
    // Assisted from now on: the banner on the home screen, with the sign-out.
    assert_eq!(r.w().global::<AppState>().get_screen(), Screen::Home);
    assert!(shows(r.w(), BANNER), "{:?}", labels(r.w()));
    assert!(shows(r.w(), "帮办员签退"));
    assert!(labels(r.w()).iter().all(|l| !l.contains("张三丰")));
    let s = status();
    assert_eq!(s["staff_signed_in"], true);
    assert!(s["staff_signed_in_since_unix"].as_i64().is_some());
    assert_eq!(s["counters"]["staff_sign_ins"], 1);
    assert!(!s.to_string().contains("0012") && !s.to_string().contains("张"));
    // An idcard+face service: its flow carries the helper, who does the 人工核验.
    r.start("ss-contrib-detail-print");
    assert!(shows(r.w(), BANNER));
    r.card();
    r.wait_for("请用粤省事扫码刷脸");
    press(r.w(), "人工核验：帮办员已核对本人与身份证");
    r.wait_for("查询月份");
    r.submit_months();
    press(r.w(), "完成");
    press(r.w(), "满意");
    press(r.w(), "帮办员：满意");
    press(r.w(), "提交评价");
    r.wait_for("请取走您的身份证和凭条");
    // The goodbye ends the visit and signs the helper out.
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(7));
    assert_eq!(r.w().global::<AppState>().get_screen(), Screen::Attract);
    assert!(r.flow.helper().is_none());
    assert_eq!(status()["staff_signed_in"], false);
    // The platform's stored request: identified by card and staff check, with the staff id.
    let stored = r.platform.state().assisted();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].service_id, "ss-contrib-detail-print");
    assert_eq!(stored[0].identity_method.as_deref(), Some("idcard+staff"));
    assert_eq!(stored[0].staff_id.as_deref(), Some("0012"));
    // The audit trail: the call and its acknowledgement, then the assisted visit.
    let log = r.audit();
    let actions: Vec<&str> = log.iter().map(|(_, a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        vec![
            "help.call",
            "help.ack",
            "staff.sign_in",
            "staff.verify_identity",
            "staff.service",
            "staff.rating",
            "staff.sign_out"
        ],
        "{log:?}"
    );
    assert!(log[2..].iter().all(|(actor, _, _)| actor == "staff:0012"));
    assert!(log[4].2.contains("method=idcard+staff"), "{:?}", log[4]);
    assert_eq!(log[6].2, "end-of-visit");
    assert!(log.iter().all(|e| !format!("{e:?}").contains("张三丰")));
    let (_, metrics) = crate::status::get(server.local_addr(), "/metrics", Some(TOKEN));
    assert!(
        metrics.contains("zizhu_staff_sign_ins_total 1"),
        "{metrics}"
    );
    assert!(metrics.contains("zizhu_staff_signed_in 0"), "{metrics}");
}

#[test]
fn the_staff_panel_sign_in_out_and_the_staff_check_are_spoken_without_a_name() {
    let r = rig(Duration::from_secs(3600));
    // The real voice, playing through the ALSA `file` plugin (tests/voice.rs).
    let _wav = crate::voice::alsa_file("uistaff");
    let voice = zizhu::voice::Voice::start(
        &zizhu::voice::VoiceConfig {
            device: "uistaff".into(),
            packs: Vec::new(),
            packs_default: false,
            ..Default::default()
        },
        zizhu::catalog::Lang::Zh,
        None,
    );
    let v = zizhu::kiosk::VoiceUi::attach(&r.ui, voice, Some(&r.flow));
    let mut words = Vec::new();
    let mut said = |expect: &str| {
        let (ticket, id) = *v.spoken().last().expect("something spoken");
        assert_eq!(id, expect, "{:?}", v.spoken());
        assert!(
            v.voice().wait_done(ticket, Duration::from_secs(120)),
            "{id} not done"
        );
        let s = v.voice().said(ticket).expect("spoken to the end");
        words.push(s.words.clone());
        s.words
    };
    r.start("ss-contrib-detail-print");
    said("identify-card");
    // The panel is said; a refused code is "read the screen" (its reason is shown, not said).
    press(r.w(), "工作人员签到");
    assert!(said("staff-sign-in").contains("工作人员码"));
    r.scan(&code("别的网点", chrono::Utc::now().timestamp()));
    said("notice");
    press(r.w(), "关闭");
    // Signed in and out by the button, each said.
    r.scan(&code(SITE, chrono::Utc::now().timestamp()));
    assert!(shows(r.w(), BANNER));
    said("staff-signed-in");
    press(r.w(), "帮办员签退");
    said("staff-signed-out");
    // Signed in again; on the face check the staff check (人工核验) is said.
    r.scan(&code(SITE, chrono::Utc::now().timestamp()));
    said("staff-signed-in");
    r.card();
    r.wait_for("请用粤省事扫码刷脸");
    assert!(said("staff-check").contains("请帮办员核对本人与身份证"));
    // Signing out there says the face check again (what to do next); signing in, the staff
    // check: the flow's step is kept, not cut off by the sign-in or sign-out.
    press(r.w(), "帮办员签退");
    said("face-check");
    r.scan(&code(SITE, chrono::Utc::now().timestamp()));
    said("staff-check");
    // English: the same prompts in English.
    r.ui.set_lang(zizhu::catalog::Lang::En);
    settle();
    assert!(said("staff-check").contains("No smartphone?"));
    let card = samples().remove(0);
    for w in &words {
        assert!(
            !w.contains('张') && !w.contains("0012") && !w.contains(&card.id_number),
            "personal data said: {w}"
        );
    }
}

#[test]
fn staff_sign_in_from_the_help_overlay_on_a_list_a_detail_and_a_flow() {
    let r = rig(Duration::from_secs(3600));
    let open = |name: &str| match name {
        "category" => {
            let mut spec = ScreenSpec::new(ScreenId::Category);
            spec.category = Some(String::new());
            r.ui.show_screen(&spec).unwrap();
            settle();
        }
        "detail" => {
            let mut spec = ScreenSpec::new(ScreenId::Detail);
            spec.item = Some("ss-contrib-detail-print".into());
            r.ui.show_screen(&spec).unwrap();
            settle();
        }
        _ => r.start("ss-contrib-detail-print"),
    };
    for (i, name) in ["category", "detail", "flow"].into_iter().enumerate() {
        open(name);
        press(r.w(), "呼叫帮助");
        r.wait_for("已通知工作人员");
        press(r.w(), "工作人员签到");
        assert!(
            !shows(r.w(), "已通知工作人员"),
            "{name}: the overlay closed"
        );
        r.scan(&code(SITE, chrono::Utc::now().timestamp()));
        assert!(shows(r.w(), BANNER), "{name}: {:?}", labels(r.w()));
        // Answered in person: the request is withdrawn, nothing is pending any more.
        assert!(!r.status.snapshot().help_pending, "{name}");
        assert_eq!(
            r.flow.helper().map(|h| h.staff_id),
            Some("0012".into()),
            "{name}"
        );
        assert!(r.status.snapshot().staff_signed_in, "{name}");
        assert_eq!(r.status.snapshot().counters.staff_sign_ins, i as u64 + 1);
        // Signed out by the banner's button (the footer's outside a flow, the bar's in one).
        press(r.w(), "帮办员签退");
        assert!(!shows(r.w(), BANNER), "{name}");
        assert!(!r.status.snapshot().staff_signed_in, "{name}");
    }
    let outs: Vec<String> = r
        .audit()
        .into_iter()
        .filter(|(_, a, _)| a.starts_with("staff."))
        .map(|(_, a, d)| format!("{a} {d}"))
        .collect();
    assert_eq!(outs.len(), 6, "{outs:?}");
    assert_eq!(
        outs.iter().filter(|o| *o == "staff.sign_out press").count(),
        3
    );
    // The platform: the request of each screen withdrawn as answered in person.
    let staff = Client::new(ClientConfig::new(r.platform.url(), "t", "STAFF")).unwrap();
    let mut helps = Vec::new();
    for _ in 0..100 {
        helps = staff.help_list(false).unwrap().requests;
        if helps.len() == 3
            && helps
                .iter()
                .all(|h| h.state == zizhu::platform::api::HelpState::Cancelled)
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let screens: Vec<(&str, zizhu::platform::api::HelpState)> = helps
        .iter()
        .map(|h| (h.request.screen.as_str(), h.state))
        .collect();
    use zizhu::platform::api::HelpState::Cancelled;
    assert_eq!(
        screens,
        vec![
            ("category", Cancelled),
            ("detail", Cancelled),
            ("identify", Cancelled)
        ]
    );
    assert_eq!(
        r.audit()
            .iter()
            .filter(|(_, a, d)| a == "help.cancel" && d == "staff_signed_in")
            .count(),
        3
    );
}
