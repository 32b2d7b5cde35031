//! Call for help when the journal's disk is full: the real `KioskUi` with `HelpUi` on Slint's
//! testing backend, the journal on a small real tmpfs that is filled up (util::disk; the test
//! runs again in a mount namespace of its own, where that tmpfs is mounted), the demo
//! platform on loopback. The citizen gets a plain message with the hotline, nothing is sent that
//! was not kept, nothing crashes, and once there is room again the next press works.
use std::sync::Arc;
use std::time::Duration;

use slint::ComponentHandle;

use crate::util::disk;
use crate::util::screen::{labels, press, settle, shows};
use zizhu::help::HelpDesk;
use zizhu::journal::Journal;
use zizhu::kiosk::{HelpContext, HelpUi, KioskUi, Options, ScreenId, ScreenSpec};
use zizhu::platform::{demo, Client, ClientConfig};
use zizhu::status::StatusState;
use zizhu::ui::KioskWindow;

fn wait_for(w: &KioskWindow, text: &str) {
    for _ in 0..400 {
        if shows(w, text) {
            return;
        }
        i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(100));
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out waiting for {text:?}; on screen: {:?}", labels(w));
}

#[test]
fn help_while_the_journal_disk_is_full_says_so_plainly_and_works_again_once_there_is_room() {
    disk::in_small_disk("help::full_disk_inner", 4 << 20);
}

#[test]
#[ignore = "run in a namespace with a small disk by help_while_the_journal_disk_is_full_…"]
fn full_disk_inner() {
    i_slint_backend_testing::init_no_event_loop();
    let dir = disk::small_disk();
    let platform = demo::spawn("127.0.0.1:0".parse().unwrap(), None).unwrap();
    let mut cc = ClientConfig::new(platform.url(), "t", "TEST");
    cc.timeout = Duration::from_secs(2);
    let client = Arc::new(Client::new(cc).unwrap());
    let staff = Client::new(ClientConfig::new(platform.url(), "t", "STAFF")).unwrap();
    let journal = Arc::new(Journal::open(&dir).expect("journal on the small disk"));
    let status = StatusState::new("TEST", "测试站");
    let ui = KioskUi::new(Options {
        idle_timeout: Duration::from_secs(3600),
        ..Options::default()
    })
    .unwrap();
    ui.window().show().unwrap();
    let help = HelpUi::attach(
        &ui,
        HelpContext {
            desk: Arc::new(HelpDesk::new(journal.clone(), client, "TEST")),
            status: Some(status.clone()),
            site: "测试站".into(),
            config: zizhu::config::HelpConfig {
                hotline: "0753-12345".into(),
                video_url: None,
            },
            poll: Duration::from_millis(300),
        },
        None,
    );
    ui.show_screen(&ScreenSpec::new(ScreenId::Home)).unwrap();
    settle();
    let w = ui.window();

    // The write-ahead log checkpointed and truncated (as after a restart), then the card full:
    // the next write has to grow a file, and cannot.
    let db = rusqlite::Connection::open(dir.join(zizhu::journal::DB_FILE)).unwrap();
    db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(db);
    disk::fill(&dir);
    press(w, "呼叫帮助");
    wait_for(w, "呼叫未能发出");
    assert!(
        shows(w, "请直接联系现场工作人员，或拨打热线 0753-12345。"),
        "{:?}",
        labels(w)
    );
    assert!(!help.pending());
    let snap = status.snapshot();
    assert!(
        !snap.help_pending,
        "nothing was kept, so nothing is pending"
    );
    assert_eq!(snap.counters.help_requests, 0);
    assert_eq!(snap.counters.errors.get("journal"), Some(&1), "{snap:?}");
    assert!(
        staff.help_list(false).unwrap().requests.is_empty(),
        "a request the journal did not keep must not be sent"
    );

    // Room again (a technician cleared the card): the next press raises the request.
    disk::free(&dir);
    press(w, "关闭");
    assert!(!shows(w, "呼叫未能发出"));
    press(w, "呼叫帮助");
    wait_for(w, "已通知工作人员");
    assert!(help.pending());
    assert!(status.snapshot().help_pending);
    for _ in 0..200 {
        if !staff.help_list(false).unwrap().requests.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = staff.help_list(false).unwrap().requests;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].request.screen, "home");
    let audit: Vec<(String, Option<String>)> = journal
        .audit_log(10)
        .unwrap()
        .into_iter()
        .map(|a| (a.action, a.detail))
        .collect();
    assert!(
        audit.contains(&("help.call".to_string(), Some("home".to_string()))),
        "{audit:?}"
    );
    drop(help);
    drop(ui);
    drop(journal);
}
