//! Headless UI tests. In-process tests drive the real `KioskUi` on Slint's testing backend (no
//! pixels; elements found by accessible label and role) through the visitor's paths: attract →
//! home → category → detail → back, search by initials and by English, elderly mode, language,
//! and the idle timeout. Picture tests run the real binary (`zizhu screenshot`, software
//! renderer) and look at the pixels: not blank, and rare name characters drawn with ink.
use std::path::Path;
use std::time::Duration;

use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementRoot};
use slint::ComponentHandle;
use zizhu::catalog::{Catalog, Lang};
use zizhu::kiosk::{KioskUi, Options, ScreenId};
use zizhu::ui::{AppState, KioskWindow, Screen, SearchAdapter};

use crate::util;

fn kiosk(options: Options) -> KioskUi {
    i_slint_backend_testing::init_no_event_loop();
    let ui = KioskUi::new(options).expect("kiosk UI");
    ui.window().show().expect("show");
    ui
}

/// Lets Slint settle (instantiates new screens, runs due timers).
fn settle() {
    i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(0));
}

/// Elements acting as buttons (or tabs) with this accessible label.
fn buttons(w: &KioskWindow, label: &str) -> Vec<ElementHandle> {
    ElementHandle::find_by_accessible_label(w, label)
        .filter(|e| {
            matches!(
                e.accessible_role(),
                Some(AccessibleRole::Button) | Some(AccessibleRole::Tab)
            )
        })
        .collect()
}

/// Presses the one button with this label.
fn press(w: &KioskWindow, label: &str) {
    let hits = buttons(w, label);
    assert_eq!(
        hits.len(),
        1,
        "expected one button labelled {label:?}, found {}",
        hits.len()
    );
    hits[0].invoke_accessible_default_action();
    settle();
}

/// Whether some element shows or announces exactly this text.
fn shows(w: &KioskWindow, text: &str) -> bool {
    ElementHandle::find_by_accessible_label(w, text)
        .next()
        .is_some()
}

/// Labels of every button and tab on screen.
fn button_labels(w: &KioskWindow) -> Vec<String> {
    let mut v = Vec::new();
    for role in [AccessibleRole::Button, AccessibleRole::Tab] {
        for e in w
            .root_element()
            .query_descendants()
            .match_accessible_role(role)
            .find_all()
        {
            v.push(
                e.accessible_label()
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
            );
        }
    }
    v
}

fn screen(ui: &KioskUi) -> Screen {
    ui.window().global::<AppState>().get_screen()
}

