//! Headless tests of the flow screens: the real `KioskUi` with `FlowUi` attached, on Slint's
//! testing backend, against the demo platform on loopback, a journal in a temporary directory and
//! a simulated printer on a pseudo-terminal. Cards and scans arrive as runtime device events on
//! the channel the runtime would use. Every step is checked by what is on screen (accessible
//! labels), and the citizen's phone is played by opening the QR links with HTTP.
use std::rc::Rc;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::util::screen::{labels, press, settle, shows};
use i_slint_backend_testing::{AccessibleRole, ElementRoot};
use slint::{ComponentHandle, Model};
use zizhu::catalog::Catalog;
use zizhu::help::HelpDesk;
use zizhu::journal::Journal;
use zizhu::kiosk::{
    FlowContext, FlowUi, HelpContext, HelpUi, KioskUi, Options, ScreenId, ScreenSpec,
};
use zizhu::platform::{demo, Client, ClientConfig};
use zizhu::runtime::DeviceEvent;
use zizhu::status::StatusState;
use zizhu::ui::{AppState, FlowAdapter, KioskWindow, Screen};
use zizhu_drivers::idcard::card::{samples, CardData, CardRead};
use zizhu_drivers::printer;

struct Rig {
    ui: KioskUi,
    flow: Rc<FlowUi>,
    help: HelpUi,
    status: StatusState,
    journal: Arc<Journal>,
    tx: Sender<DeviceEvent>,
    printer: Option<printer::sim::Simulator>,
    _platform: Option<demo::DemoHandle>,
    _dir: tempfile::TempDir,
}

/// A kiosk UI with the flow attached. `platform` false points the client at a closed port (the
/// platform is down); `with_printer` adds a simulated printer.
fn rig(platform: bool, with_printer: bool, idle: Duration) -> Rig {
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let demo = platform.then(|| demo::spawn("127.0.0.1:0".parse().unwrap(), None).unwrap());
    let url = match &demo {
        Some(d) => d.url(),
        None => "http://127.0.0.1:9".to_string(),
    };
    let mut cc = ClientConfig::new(url, "t", "TEST");
    cc.timeout = Duration::from_secs(2);
    let client = Arc::new(Client::new(cc).unwrap());
    let journal = Arc::new(Journal::open(dir.path()).unwrap());
    let (tx, rx) = mpsc::channel();
    let mut sim = None;
    let mut print: Option<zizhu::kiosk::flow::PrintFn> = None;
    if with_printer {
        let link = dir.path().join("lp");
        let s = printer::sim::Simulator::spawn(&link, Some(&dir.path().join("jobs"))).unwrap();
        let (ptx, prx) = mpsc::channel();
        let mut cfg = printer::WorkerConfig::new(&link);
        cfg.idle_poll = Duration::from_millis(200);
        cfg.wait_poll = Duration::from_millis(200);
        let handle = printer::spawn_worker(cfg, ptx).unwrap();
        let events = tx.clone();
        std::thread::spawn(move || {
            for ev in prx {
                let _ = match ev {
                    printer::PrinterEvent::JobWaiting { kind, reason, .. } => {
                        events.send(DeviceEvent::PrintWaiting(kind, reason))
                    }
                    printer::PrinterEvent::JobPrinted { .. } => events.send(DeviceEvent::Printed),
                    _ => Ok(()),
                };
            }
        });
        print = Some(Box::new(move |r| {
            handle
                .print(r, printer::Mode::Raster)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }));
        sim = Some(s);
    }
    let ui = KioskUi::new(Options {
        idle_timeout: idle,
        ..Options::default()
    })
    .unwrap();
    ui.window().show().unwrap();
    let flow = Rc::new(FlowUi::attach(
        &ui,
        FlowContext {
            client: client.clone(),
            journal: Some(journal.clone()),
            printer: print,
            events: Some(rx),
            kiosk_id: "TEST".into(),
            verifier: Some(Arc::new(Mutex::new(crate::util::demo_verifier()))),
            sim: None,
        },
    ));
    let status = StatusState::new("TEST", "测试站");
    let help = HelpUi::attach(
        &ui,
        HelpContext {
            desk: Arc::new(HelpDesk::new(journal.clone(), client, "TEST")),
            status: Some(status.clone()),
            site: "测试站".into(),
            config: zizhu::config::HelpConfig {
                hotline: "0753-12345".into(),
                video_url: Some("https://ysb.example/video?k=TEST".into()),
            },
            poll: Duration::from_millis(300),
        },
        Some(flow.clone()),
    );
    Rig {
        ui,
        flow,
        help,
        status,
        journal,
        tx,
        printer: sim,
        _platform: demo,
        _dir: dir,
    }
}

impl Rig {
    fn w(&self) -> &KioskWindow {
        self.ui.window()
    }

    /// Opens a service's detail screen and presses 开始办理, as a visitor would.
    fn start(&self, id: &str) {
        self.start_with(id, "开始办理");
    }

    /// The same with the start button's label in the current language.
    fn start_with(&self, id: &str, start: &str) {
        let mut spec = ScreenSpec::new(ScreenId::Detail);
        spec.item = Some(id.into());
        self.ui.show_screen(&spec).unwrap();
        settle();
        press(self.w(), start);
        assert_eq!(self.w().global::<AppState>().get_screen(), Screen::Flow);
    }

