//! Fills the Slint adapter globals (`HomeAdapter`, `ListAdapter`, `SearchAdapter`,
//! `DetailAdapter`, `AppState`) from the catalog and the [`Session`]. Only what a change touches
//! is refilled, so a keystroke updates the search results and nothing else; and the results are
//! updated in place (see [`update_rows`]), so only the rows that changed are repainted.
use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};

use super::session::{ScreenId, Session};
use crate::catalog::live::Active;
use crate::catalog::{Catalog, Lang, Service};
use crate::ui::{
    AppState, CategoryItem, DetailAdapter, HomeAdapter, KioskWindow, ListAdapter, Screen,
    SearchAdapter, ServiceDetail, ServiceItem,
};

/// The Slint screen for a [`ScreenId`].
pub fn slint_screen(s: ScreenId) -> Screen {
    match s {
        ScreenId::Attract => Screen::Attract,
        ScreenId::Home => Screen::Home,
        ScreenId::Category => Screen::Category,
        ScreenId::Search => Screen::Search,
        ScreenId::Detail => Screen::Detail,
        ScreenId::Flow => Screen::Flow,
        // The maintenance screen lies over the attract screen.
        ScreenId::Maintenance | ScreenId::MaintenancePin => Screen::Attract,
    }
}

/// The [`ScreenId`] of a Slint screen.
pub fn screen_id(s: Screen) -> ScreenId {
    match s {
        Screen::Attract => ScreenId::Attract,
        Screen::Home => ScreenId::Home,
        Screen::Category => ScreenId::Category,
        Screen::Search => ScreenId::Search,
        Screen::Detail => ScreenId::Detail,
        Screen::Flow => ScreenId::Flow,
    }
}

fn all_services_name(lang: Lang) -> &'static str {
    crate::text::Text::AllServices.get(lang)
}

fn model<T: Clone + 'static>(v: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(v))
}

fn service_item(catalog: &Catalog, s: &Service, lang: Lang) -> ServiceItem {
    let icon = catalog
        .category(&s.category)
        .map(|c| c.icon.as_str())
        .unwrap_or("other");
    ServiceItem {
        id: s.id.as_str().into(),
        name: s.name(lang).into(),
        department: s.department(lang).into(),
        icon: icon.into(),
        weight: weight(s.name(lang)),
    }
}

/// Width of a text in hundredths of an em, roughly: Han characters and full-width punctuation
/// are one em, Latin letters about half. The cards pick a font size from it (`Theme.fit`).
pub fn weight(text: &str) -> i32 {
    text.chars()
        .map(|c| match c {
            ' ' => 28,
            'A'..='Z' | 'm' | 'w' => 66,
            c if c.is_ascii_punctuation() => 35,
            c if c.is_ascii() => 55,
            _ => 100,
        })
        .sum()
}

/// Categories this kiosk offers something in, in display order with how many it offers, then
/// "all services".
fn category_items(view: &Active, lang: Lang, limit: usize) -> Vec<CategoryItem> {
    let catalog = view.catalog();
    let mut v: Vec<CategoryItem> = view
        .offer
        .used_categories(catalog)
        .into_iter()
        .take(limit.saturating_sub(1))
        .map(|c| CategoryItem {
            id: c.id.as_str().into(),
            name: c.name(lang).into(),
            icon: c.icon.as_str().into(),
            count: view.offer.in_category(catalog, &c.id).len() as i32,
            weight: weight(c.name(lang)),
        })
        .collect();
    v.push(CategoryItem {
        id: SharedString::new(),
        name: all_services_name(lang).into(),
        icon: "all".into(),
        count: view.offer.len() as i32,
        weight: weight(all_services_name(lang)),
    });
    v
}