#[test]
fn attract_home_category_detail_and_back() {
    let ui = kiosk(Options::default());
    let w = ui.window();
    settle();
    assert_eq!(screen(&ui), Screen::Attract);
    assert!(shows(w, "政务服务 一机通办"));
    press(w, "点击开始办理");
    assert_eq!(screen(&ui), Screen::Home);
    // Home: the search bar, category cells, "all services", most-used tiles.
    let catalog = Catalog::builtin();
    assert!(!buttons(w, "搜索事项").is_empty());
    assert_eq!(buttons(w, "全部服务").len(), 1);
    let tile = zizhu::kiosk::adapters::home_tiles(&ui.catalog(), 8)[0];
    assert_eq!(buttons(w, &tile.zh).len(), 1, "tile {}", tile.zh);
    assert!(!shows(w, "点击开始办理"), "attract screen is gone");

    press(w, "社会保险");
    assert_eq!(screen(&ui), Screen::Category);
    let tab = buttons(w, "社会保险");
    assert_eq!(tab.len(), 1);
    assert_eq!(tab[0].accessible_role(), Some(AccessibleRole::Tab));
    assert_eq!(tab[0].accessible_item_selected(), Some(true));
    let in_cat = catalog.in_category("social-security");
    assert!(shows(w, &format!("共 {} 项", in_cat.len())));
    let first = &in_cat[0];
    assert_eq!(buttons(w, &first.zh).len(), 1, "row {}", first.zh);
    // Rows of another category are not there.
    let tax = &catalog.in_category("tax")[0];
    assert!(buttons(w, &tax.zh).is_empty());

    // Paging goes through every service of the "all" tab.
    press(w, "全部服务");
    let total = catalog.services().len();
    assert!(shows(w, &format!("共 {total} 项")));
    let per = zizhu::kiosk::Sizes::for_mode(false).list_rows;
    let pages = total.div_ceil(per);
    assert!(shows(w, &format!("1 / {pages}")));
    for _ in 1..pages {
        press(w, "下一页");
    }
    assert!(shows(w, &format!("{pages} / {pages}")));
    let last = catalog.services().last().expect("services");
    assert_eq!(
        buttons(w, &last.zh).len(),
        1,
        "last service {} on the last page",
        last.zh
    );
    assert_eq!(buttons(w, "下一页")[0].accessible_enabled(), Some(false));

    press(w, "社会保险");
    press(w, &first.zh);
    assert_eq!(screen(&ui), Screen::Detail);
    assert!(shows(w, &first.zh));
    assert!(shows(w, &first.summary_zh));
    assert!(shows(w, &first.department_zh));
    assert!(shows(w, first.auth.label(Lang::Zh)));
    assert!(shows(w, first.output.label(Lang::Zh)));
    for lic in &first.elicense {
        let name = &catalog.licence(lic).expect("licence").zh;
        assert!(shows(w, name), "licence {name}");
    }
    assert_eq!(buttons(w, "开始办理").len(), 1);

    press(w, "返回");
    assert_eq!(screen(&ui), Screen::Category);
    assert_eq!(buttons(w, &first.zh).len(), 1);
    press(w, "返回");
    assert_eq!(screen(&ui), Screen::Home);
    assert!(buttons(w, "返回").is_empty(), "no back button on home");
}

#[test]
fn search_by_initials_and_by_english() {
    let ui = kiosk(Options::default());
    let w = ui.window();
    press(w, "点击开始办理");
    press(w, "搜索事项");
    assert_eq!(screen(&ui), Screen::Search);
    let catalog = Catalog::builtin();
    let search = w.global::<SearchAdapter>();

    for k in ["S", "B", "C", "X"] {
        press(w, k);
    }
    assert_eq!(search.get_query(), "SBCX");
    let hits = catalog.search("sbcx");
    assert!(!hits.is_empty());
    let best = &catalog.services()[hits[0].pos];
    assert!(shows(w, &format!("找到 {} 项", hits.len())));
    assert_eq!(buttons(w, &best.zh).len(), 1, "best hit {}", best.zh);
    assert!(
        best.zh.contains("社保") || best.category == "social-security",
        "{}",
        best.zh
    );

    press(w, "删除");
    assert_eq!(search.get_query(), "SBC");
    press(w, "清空");
    assert_eq!(search.get_query(), "");

    for k in ["B", "I", "R", "T", "H"] {
        press(w, k);
    }
    let hits = catalog.search("birth");
    assert!(!hits.is_empty(), "english search finds something");
    let best = &catalog.services()[hits[0].pos];
    assert!(best.en.to_lowercase().contains("birth"), "{}", best.en);
    assert_eq!(buttons(w, &best.zh).len(), 1, "best hit {}", best.zh);

    // Nothing found says so.
    press(w, "清空");
    for k in ["Q", "Q", "Q", "Q", "Q", "Q"] {
        press(w, k);
    }
    assert!(shows(w, "没有找到相关事项，请换个关键词"));

    // A result opens its detail screen; back returns to the search.
    press(w, "清空");
    for k in ["G", "J", "J"] {
        press(w, k);
    }
    let hits = catalog.search("gjj");
    let best = &catalog.services()[hits[0].pos];
    press(w, &best.zh);
    assert_eq!(screen(&ui), Screen::Detail);
    press(w, "返回");
    assert_eq!(screen(&ui), Screen::Search);
    assert_eq!(search.get_query(), "GJJ");
}