    fn card(&self, card: CardData) {
        self.tx
            .send(DeviceEvent::Card(Box::new(CardRead {
                card,
                photo_wlt: Vec::new(),
                fingerprint: Vec::new(),
            })))
            .unwrap();
    }

    /// Advances Slint time in 100 ms steps (the flow's tick) until `text` is on screen.
    fn wait_for(&self, text: &str) {
        for _ in 0..800 {
            if shows(self.w(), text) {
                return;
            }
            i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(100));
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "timed out waiting for {text:?}; on screen: {:?}",
            labels(self.w())
        );
    }

    /// Presses the keys of `digits` one by one.
    fn type_keys(&self, keys: &str) {
        for c in keys.chars() {
            press(self.w(), &c.to_string());
        }
    }
}

fn open(url: &str) {
    crate::util::phone(url).unwrap();
}

fn resident() -> CardData {
    samples().remove(0)
}

/// Nothing on screen holds the full ID number or the full name.
fn nothing_personal(w: &KioskWindow, card: &CardData) {
    for l in labels(w) {
        assert!(
            !l.contains(&card.id_number),
            "full ID number on screen: {l}"
        );
        assert!(!l.contains(&card.name), "full name on screen: {l}");
    }
}

#[test]
fn query_and_print_with_card_face_check_and_paper_out() {
    let r = rig(true, true, Duration::from_secs(3600));
    r.start("ss-contrib-detail-print");
    assert!(shows(r.w(), "请将身份证放在感应区"));
    assert!(shows(r.w(), "或出示手机身份码/电子证照码"));
    // Not a 代他人 service: no typing.
    assert!(!shows(r.w(), "代他人办理：输入身份证号"));
    let card = resident();
    r.card(card.clone());
    r.wait_for("请用粤省事扫码刷脸");
    let link = r.flow.qr_link().expect("face check QR");
    open(&link);
    r.wait_for("查询月份");
    // A bad range is refused under the field; then the right one.
    r.type_keys("202512202501");
    assert!(shows(r.w(), "2025-12..2025-01"));
    press(r.w(), "填好了，下一步");
    assert!(
        r.w()
            .global::<FlowAdapter>()
            .get_error()
            .contains("查询月份"),
        "{}",
        r.w().global::<FlowAdapter>().get_error()
    );
    press(r.w(), "清空");
    r.type_keys("202501202512");
    assert!(shows(r.w(), "2025-01..2025-12"));
    press(r.w(), "填好了，下一步");
    r.wait_for("请核对办理信息");
    let who = r.w().global::<FlowAdapter>().get_who().to_string();
    assert!(who.starts_with("李*"), "{who}");
    assert!(who.contains("****"), "{who}");
    nothing_personal(r.w(), &card);
    press(r.w(), "确认提交");
    r.wait_for("打印凭条");
    assert!(!r.w().global::<FlowAdapter>().get_result_title().is_empty());
    assert!(r.w().global::<FlowAdapter>().get_rows().row_count() > 0);
    nothing_personal(r.w(), &card);

    // Paper out: the receipt waits, the hand-off QR shows; paper back: it prints once.
    let sim = r.printer.as_ref().unwrap();
    sim.set_fault(printer::sim::Fault::PaperEnd);
    press(r.w(), "打印凭条");
    assert!(
        shows(r.w(), "正在打印…"),
        "print state {:?}",
        r.w().global::<FlowAdapter>().get_print_state()
    );
    r.wait_for("打印机缺纸，工作人员补纸后将自动打印；也可扫码把结果带走");
    assert!(shows(r.w(), "结果二维码"));
    sim.set_fault(printer::sim::Fault::None);
    r.wait_for("打印完成，请取走凭条");
    assert_eq!(sim.job_count(), 1);

    press(r.w(), "完成");
    assert!(shows(r.w(), "请对本次服务进行评价"));
    press(r.w(), "不满意");
    assert!(shows(r.w(), "请选择不满意的原因（可多选）"));
    press(r.w(), "办理太慢");
    press(r.w(), "满意");
    assert!(!shows(r.w(), "请选择不满意的原因（可多选）"));
    press(r.w(), "提交评价");
    r.wait_for("请取走您的身份证和凭条");
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(7));
    assert_eq!(r.w().global::<AppState>().get_screen(), Screen::Attract);
    assert!(!r.flow.active());
}

#[test]
fn submit_with_commitment_by_scanned_code() {
    let r = rig(true, false, Duration::from_secs(3600));
    r.start("ps-idcard-lost");
    let id = zizhu_drivers::idcard::card::with_check_char("44140219800101001");
    r.tx.send(DeviceEvent::Scan(format!("YSS:{id}"))).unwrap();
    r.wait_for("手机号码");
    r.type_keys("1380013800");
    press(r.w(), "填好了，下一步");
    assert!(!r.w().global::<FlowAdapter>().get_error().is_empty());
    r.type_keys("0");
    press(r.w(), "填好了，下一步");
    assert!(shows(r.w(), "告知承诺书"));
    press(r.w(), "不同意");
    assert!(shows(
        r.w(),
        "需要同意告知承诺才能继续办理；如有疑问请到窗口咨询。"
    ));
    press(r.w(), "同意并继续");
    assert!(shows(r.w(), "请核对办理信息"));
    assert!(shows(r.w(), "13800138000"));
    press(r.w(), "确认提交");
    r.wait_for("打印凭条");
    assert!(!r.w().global::<FlowAdapter>().get_result_title().is_empty());
    assert!(!r.w().global::<FlowAdapter>().get_next_steps().is_empty());
    for l in labels(r.w()) {
        assert!(!l.contains(&id), "full ID number on screen: {l}");
    }
    // No printer here: the receipt cannot print, the hand-off QR is offered instead.
    press(r.w(), "打印凭条");
    assert!(shows(r.w(), "打印机暂不可用，请扫码把结果带走"));
    press(r.w(), "完成");
    press(r.w(), "跳过");
    r.wait_for("请取走您的身份证和凭条");
    press(r.w(), "返回首页");
    assert_eq!(r.w().global::<AppState>().get_screen(), Screen::Attract);
}