/// The home tiles: a site profile's services in its order; with every service offered, the
/// most used ones, one per category in turn, so the tiles cover what people come for rather
/// than a single department.
pub fn home_tiles(view: &Active, n: usize) -> Vec<&'static Service> {
    let catalog = view.catalog();
    if view.offer.profile().is_some() {
        return view.offer.home(catalog).into_iter().take(n).collect();
    }
    let high = catalog.high_frequency();
    let mut out: Vec<&Service> = Vec::new();
    let mut round = 0;
    while out.len() < n && out.len() < high.len() {
        let before = out.len();
        for c in catalog.categories() {
            if let Some(s) = high.iter().filter(|s| s.category == c.id).nth(round) {
                out.push(s);
                if out.len() == n {
                    break;
                }
            }
        }
        if out.len() == before {
            break;
        }
        round += 1;
    }
    out
}

/// Screen, language and mode flags.
pub fn apply_state(ui: &KioskWindow, _view: &Active, s: &Session) {
    let st = ui.global::<AppState>();
    st.set_english(s.lang == Lang::En);
    st.set_elderly(s.elderly);
    st.set_screen(slint_screen(s.screen));
}

/// The home screen's categories and tiles.
pub fn apply_home(ui: &KioskWindow, view: &Active, s: &Session) {
    let catalog = view.catalog();
    let sizes = s.sizes();
    let home = ui.global::<HomeAdapter>();
    home.set_categories(model(category_items(view, s.lang, sizes.home_categories)));
    let tiles = home_tiles(view, sizes.home_tiles)
        .into_iter()
        .map(|x| service_item(catalog, x, s.lang))
        .collect();
    home.set_tiles(model(tiles));
    home.set_total(view.offer.len() as i32);
}

/// The category screen: tabs ("all" first), title, the current page.
pub fn apply_list(ui: &KioskWindow, view: &Active, s: &Session) {
    let catalog = view.catalog();
    let list = ui.global::<ListAdapter>();
    let mut tabs = category_items(view, s.lang, usize::MAX);
    if let Some(all) = tabs.pop() {
        tabs.insert(0, all);
    }
    let selected = tabs
        .iter()
        .position(|t| t.id.as_str() == s.category)
        .unwrap_or(0);
    list.set_tabs(model(tabs));
    list.set_selected(s.category.as_str().into());
    list.set_selected_index(selected as i32);
    let title = if s.category.is_empty() {
        all_services_name(s.lang).to_string()
    } else {
        catalog
            .category(&s.category)
            .map(|c| c.name(s.lang).to_string())
            .unwrap_or_default()
    };
    list.set_title_weight(weight(&title));
    list.set_title(title.into());
    let positions = s.list_positions(view);
    let per = s.sizes().list_rows;
    let pages = Session::pages(positions.len(), per);
    let page = s.list_page.min(pages - 1);
    let items = positions
        .iter()
        .skip(page * per)
        .take(per)
        .map(|&p| service_item(catalog, &catalog.services()[p], s.lang))
        .collect();
    list.set_items(model(items));
    list.set_page(page as i32 + 1);
    list.set_pages(pages as i32);
    list.set_total(positions.len() as i32);
}

/// The search screen: query, the current page of results (what this kiosk offers), where the
/// services it does not offer can be done, keyboard mode.
pub fn apply_search(ui: &KioskWindow, view: &Active, s: &Session) {
    let catalog = view.catalog();
    let search = ui.global::<SearchAdapter>();
    let found = if s.query.trim().is_empty() {
        Default::default()
    } else {
        view.offer.search(catalog, s.query.trim())
    };
    let hits = found.here;
    let elsewhere = match (found.elsewhere.len(), view.offer.elsewhere(s.lang)) {
        (0, _) | (_, None) => String::new(),
        (n, Some(place)) => crate::text::Text::SearchElsewhere
            .fill(s.lang, &[("count", &n.to_string()), ("place", place)]),
    };
    search.set_elsewhere(elsewhere.into());
    let per = s.sizes().search_rows;
    let pages = Session::pages(hits.len(), per);
    let page = s.search_page.min(pages - 1);
    let results = hits
        .iter()
        .skip(page * per)
        .take(per)
        .map(|h| service_item(catalog, &catalog.services()[h.pos], s.lang))
        .collect();
    search.set_query(s.query.as_str().to_uppercase().into());
    update_rows(&search.get_results(), results, |m| search.set_results(m));
    search.set_total(hits.len() as i32);
    search.set_page(page as i32 + 1);
    search.set_pages(pages as i32);
    search.set_digits(s.digits);
}