#[test]
fn elderly_mode_and_language_switch() {
    let ui = kiosk(Options::default());
    let w = ui.window();
    press(w, "点击开始办理");
    let normal = button_labels(w).len();
    let toggle = buttons(w, "长者模式");
    assert_eq!(toggle[0].accessible_checked(), Some(false));

    press(w, "长者模式");
    assert!(ui.session().elderly);
    assert_eq!(buttons(w, "长者模式")[0].accessible_checked(), Some(true));
    let elderly = button_labels(w).len();
    assert!(
        elderly < normal,
        "elderly home has fewer targets ({elderly} vs {normal})"
    );
    assert_eq!(
        buttons(w, "全部服务").len(),
        1,
        "every service stays reachable"
    );
    // Elderly mode: bigger text and targets (checked on the element sizes).
    let tile = &buttons(w, "全部服务")[0];
    assert!(tile.size().height >= 140.0, "{:?}", tile.size());
    let big = buttons(w, "长者模式")[0].size().height;
    assert!(big >= 140.0, "{big}");

    // The elderly keyboard: alphabetical, 140 px keys, digits behind a switch.
    press(w, "搜索事项");
    assert!(buttons(w, "A")[0].size().width >= 140.0);
    assert!(buttons(w, "1").is_empty());
    press(w, "123");
    assert_eq!(buttons(w, "1").len(), 1);
    press(w, "ABC");
    press(w, "首页");

    press(w, "长者模式");
    assert!(!ui.session().elderly);
    assert_eq!(button_labels(w).len(), normal);

    // English: static strings through the bundled translation, catalog text from the catalog.
    press(w, "English");
    assert_eq!(ui.session().lang, Lang::En);
    assert_eq!(buttons(w, "中文").len(), 1);
    assert!(buttons(w, "English").is_empty());
    assert_eq!(buttons(w, "Elderly mode").len(), 1);
    assert_eq!(buttons(w, "Search services").len(), 1);
    assert_eq!(buttons(w, "All services").len(), 1);
    assert_eq!(buttons(w, "Social insurance").len(), 1);
    assert!(shows(w, "Hello, please choose a service"));
    // No Chinese left on any button but the switch back to Chinese.
    for label in button_labels(w) {
        if label != "中文" {
            assert!(label.is_ascii(), "untranslated button {label:?}");
        }
    }
    press(w, "Social insurance");
    let first = &Catalog::builtin().in_category("social-security")[0];
    press(w, &first.en);
    assert!(shows(w, &first.summary_en));
    assert_eq!(buttons(w, "Start").len(), 1);
    press(w, "Back");
    press(w, "中文");
    assert_eq!(ui.session().lang, Lang::Zh);
    assert_eq!(buttons(w, "社会保险").len(), 1);
}

#[test]
fn idle_timeout_counts_down_and_clears_the_session() {
    let ui = kiosk(Options {
        idle_timeout: Duration::from_secs(20),
        ..Options::default()
    });
    let w = ui.window();
    let st = w.global::<AppState>();
    press(w, "点击开始办理");
    press(w, "English");
    press(w, "Elderly mode");
    press(w, "Search services");
    for k in ["G", "J", "J"] {
        press(w, k);
    }
    assert_eq!(st.get_idle_remaining(), 20);
    let tick = || i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
    for _ in 0..9 {
        tick();
    }
    assert_eq!(st.get_idle_remaining(), 11);
    assert!(!shows(w, "Are you still there?"));
    tick();
    assert!(
        shows(w, "Are you still there?"),
        "countdown shown for the last 10 s"
    );
    assert!(shows(w, "10 seconds left"));
    // A touch keeps the session.
    press(w, "Continue");
    assert_eq!(st.get_idle_remaining(), 20);
    assert!(!shows(w, "Are you still there?"));
    assert_eq!(screen(&ui), Screen::Search);
    for _ in 0..20 {
        tick();
    }
    assert_eq!(screen(&ui), Screen::Attract);
    let s = ui.session();
    assert_eq!(s.screen, ScreenId::Attract);
    assert!(s.query.is_empty(), "query cleared");
    assert_eq!(s.lang, Lang::Zh, "back to the configured language");
    assert!(!s.elderly, "back to the configured mode");
    assert_eq!(w.global::<SearchAdapter>().get_query(), "");
    assert!(shows(w, "点击开始办理"));
    // The countdown does not run on the attract screen.
    for _ in 0..30 {
        tick();
    }
    assert_eq!(screen(&ui), Screen::Attract);
    assert_eq!(st.get_idle_remaining(), 20);
}