#[test]
fn submit_while_the_platform_is_down_is_queued() {
    let r = rig(false, false, Duration::from_secs(3600));
    r.start("ps-idcard-lost");
    r.card(resident());
    r.wait_for("手机号码");
    r.type_keys("13800138000");
    press(r.w(), "填好了，下一步");
    press(r.w(), "同意并继续");
    press(r.w(), "确认提交");
    r.wait_for("办事系统暂未确认，您的申请已保存，本机将自动提交");
    let local = r
        .w()
        .global::<FlowAdapter>()
        .get_local_reference()
        .to_string();
    assert!(local.starts_with("ZZ-"), "{local}");
    assert!(shows(r.w(), &format!("本机受理号：{local}")));
}

#[test]
fn pay_for_someone_else_by_typed_number() {
    let r = rig(true, false, Duration::from_secs(3600));
    r.start("mi-resident-pay");
    // An expired card is refused in plain words.
    let mut old = resident();
    old.valid_long_term = false;
    old.valid_to = Some("2020-01-01".into());
    r.card(old);
    r.wait_for("您的身份证已过期，不能在自助机办理。请先换领新证，或用手机出示身份码。");
    press(r.w(), "代他人办理：输入身份证号");
    let id = zizhu_drivers::idcard::card::with_check_char("44140219800101001");
    let wrong = format!("{}{}", &id[..17], if id.ends_with('0') { "1" } else { "0" });
    r.type_keys(&wrong);
    assert_eq!(r.w().global::<FlowAdapter>().get_typed_count(), 18);
    assert!(!r
        .w()
        .global::<FlowAdapter>()
        .get_typed_display()
        .contains(&wrong[6..14]));
    press(r.w(), "确定");
    assert!(shows(
        r.w(),
        "身份证号码校验不通过，请重新放置身份证或检查输入。"
    ));
    r.type_keys(&id);
    press(r.w(), "确定");
    let field = &Catalog::builtin()
        .service("mi-resident-pay")
        .unwrap()
        .fields[0];
    r.wait_for(&field.zh);
    press(r.w(), &field.options[0].zh);
    press(r.w(), "填好了，下一步");
    assert!(shows(r.w(), "请核对办理信息"));
    assert!(r.w().global::<FlowAdapter>().get_who().contains("代他人"));
    press(r.w(), "确认提交");
    r.wait_for("请扫码支付");
    assert!(shows(r.w(), "付款二维码"));
    let amount = r.w().global::<FlowAdapter>().get_amount().to_string();
    assert!(shows(r.w(), &format!("应付金额 {amount} 元")));
    open(&r.flow.qr_link().expect("payment QR"));
    r.wait_for("支付成功");
    assert!(shows(r.w(), "打印凭条"));
}

#[test]
fn idle_timeout_in_the_middle_of_a_form_wipes_the_visit() {
    let r = rig(true, false, Duration::from_secs(30));
    r.start("ps-idcard-lost");
    let card = resident();
    r.card(card.clone());
    r.wait_for("手机号码");
    r.type_keys("13912345678");
    assert!(shows(r.w(), "13912345678"));
    // Nobody touches the screen: the countdown shows, then the session ends.
    let tick = || i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
    for _ in 0..25 {
        tick();
    }
    assert!(shows(r.w(), "您还在办理吗？"));
    for _ in 0..10 {
        tick();
    }
    i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(200));
    assert_eq!(r.w().global::<AppState>().get_screen(), Screen::Attract);
    assert!(!r.flow.active());
    let a = r.w().global::<FlowAdapter>();
    assert_eq!(a.get_field_value(), "");
    assert_eq!(a.get_who(), "");
    assert_eq!(a.get_typed_display(), "");
    assert_eq!(a.get_service_name(), "");
    assert_eq!(a.get_summary().row_count(), 0);
    for l in labels(r.w()) {
        assert!(!l.contains("13912345678"), "form value left on screen: {l}");
    }
    nothing_personal(r.w(), &card);
}

#[test]
fn flow_screens_work_in_english_and_elderly_mode() {
    let r = rig(true, false, Duration::from_secs(3600));
    r.ui.set_elderly(true);
    r.ui.set_lang(zizhu::catalog::Lang::En);
    r.start_with("ps-idcard-lost", "Start");
    assert!(shows(r.w(), "Place your ID card on the reader"));
    r.card(resident());
    r.wait_for("Mobile number");
    // Switching the language mid-visit relabels the flow (catalog text included).
    press(r.w(), "中文");
    r.wait_for("手机号码");
    assert!(shows(r.w(), "填好了，下一步"));
    // Every button on the flow screens has a label.
    for e in r
        .w()
        .root_element()
        .query_descendants()
        .match_accessible_role(AccessibleRole::Button)
        .find_all()
    {
        assert!(
            e.accessible_label().is_some_and(|l| !l.is_empty()),
            "a button without a label"
        );
    }
}