/// Makes the rows of `current` equal to `rows` without replacing the model when it is a
/// [`VecModel`]: rows that are already equal are left alone, changed rows are set in place, and
/// only the difference in length is pushed or removed. A new model would make Slint destroy and
/// re-create every row and repaint all of them; this way a keystroke that changes one result
/// repaints one row. (Slint's own property setters already skip equal values, so the scalar
/// properties next to the model need no such care.) Any other model is replaced by a
/// `VecModel`, which later calls then update in place.
fn update_rows<T: Clone + PartialEq + 'static>(
    current: &ModelRc<T>,
    rows: Vec<T>,
    replace: impl FnOnce(ModelRc<T>),
) {
    let Some(vec) = current.as_any().downcast_ref::<VecModel<T>>() else {
        replace(model(rows));
        return;
    };
    let old = vec.row_count();
    for (i, row) in rows.iter().enumerate().take(old) {
        if vec.row_data(i).as_ref() != Some(row) {
            vec.set_row_data(i, row.clone());
        }
    }
    for i in (rows.len()..old).rev() {
        vec.remove(i);
    }
    for row in rows.into_iter().skip(old) {
        vec.push(row);
    }
}

/// The detail screen for the session's service.
pub fn apply_detail(ui: &KioskWindow, view: &Active, s: &Session) {
    let catalog = view.catalog();
    let Some(svc) = s.item.as_deref().and_then(|id| catalog.service(id)) else {
        return;
    };
    let lang = s.lang;
    let cat = catalog.category(&svc.category);
    let licences: Vec<SharedString> = svc
        .elicense
        .iter()
        .filter_map(|id| catalog.licence(id))
        .map(|l| l.name(lang).into())
        .collect();
    let d = ServiceDetail {
        id: svc.id.as_str().into(),
        name: svc.name(lang).into(),
        category: cat.map(|c| c.name(lang)).unwrap_or_default().into(),
        icon: cat.map(|c| c.icon.as_str()).unwrap_or("other").into(),
        department: svc.department(lang).into(),
        summary: svc.summary(lang).into(),
        auth: svc.auth.label(lang).into(),
        output: svc.output.label(lang).into(),
        licences: model(licences),
        fields: svc.fields.len() as i32,
        commitment: svc.commitment,
        proxy: svc.proxy,
    };
    ui.global::<DetailAdapter>().set_service(d);
}

/// Everything (after a language or mode switch, or a new session).
pub fn apply_all(ui: &KioskWindow, catalog: &Active, s: &Session) {
    apply_home(ui, catalog, s);
    apply_list(ui, catalog, s);
    apply_search(ui, catalog, s);
    apply_detail(ui, catalog, s);
    apply_state(ui, catalog, s);
}

/// The category screen and the screen switch.
pub fn apply_list_and_state(ui: &KioskWindow, catalog: &Active, s: &Session) {
    apply_list(ui, catalog, s);
    apply_state(ui, catalog, s);
}

/// The detail screen and the screen switch.
pub fn apply_detail_and_state(ui: &KioskWindow, catalog: &Active, s: &Session) {
    apply_detail(ui, catalog, s);
    apply_state(ui, catalog, s);
}

/// The search screen and the screen switch.
pub fn apply_search_and_state(ui: &KioskWindow, catalog: &Active, s: &Session) {
    apply_search(ui, catalog, s);
    apply_state(ui, catalog, s);
}