#[test]
fn a_site_profile_limits_home_and_search_and_a_new_catalog_waits_for_the_next_visit() {
    use std::sync::Arc;
    use zizhu::catalog::bundle::{sign, BundleContent};
    use zizhu::catalog::live::{Live, Offered};
    use zizhu::elicense::{Alg, SecretKey};

    let key = SecretKey::from_seed(Alg::Es256, "ui catalog").expect("key");
    let live = Arc::new(Live::embedded(vec![key.public_key()], Some("village")).expect("profile"));
    let ui = kiosk(Options {
        catalog: Some(live.clone()),
        ..Options::default()
    });
    let w = ui.window();
    let catalog = Catalog::builtin();
    let village = catalog.profile("village").expect("village profile");
    let first = catalog
        .service(&village.services[0])
        .expect("first service");
    press(w, "点击开始办理");
    // Home: the profile's first service is the first tile; "all services" counts only what
    // this station offers.
    assert_eq!(buttons(w, &first.zh).len(), 1, "tile {}", first.zh);
    let offered = ui.catalog().offer.len();
    assert!(offered < catalog.services().len());
    press(w, "全部服务");
    assert_eq!(
        zizhu::kiosk::session::Session::pages(offered, ui.session().sizes().list_rows),
        ui.window().global::<zizhu::ui::ListAdapter>().get_pages() as usize
    );
    assert_eq!(
        ui.window().global::<zizhu::ui::ListAdapter>().get_total() as usize,
        offered
    );
    press(w, "返回");
    // Search: housing-fund services are not offered at a village station: no result rows, and
    // the line that says where to go.
    press(w, "搜索事项");
    for k in ["G", "J", "J"] {
        press(w, k);
    }
    let search = w.global::<SearchAdapter>();
    assert_eq!(search.get_total(), 0);
    let elsewhere = search.get_elsewhere().to_string();
    assert!(elsewhere.contains(&village.elsewhere_zh), "{elsewhere}");
    assert!(shows(w, &elsewhere));

    // A newer catalog arrives during the visit: the screens keep the one the visit began with.
    let renamed = format!("{}乙", first.zh);
    let toml = zizhu::catalog::BUILTIN_TOML.replacen(
        &format!("zh = \"{}\"", first.zh),
        &format!("zh = \"{renamed}\""),
        1,
    );
    let raw = sign(
        &key,
        &BundleContent {
            seq: 1,
            iat: chrono::Utc::now().timestamp() - 60,
            max_age: 86_400,
            catalog: toml,
        },
    )
    .expect("sign");
    let dir = tempfile::tempdir().expect("tmp");
    let journal = zizhu::journal::Journal::open(dir.path()).expect("journal");
    let out = live
        .offer(&raw, chrono::Utc::now().timestamp(), false, &journal)
        .expect("accepted");
    assert!(matches!(out, Offered::Applied(_)));
    press(w, "清空");
    press(w, "返回");
    assert_eq!(screen(&ui), Screen::Home);
    assert_eq!(buttons(w, &first.zh).len(), 1, "unchanged during the visit");
    assert!(buttons(w, &renamed).is_empty());
    // The next visit shows it.
    w.global::<AppState>().invoke_session_ended();
    assert_eq!(screen(&ui), Screen::Attract);
    press(w, "点击开始办理");
    assert_eq!(
        buttons(w, &renamed).len(),
        1,
        "the new catalog on the next visit"
    );
    assert_eq!(ui.catalog().seq(), Some(1));
}