/// An identity code from the phone for the synthetic citizen (the phone app did the face check).
fn yss_code() -> String {
    let id = zizhu_drivers::idcard::card::with_check_char("44140219800101001");
    format!("YSS:{id}")
}

/// Presses the e-licence step's button, whichever the platform's answer made it show.
fn pass_licences(r: &Rig) {
    r.wait_for("免交纸质材料");
    if shows(r.w(), "同意使用") {
        press(r.w(), "不同意");
        assert!(shows(
            r.w(),
            "不使用电子证照时，本事项需要携带纸质材料原件到窗口办理。您可以改为同意使用，或结束办理。"
        ));
        press(r.w(), "同意使用");
    } else {
        press(r.w(), "继续办理");
    }
}

#[test]
fn appointment_time_is_picked_on_screen_and_back_returns_to_it() {
    let r = rig(true, false, Duration::from_secs(3600));
    r.start("hf-appointment");
    r.tx.send(DeviceEvent::Scan(yss_code())).unwrap();
    r.wait_for("区政务服务中心");
    press(r.w(), "区政务服务中心");
    press(r.w(), "下一项");
    r.type_keys("13800138000");
    press(r.w(), "填好了，下一步");
    r.wait_for("请选择预约时间");
    // Wait for the times of the first working day, then press the first free one.
    let a = r.w().global::<FlowAdapter>();
    let mut free = None;
    for _ in 0..200 {
        let rows = a.get_slot_rows();
        free = (0..rows.row_count())
            .filter_map(|i| rows.row_data(i))
            .flat_map(|row| (0..row.cells.row_count()).filter_map(move |j| row.cells.row_data(j)))
            .find(|c| c.available);
        if free.is_some() {
            break;
        }
        i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(100));
        std::thread::sleep(Duration::from_millis(10));
    }
    let free = free.expect("a free time on the first working day");
    // Taken times are shown but say so.
    let taken = labels(r.w()).into_iter().any(|l| l.ends_with("已约满"));
    press(r.w(), free.label.as_str());
    r.wait_for("请核对办理信息");
    assert!(shows(r.w(), "预约时间"));
    let slot_day = free.id.split('-').take(3).collect::<Vec<_>>().join("-");
    assert!(
        labels(r.w()).iter().any(|l| l.starts_with(&slot_day)),
        "the chosen day on the confirm screen: {:?}",
        labels(r.w())
    );
    press(r.w(), "上一步");
    r.wait_for("请选择预约时间");
    press(r.w(), free.label.as_str());
    press(r.w(), "确认提交");
    r.wait_for("预约成功");
    let _ = taken;
}

#[test]
fn chinese_is_typed_by_pinyin() {
    let r = rig(true, false, Duration::from_secs(3600));
    r.start("ent-name-declare");
    r.tx.send(DeviceEvent::Scan(yss_code())).unwrap();
    pass_licences(&r);
    r.wait_for("手机号码");
    r.type_keys("13800138000");
    press(r.w(), "下一项");
    r.wait_for("拟用名称");
    let a = r.w().global::<FlowAdapter>();
    assert!(
        a.get_chinese(),
        "a field with a Chinese example starts in pinyin mode"
    );
    for k in ["M", "E", "I"] {
        press(r.w(), k);
    }
    assert_eq!(a.get_pinyin(), "mei");
    let candidates: Vec<String> = a.get_candidates().iter().map(|c| c.to_string()).collect();
    assert!(candidates.contains(&"梅".to_string()), "{candidates:?}");
    press(r.w(), "梅");
    assert_eq!(a.get_field_value(), "梅");
    assert_eq!(a.get_pinyin(), "");
    // A letter that spells no syllable is not taken.
    press(r.w(), "Z");
    press(r.w(), "Z");
    assert_eq!(a.get_pinyin(), "z");
    // 删除 takes back pinyin first, then characters.
    press(r.w(), "删除");
    assert_eq!(a.get_pinyin(), "");
    assert_eq!(a.get_field_value(), "梅");
    // 英 switches to plain letters.
    press(r.w(), "英");
    assert!(!a.get_chinese());
    press(r.w(), "A");
    assert_eq!(a.get_field_value(), "梅A");
}

#[test]
fn el1_codes_at_the_identify_step() {
    use zizhu::elicense::{claims::Field, lid, types, Alg, Licence, PresentationClaims};
    let r = rig(true, false, Duration::from_secs(3600));
    let platform = r._platform.as_ref().unwrap().url();
    let client = Client::new(ClientConfig::new(platform, "t", "TEST")).unwrap();
    let id = zizhu_drivers::idcard::card::with_check_char("44140219800101001");
    let token = client
        .subject(&zizhu::platform::api::SubjectRequest {
            id_number: id.clone(),
            kind: zizhu::platform::api::SubjectKind::Code,
        })
        .unwrap()
        .subject_token;
    let present = |lt: &types::LicenceType, token: Option<&str>| {
        let mut l = Licence::default();
        l.licence_type = lt.code.into();
        l.identifier = lid::build(lt.code, "11440100MB2C00001X", "A0001", "001").unwrap();
        l.holder_name = Some("黄*明".into());
        l.holder_id = Some(zizhu_drivers::privacy::mask(&id));
        if let Some(t) = token {
            l.disclosed = vec![Field {
                name: "subject_token".into(),
                value: t.into(),
            }];
        }
        zizhu::elicense::issue_presentation(
            &zizhu::elicense::demo::issuer(Alg::Sm2).unwrap(),
            &PresentationClaims {
                licence: l,
                iat: chrono::Utc::now().timestamp(),
                ttl: 300,
                aud: None,
                cti: None,
            },
        )
        .unwrap()
    };
    r.start("ps-idcard-lost");
    // A marriage certificate is a licence, not an identity.
    r.tx.send(DeviceEvent::Scan(present(
        &types::MARRIAGE_CERTIFICATE,
        Some(&token),
    )))
    .unwrap();
    r.wait_for("这是“结婚证”的证照码，不能用来认证身份。请出示身份码，或放置身份证。");
    // Random text from the scanner gets a plain message too.
    r.tx.send(DeviceEvent::Scan("EL1:%%%not-base45".into()))
        .unwrap();
    r.wait_for("没有读清楚这个码，请把手机拿稳，重新扫码。");
    // The identity presentation (SM2) identifies the citizen offline and the visit goes on.
    let code = present(&types::IDENTITY_CARD, Some(&token));
    r.tx.send(DeviceEvent::Scan(code.clone())).unwrap();
    r.wait_for("手机号码");
    for l in labels(r.w()) {
        assert!(!l.contains(&id), "full ID number on screen: {l}");
    }
}

/// The simulated kiosk (`zizhu run` without a config) as a person trying it on a workstation
/// sees it: the "simulated devices" buttons drive the in-process simulators, and what follows
/// goes through the real drivers, the verifier and the demo platform.
#[test]
fn simulation_buttons_play_the_card_the_code_and_the_phone() {
    use zizhu::config::Config;
    use zizhu::runtime::{Overrides, Runtime};
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::simulation();
    config.data_dir = dir.path().join("data");
    std::fs::create_dir_all(&config.data_dir).unwrap();
    let (tx, rx) = mpsc::channel();
    let rt = Arc::new(Runtime::start(config, &Overrides::default(), tx).expect("runtime"));
    let ui = KioskUi::new(Options::default()).unwrap();
    ui.window().show().unwrap();
    let flow = Rc::new(FlowUi::attach(
        &ui,
        FlowContext {
            client: rt.client.clone(),
            journal: Some(rt.journal.clone()),
            printer: zizhu::kiosk::flow::runtime_printer(&rt),
            events: Some(rx),
            kiosk_id: "SIM".into(),
            verifier: Some(rt.verifier.clone()),
            sim: Some(zizhu::kiosk::flow::sim_hooks(&rt)),
        },
    ));
    let help = HelpUi::attach(
        &ui,
        HelpContext {
            desk: Arc::new(HelpDesk::new(rt.journal.clone(), rt.client.clone(), "SIM")),
            status: Some(rt.state.clone()),
            site: rt.config.site.clone(),
            config: rt.config.help.clone(),
            poll: Duration::from_secs(3),
        },
        Some(flow.clone()),
    );
    let (dtx, _drx) = mpsc::channel();
    let r = Rig {
        ui,
        flow,
        help,
        status: rt.state.clone(),
        journal: rt.journal.clone(),
        tx: dtx,
        printer: None,
        _platform: None,
        _dir: dir,
    };
    // A card on the simulated reader identifies the citizen.
    r.start("ps-idcard-lost");
    assert!(shows(r.w(), "模拟设备（仅演示，真机不显示）"));
    press(r.w(), "放置样例身份证");
    r.wait_for("手机号码");
    press(r.w(), "首页");
    // The e-ID code from the "phone" is verified on the kiosk (EL1) and skips the face check.
    r.start("hf-appointment");
    press(r.w(), "出示电子身份码");
    r.wait_for("区政务服务中心");
    press(r.w(), "首页");
    // A card for a face-check service: the "phone" passes the face check.
    r.start("ss-insured-cert-print");
    press(r.w(), "放置样例身份证");
    r.wait_for("请用粤省事扫码刷脸");
    for _ in 0..50 {
        if r.flow.qr_link().is_some() {
            break;
        }
        i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(100));
    }
    press(r.w(), "模拟手机：完成刷脸");
    let mut step = None;
    for _ in 0..100 {
        step = r.flow.step();
        if step.is_some_and(|s| s != zizhu::flow::Step::FaceCheck) {
            break;
        }
        i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(100));
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        matches!(
            step,
            Some(zizhu::flow::Step::Form | zizhu::flow::Step::Confirm)
        ),
        "the face check passed: {step:?}"
    );
    drop(r);
    drop(rt);
}

/// What reached the demo platform: its help requests, oldest first.
fn help_requests(r: &Rig) -> Vec<zizhu::platform::api::HelpEntry> {
    let url = r._platform.as_ref().expect("platform").url();
    let mut cc = ClientConfig::new(url, "t", "STAFF");
    cc.timeout = Duration::from_secs(2);
    Client::new(cc).unwrap().help_list(false).unwrap().requests
}