#[test]
fn every_target_is_labelled_and_large_enough() {
    let ui = kiosk(Options::default());
    let w = ui.window();
    let check = |what: &str, min: f32| {
        for role in [AccessibleRole::Button, AccessibleRole::Tab] {
            for e in w
                .root_element()
                .query_descendants()
                .match_accessible_role(role)
                .find_all()
            {
                let label = e.accessible_label().unwrap_or_default();
                assert!(
                    !label.trim().is_empty(),
                    "{what}: a {role:?} without a label"
                );
                let size = e.size();
                assert!(
                    size.width >= min && size.height >= min,
                    "{what}: {label:?} is {size:?}, smaller than {min} px"
                );
            }
        }
    };
    for elderly in [false, true] {
        if elderly {
            ui.set_elderly(true);
            settle();
        }
        let min = if elderly { 140.0 } else { 100.0 };
        for spec in ScreenId::ALL {
            let mut s = zizhu::kiosk::ScreenSpec::new(spec);
            s.query = Some("sb".into());
            s.category = Some("tax".into());
            ui.show_screen(&s).expect("screen");
            settle();
            check(spec.name(), min);
        }
        // The voice panel (普通话 / 粤语 / 客家话, volume, mute) over a screen.
        ui.show_screen(&zizhu::kiosk::ScreenSpec::new(ScreenId::Detail))
            .expect("screen");
        w.global::<zizhu::ui::VoiceAdapter>().set_panel_open(true);
        settle();
        check("voice panel", min);
        w.global::<zizhu::ui::VoiceAdapter>().set_panel_open(false);
    }
}

#[test]
fn every_translatable_string_has_an_english_translation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
    let po = std::fs::read_to_string(root.join("translations/en/LC_MESSAGES/zizhu-ui.po"))
        .expect("the English .po");
    let mut translated = std::collections::HashMap::new();
    let mut id = None;
    for line in po.lines() {
        if let Some(s) = line.strip_prefix("msgid ") {
            id = Some(s.trim_matches('"').to_string());
        } else if let Some(s) = line.strip_prefix("msgstr ") {
            if let Some(id) = id.take() {
                translated.insert(id, s.trim_matches('"').to_string());
            }
        }
    }
    let mut files = vec![root.join("app.slint"), root.join("globals.slint")];
    for dir in ["screens", "widgets"] {
        for e in std::fs::read_dir(root.join(dir)).expect("ui dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                // Screen groups in their own folder (screens/flow/).
                for e in std::fs::read_dir(&p).expect("ui subdir") {
                    files.push(e.expect("entry").path());
                }
            } else {
                files.push(p);
            }
        }
    }
    let mut count = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).expect("slint file");
        for part in text.split("@tr(\"").skip(1) {
            let msgid = part.split('"').next().expect("closing quote");
            count += 1;
            let en = translated.get(msgid);
            assert!(
                en.is_some_and(|e| !e.is_empty()),
                "{}: {msgid:?} has no English translation",
                f.display()
            );
            assert_eq!(
                msgid.matches("{}").count(),
                en.map(|e| e.matches("{}").count()).unwrap_or(0),
                "placeholders of {msgid:?}"
            );
        }
    }
    assert!(count > 30, "found only {count} @tr strings");
}