impl Rig {
    /// Presses 呼叫帮助 and waits until the request is stored ("已通知工作人员").
    fn call_for_help(&self) {
        press(self.w(), "呼叫帮助");
        self.wait_for("已通知工作人员");
        assert!(self.help.pending());
        assert!(self.status.snapshot().help_pending);
        assert!(shows(self.w(), "也可拨打政务服务热线 0753-12345"));
        assert!(shows(self.w(), "视频求助二维码"));
    }
}

#[test]
fn help_from_home_is_acknowledged_by_staff_and_the_kiosk_says_they_are_coming() {
    let r = rig(true, false, Duration::from_secs(3600));
    r.ui.show_screen(&ScreenSpec::new(ScreenId::Home)).unwrap();
    settle();
    r.call_for_help();
    let sent = help_requests(&r);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let h = &sent[0];
    assert_eq!(h.kiosk_id, "TEST");
    assert_eq!(h.request.screen, "home");
    assert_eq!(h.request.site, "测试站");
    assert_eq!(h.request.service_id, None);
    assert_eq!(h.state, zizhu::platform::api::HelpState::Open);
    // Pressing again shows the same request: nothing new is raised.
    press(r.w(), "继续办理");
    assert!(!shows(r.w(), "已通知工作人员"));
    press(r.w(), "呼叫帮助");
    assert!(shows(r.w(), "已通知工作人员"));
    assert_eq!(help_requests(&r).len(), 1);
    // Staff take it on the platform; the kiosk notices on its next question.
    let url = r._platform.as_ref().unwrap().url();
    let staff = Client::new(ClientConfig::new(url, "t", "STAFF")).unwrap();
    let acked = staff.help_ack(&h.help_id, Some("0012")).unwrap();
    assert_eq!(acked.state, zizhu::platform::api::HelpState::Acknowledged);
    r.wait_for("工作人员正在赶来");
    assert!(!r.status.snapshot().help_pending);
    assert_eq!(r.status.snapshot().counters.help_requests, 1);
    let audit: Vec<String> = r
        .journal
        .audit_log(10)
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert!(audit.contains(&"help.call".to_string()), "{audit:?}");
    assert!(audit.contains(&"help.ack".to_string()), "{audit:?}");
}

#[test]
fn help_from_a_form_step_names_the_step_and_service_and_cancel_reaches_the_platform() {
    let r = rig(true, false, Duration::from_secs(3600));
    r.start("ps-idcard-lost");
    let card = resident();
    r.card(card.clone());
    r.wait_for("手机号码");
    r.type_keys("1380013800");
    press(r.w(), "填好了，下一步");
    r.call_for_help();
    let sent = help_requests(&r);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].request.screen, "form");
    assert_eq!(
        sent[0].request.service_id.as_deref(),
        Some("ps-idcard-lost")
    );
    assert_eq!(sent[0].request.last_error.as_deref(), Some("step"));
    // Nothing personal went out: no ID number, name or typed phone number in what was sent.
    let json = serde_json::to_string(&sent).unwrap();
    for secret in [card.id_number.as_str(), card.name.as_str(), "1380013800"] {
        assert!(!json.contains(secret), "{secret} sent: {json}");
    }
    press(r.w(), "取消呼叫");
    assert!(!r.help.pending());
    assert!(!r.status.snapshot().help_pending);
    for _ in 0..100 {
        if help_requests(&r)[0].state == zizhu::platform::api::HelpState::Cancelled {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        help_requests(&r)[0].state,
        zizhu::platform::api::HelpState::Cancelled
    );
    // The form is still there to finish.
    assert!(shows(r.w(), "填好了，下一步"));
}

#[test]
fn help_from_the_payment_screen_in_elderly_mode() {
    let r = rig(true, false, Duration::from_secs(3600));
    r.ui.set_elderly(true);
    r.start("mi-resident-pay");
    assert!(r.w().global::<AppState>().get_elderly());
    r.card(resident());
    let field = &Catalog::builtin()
        .service("mi-resident-pay")
        .unwrap()
        .fields[0];
    r.wait_for(&field.zh);
    press(r.w(), &field.options[0].zh);
    press(r.w(), "填好了，下一步");
    press(r.w(), "确认提交");
    r.wait_for("请扫码支付");
    // The button is at least the elderly touch target.
    let button =
        i_slint_backend_testing::ElementHandle::find_by_accessible_label(r.w(), "呼叫帮助")
            .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
            .expect("help button");
    assert!(button.size().height >= 140.0, "{:?}", button.size());
    r.call_for_help();
    let sent = help_requests(&r);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].request.screen, "payment");
    assert_eq!(
        sent[0].request.service_id.as_deref(),
        Some("mi-resident-pay")
    );
    // Browsing on keeps it (the citizen is still here) …
    press(r.w(), "继续办理");
    press(r.w(), "首页");
    assert!(r.status.snapshot().help_pending);
    assert!(shows(r.w(), "已呼叫"));
    // … the end of the visit (the idle timeout) cancels the request still waiting.
    r.w().global::<AppState>().invoke_session_ended();
    settle();
    assert!(!r.status.snapshot().help_pending);
    for _ in 0..100 {
        if help_requests(&r)[0].state == zizhu::platform::api::HelpState::Cancelled {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        help_requests(&r)[0].state,
        zizhu::platform::api::HelpState::Cancelled
    );
}