/// Rust writes no citizen-facing sentence outside `crates/core/src/text.rs` (the table whose own
/// test checks every entry has English): a string literal with Chinese in the core's or the
/// kiosk's Rust (tests and comments aside) is refused unless its file is listed here with the
/// reason it holds data or technician-only text.
#[test]
fn rust_side_citizen_text_is_all_in_the_table() {
    const ALLOWED: &[(&str, &str)] = &[
        ("crates/core/src/text.rs", "the table itself"),
        (
            "crates/core/src/catalog/raw.rs",
            "catalog data: the commitment clauses' source text",
        ),
        (
            "crates/core/src/catalog/search.rs",
            "catalog data: search words",
        ),
        (
            "crates/core/src/elicense/types.rs",
            "licence type names, both languages, as data",
        ),
        (
            "crates/core/src/maintenance.rs",
            "the printer test page, for the technician",
        ),
        (
            "crates/core/src/config.rs",
            "the simulation's default site name (configuration)",
        ),
        (
            "crates/core/src/config/voice.rs",
            "a kiosk.toml error naming the voice languages, for the technician",
        ),
        (
            "crates/kiosk/src/ime.rs",
            "the pinyin input method's character table",
        ),
        (
            "crates/kiosk/src/kiosk/flow/keyboard.rs",
            "key labels (粤, 中, 英)",
        ),
        (
            "crates/kiosk/src/kiosk/mod.rs",
            "the header clock's date format and the default site name",
        ),
    ];
    fn has_cjk(s: &str) -> bool {
        s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("source dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("crates/core/src"), &mut files);
    walk(&root.join("crates/kiosk/src"), &mut files);
    let mut found = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(root)
            .expect("inside the repository")
            .to_string_lossy()
            .replace('\\', "/");
        if ALLOWED.iter().any(|(a, _)| *a == rel) {
            continue;
        }
        let text = std::fs::read_to_string(&f).expect("source");
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("#[cfg(test)]") {
                break;
            }
            let code = line.split("//").next().unwrap_or("");
            let literals = code.split('"').skip(1).step_by(2);
            if literals.clone().any(has_cjk) {
                found.push(format!("{rel}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "Chinese text outside crates/core/src/text.rs; add a `Text` entry instead:\n{}",
        found.join("\n")
    );
}

// ---- pictures (the real binary, software renderer) ----

fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
    let file = std::fs::File::open(path).expect("png file");
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .expect("png header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("png data");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// Distinct colours in the picture (a blank or single-colour picture has 1).
fn colours(rgb: &[u8]) -> usize {
    let mut set = std::collections::HashSet::new();
    for p in rgb.chunks(3).step_by(7) {
        set.insert((p[0], p[1], p[2]));
    }
    set.len()
}

/// Dark text pixels inside a box.
fn ink(rgb: &[u8], width: u32, x0: u32, y0: u32, x1: u32, y1: u32) -> usize {
    let mut n = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            let i = ((y * width + x) * 3) as usize;
            let (r, g, b) = (rgb[i], rgb[i + 1], rgb[i + 2]);
            if u32::from(r) + u32::from(g) + u32::from(b) < 240 {
                n += 1;
            }
        }
    }
    n
}

fn screenshot(dir: &Path, name: &str, args: &[&str]) -> std::path::PathBuf {
    let out = dir.join(name);
    let mut full = vec!["screenshot"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--out", out.to_str().expect("utf-8 path")]);
    let o = util::zizhu(dir)
        .args(&full)
        .output()
        .expect("running zizhu");
    assert_eq!(util::code(&o), 0, "{:?}: {}", full, util::stderr(&o));
    out
}

#[test]
fn screenshots_render_every_screen_in_both_languages() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, args) in [
        ("attract.png", vec!["--screen", "attract"]),
        ("home.png", vec!["--screen", "home"]),
        (
            "home-en-elderly.png",
            vec!["--screen", "home", "--lang", "en", "--elderly"],
        ),
        (
            "category.png",
            vec!["--screen", "category", "--category", "tax"],
        ),
        (
            "search.png",
            vec!["--screen", "search", "--query", "sbcx", "--lang", "en"],
        ),
        (
            "detail.png",
            vec!["--screen", "detail", "--item", "ss-insured-cert-print"],
        ),
        ("maintenance.png", vec!["--screen", "maintenance"]),
        (
            "maintenance-pin-en.png",
            vec!["--screen", "maintenance-pin", "--lang", "en"],
        ),
    ] {
        let path = screenshot(dir.path(), name, &args);
        let (w, h, rgb) = decode(&path);
        assert_eq!((w, h), (1080, 1920), "{name}");
        assert!(colours(&rgb) > 50, "{name} looks blank");
    }
}

#[test]
fn rare_name_characters_are_drawn_from_the_embedded_font() {
    // 龑 堃 喆 赟 昇 玥 are among the 8,105 characters of the 通用规范汉字表 but not in GB 2312.
    let dir = tempfile::tempdir().expect("temp dir");
    // No CJK system font: fontconfig sees only DejaVu Sans (with no font at all fontique
    // panics, so one Latin font is kept). Without DejaVu the default fonts are used.
    let conf = dir.path().join("fonts.conf");
    let dejavu = Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
    let only_latin = dejavu.exists();
    if only_latin {
        let fonts = dir.path().join("fonts");
        std::fs::create_dir(&fonts).expect("fonts dir");
        std::fs::copy(dejavu, fonts.join("DejaVuSans.ttf")).expect("copy font");
        let xml = format!(
            "<?xml version=\"1.0\"?><fontconfig><dir>{}</dir><cachedir>{}</cachedir></fontconfig>",
            fonts.display(),
            dir.path().join("cache").display()
        );
        std::fs::write(&conf, xml).expect("fonts.conf");
    }
    let run = |name: &str, query: &str| {
        let out = dir.path().join(name);
        let o = util::zizhu(dir.path())
            .env("FONTCONFIG_FILE", &conf)
            .args([
                "screenshot",
                "--screen",
                "search",
                "--query",
                query,
                "--out",
            ])
            .arg(&out)
            .output()
            .expect("running zizhu");
        assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
        decode(&out)
    };
    // The query box: below the header (96 + 124 px) and 20 px of padding, 100 px tall.
    let (_, _, blank) = run("blank.png", "");
    let in_box = |rgb: &[u8]| ink(rgb, 1080, 40, 250, 700, 330);
    assert_eq!(in_box(&blank), 0, "the placeholder is not dark text");
    for (i, c) in ["龑", "堃", "喆", "赟", "昇", "玥"].into_iter().enumerate() {
        let (_, _, rgb) = run(&format!("rare{i}.png"), c);
        let n = in_box(&rgb);
        assert!(n > 150, "{c} drew only {n} dark pixels");
    }
}

#[test]
fn screenshot_refuses_unknown_values_listing_valid_ones() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["--screen", "nope"],
            "attract, home, category, search, detail, maintenance, maintenance-pin",
        ),
        (&["--screen", "home", "--lang", "fr"], "zh, en"),
        (
            &["--screen", "detail", "--item", "nope"],
            "ss-insured-cert-print",
        ),
        (
            &["--screen", "category", "--category", "nope"],
            "social-security",
        ),
    ];
    for (args, valid) in cases {
        let mut full = vec!["screenshot", "--out", "/nonexistent/x.png"];
        full.extend_from_slice(args);
        let o = util::run(&full);
        assert_eq!(util::code(&o), 2, "{args:?}: {}", util::stderr(&o));
        assert!(
            util::stderr(&o).contains(valid),
            "{args:?}: {}",
            util::stderr(&o)
        );
    }
}