#[test]
fn help_while_the_platform_is_down_is_kept_and_shown_on_status() {
    let r = rig(false, false, Duration::from_secs(3600));
    r.ui.show_screen(&ScreenSpec::new(ScreenId::Search))
        .unwrap();
    settle();
    r.call_for_help();
    // Stored, not delivered: the outbox keeps it for the drain (queued, or being tried).
    let counts = r.journal.counts().unwrap();
    assert_eq!(counts.backlog(), 1, "{counts:?}");
    assert_eq!(counts.done, 0, "{counts:?}");
    let snap = r.status.snapshot();
    assert!(snap.help_pending && snap.help_pending_since_unix.is_some());
}

#[test]
fn a_one_thing_on_screen_asks_once_and_shows_each_member() {
    let r = rig(true, false, Duration::from_secs(3600));
    let one = zizhu::catalog::Catalog::builtin()
        .service("ot-newborn")
        .expect("新生儿出生一件事");
    r.start(&one.id);
    r.tx.send(DeviceEvent::Scan(yss_code())).unwrap();
    pass_licences(&r);
    // The merged form: two fields (the phone number and the optional date, each once for the
    // three members, who have six between them).
    r.wait_for("手机号码");
    assert!(shows(r.w(), "第 1 项，共 2 项"));
    r.type_keys("13800138000");
    press(r.w(), "下一项");
    assert!(shows(r.w(), "第 2 项，共 2 项"));
    press(r.w(), "填好了，下一步");
    press(r.w(), "同意并继续");
    r.wait_for("请核对办理信息");
    press(r.w(), "确认提交");
    r.wait_for("已为您一次提交全部事项");
    let a = r.w().global::<FlowAdapter>();
    let rows: Vec<(String, String)> = (0..a.get_items().row_count())
        .filter_map(|i| a.get_items().row_data(i))
        .map(|row| (row.label.to_string(), row.value.to_string()))
        .collect();
    assert_eq!(rows.len(), one.members.len(), "{rows:?}");
    for (m, (label, value)) in one.members.iter().zip(&rows) {
        assert_eq!(label, &m.zh);
        assert!(value.starts_with("已受理，办件编号"), "{label}: {value}");
        assert!(shows(r.w(), value), "{value} not on screen");
    }
}

// Voice guidance on screen: the real `VoiceUi` with a real `Voice` playing through an ALSA
// configuration whose PCM is the `file` plugin (tests/voice.rs), driven by presses.

/// The rig's window with a voice attached, playing on the test PCM `device`; the WAV it writes.
fn voiced(r: &Rig, device: &str) -> (zizhu::kiosk::VoiceUi, std::path::PathBuf) {
    let wav = crate::voice::alsa_file(device);
    let config = zizhu::voice::VoiceConfig {
        device: device.into(),
        packs: Vec::new(),
        packs_default: false,
        ..Default::default()
    };
    let voice = zizhu::voice::Voice::start(&config, zizhu::catalog::Lang::Zh, None);
    let v = zizhu::kiosk::VoiceUi::attach(&r.ui, voice, Some(&r.flow));
    (v, wav)
}

const SPOKEN: Duration = Duration::from_secs(120);

/// The newest call to the voice: waits until it is played to the end and returns what was said.
fn said(v: &zizhu::kiosk::VoiceUi) -> zizhu::voice::Said {
    let (ticket, id) = *v.spoken().last().expect("something spoken");
    assert!(v.voice().wait_done(ticket, SPOKEN), "{id} not done");
    v.voice()
        .said(ticket)
        .unwrap_or_else(|| panic!("{id} was not spoken to the end"))
}

#[test]
fn every_step_of_a_visit_is_spoken_and_nothing_personal_is_said() {
    let r = rig(true, false, Duration::from_secs(3600));
    let (v, wav) = voiced(&r, "uivoice");
    assert_eq!(said(&v).id, "attract");
    let mut words = Vec::new();
    let mut step = |expect: &str| {
        let s = said(&v);
        assert_eq!(s.id, expect, "{:?}", v.spoken());
        let (secs, rms) = crate::voice::sox_measure(&wav);
        assert!(secs > 0.5 && rms > -35.0, "{expect}: {secs} s, {rms} dB");
        words.push(s.words);
    };
    press(r.w(), "点击开始办理");
    step("home");
    r.start("ps-idcard-lost");
    step("identify-card");
    let card = resident();
    r.card(card.clone());
    r.wait_for("手机号码");
    step("form");
    r.type_keys("13800138000");
    // Typing is not a new screen: nothing more is said.
    assert_eq!(v.spoken().last().unwrap().1, "form");
    press(r.w(), "填好了，下一步");
    step("commitment");
    press(r.w(), "同意并继续");
    step("confirm");
    press(r.w(), "确认提交");
    r.wait_for("打印凭条");
    step("result");
    press(r.w(), "完成");
    step("rating");
    press(r.w(), "跳过");
    r.wait_for("请取走您的身份证和凭条");
    step("goodbye");
    press(r.w(), "返回首页");
    step("attract");
    let ids: Vec<&str> = v.spoken().iter().map(|(_, id)| *id).collect();
    assert_eq!(
        ids,
        [
            "attract",
            "home",
            "detail",
            "identify-card",
            "form",
            "commitment",
            "confirm",
            "result",
            "rating",
            "goodbye",
            "attract"
        ]
    );
    let secret = [
        card.name.clone(),
        card.id_number.clone(),
        card.id_number[card.id_number.len() - 6..].to_string(),
        card.address.clone().unwrap_or_default(),
        "13800138000".to_string(),
        "138 0013 8000".to_string(),
    ];
    for w in &words {
        for s in secret.iter().filter(|s| !s.is_empty()) {
            assert!(!w.contains(s.as_str()), "personal data spoken: {w}");
        }
    }
}

#[test]
fn a_new_screen_cuts_the_old_prompt_and_repeat_language_and_mute_work() {
    let r = rig(true, false, Duration::from_secs(30));
    let (v, wav) = voiced(&r, "uivoice2");
    let voice = v.voice().clone();
    r.start("ps-idcard-lost");
    r.card(resident());
    r.wait_for("手机号码");
    r.type_keys("13800138000");
    // The commitment is some twenty seconds of speech; the next screen comes at once.
    press(r.w(), "填好了，下一步");
    let (long, id) = *v.spoken().last().unwrap();
    assert_eq!(id, "commitment");
    press(r.w(), "同意并继续");
    let confirm = said(&v);
    assert_eq!(confirm.id, "confirm");
    assert_eq!(voice.said(long), None, "the commitment must not play on");
    let (secs, _) = crate::voice::sox_measure(&wav);
    assert!(secs < 8.0, "only the confirm prompt was played: {secs} s");

    // 再听一遍 says the screen again.
    press(r.w(), "再听一遍");
    let again = said(&v);
    assert_eq!(again, confirm);

    // The voice panel: 粤语 is heard at once, and stays for the next screens.
    press(r.w(), "语音");
    assert!(r.w().global::<zizhu::ui::VoiceAdapter>().get_panel_open());
    press(r.w(), "粤语");
    assert_eq!(
        voice.settings().chinese,
        zizhu::voice::VoiceLanguage::Cantonese
    );
    assert_eq!(r.w().global::<zizhu::ui::VoiceAdapter>().get_language(), 1);
    assert_eq!(said(&v).id, "confirm");
    press(r.w(), "调小音量");
    assert_eq!(voice.settings().volume, 70);
    assert_eq!(r.w().global::<zizhu::ui::VoiceAdapter>().get_volume(), 70);
    press(r.w(), "关闭");
    // English on screen: English spoken, the same step said again.
    press(r.w(), "English");
    let en = said(&v);
    assert_eq!(en.id, "confirm");
    let chinese = |c: char| ('\u{3400}'..='\u{9fff}').contains(&c);
    assert!(
        !en.words.chars().any(chinese) && en.words.contains("check"),
        "{}",
        en.words
    );
    press(r.w(), "中文");
    let zh = said(&v);
    assert_eq!((zh.id, zh.words), (confirm.id, confirm.words.clone()));

    // Mute: nothing reaches the sound card.
    press(r.w(), "语音");
    press(r.w(), "静音");
    assert!(voice.settings().muted);
    press(r.w(), "关闭");
    std::fs::remove_file(&wav).unwrap();
    press(r.w(), "返回");
    let (ticket, id) = *v.spoken().last().unwrap();
    assert_ne!(id, "confirm");
    assert!(voice.wait_done(ticket, SPOKEN));
    assert_eq!(voice.said(ticket), None);
    assert!(!wav.exists(), "muted speech reached ALSA");

    // 长者模式 turns speech back on, louder.
    press(r.w(), "长者模式");
    let s = voice.settings();
    assert!(s.elder && !s.muted && s.volume >= 70, "{s:?}");
    assert!(!r.w().global::<zizhu::ui::VoiceAdapter>().get_muted());

    // The idle countdown is spoken; the session's end resets the visitor's choices.
    let tick = || i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
    for _ in 0..20 {
        tick();
        if shows(r.w(), "您还在办理吗？") {
            break;
        }
    }
    assert!(shows(r.w(), "您还在办理吗？"));
    let countdown = said(&v);
    assert_eq!(countdown.id, "idle-countdown");
    assert!(countdown.words.contains("10 秒后"), "{}", countdown.words);
    for _ in 0..12 {
        tick();
    }
    assert_eq!(r.w().global::<AppState>().get_screen(), Screen::Attract);
    assert_eq!(said(&v).id, "attract");
    let s = voice.settings();
    assert_eq!(
        (s.chinese, s.volume, s.muted, s.elder),
        (zizhu::voice::VoiceLanguage::Mandarin, 80, false, false)
    );
    assert_eq!(r.w().global::<zizhu::ui::VoiceAdapter>().get_language(), 0);
}

#[test]
fn help_is_shown_as_sent_before_a_slow_platform_answers() {
    let r = rig(true, false, Duration::from_secs(3600));
    // Every platform call takes 5 s: the request is stored at once, the platform's copy later.
    let demo = r._platform.as_ref().expect("platform");
    demo.state().set_faults(zizhu::platform::api::Faults {
        latency_ms: 5_000,
        ..Default::default()
    });
    r.ui.show_screen(&ScreenSpec::new(ScreenId::Home)).unwrap();
    settle();
    press(r.w(), "呼叫帮助");
    r.wait_for("已通知工作人员");
    assert!(r.status.snapshot().help_pending);
    assert_eq!(
        demo.state().count("help"),
        0,
        "shown as sent while the platform has not answered yet"
    );
    assert_eq!(
        r.journal.counts().unwrap().backlog(),
        1,
        "kept in the outbox"
    );
}