#[test]
fn readme_screenshots_are_not_blank() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
    let mut n = 0;
    for name in [
        "home.png",
        "search.png",
        "detail.png",
        "home-elderly.png",
        "maintenance.png",
        "maintenance-pin.png",
    ] {
        let path = dir.join(name);
        assert!(
            path.exists(),
            "{} missing; make it with `zizhu screenshot`",
            path.display()
        );
        let (w, h, rgb) = decode(&path);
        assert_eq!((w, h), (1080, 1920), "{name}");
        assert!(colours(&rgb) > 50, "{name} looks blank");
        n += 1;
    }
    assert_eq!(n, 6);
}

#[test]
fn run_without_a_display_exits_2_naming_headless() {
    let home = tempfile::tempdir().expect("temp dir");
    let mut child = util::zizhu(home.path())
        .arg("run")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starting zizhu run");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().expect("waiting") {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("zizhu run with no display did not exit");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err)
        .expect("stderr text");
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("--headless"), "{err}");
}

#[test]
fn a_visitor_on_screen_is_a_session_on_the_status_state() {
    let ui = kiosk(Options::default());
    let state = zizhu::status::StatusState::new("T-1", "test");
    let _timer = ui.report_session(state.clone());
    let step = || i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(300));
    step();
    assert!(!state.session_active(), "the attract screen is no session");
    ui.show_screen(&zizhu::kiosk::ScreenSpec::new(ScreenId::Home))
        .expect("home");
    step();
    assert!(state.session_active());
    assert_eq!(
        state.snapshot().screen,
        "home",
        "the status names the screen"
    );
    ui.show_screen(&zizhu::kiosk::ScreenSpec::new(ScreenId::Attract))
        .expect("attract");
    step();
    assert!(!state.session_active());
    assert_eq!(state.snapshot().screen, "attract");
}
