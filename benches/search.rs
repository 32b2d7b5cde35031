//! Catalog search latency per keystroke over the whole catalog (issue 2 goal: median ≤ 20 µs).
//! Each iteration is one search of one prefix as a citizen types it on the kiosk keyboard.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use zizhu::catalog::Catalog;

fn keystrokes(c: &mut Criterion) {
    let catalog = Catalog::builtin();
    let mut g = c.benchmark_group("search_keystroke");
    for typed in [
        "sbcx",
        "shebao",
        "gongjijin",
        "housing fund",
        "社保查询",
        "pensoin",
    ] {
        // Every prefix the citizen goes through while typing.
        let prefixes: Vec<String> = typed
            .char_indices()
            .map(|(i, ch)| typed[..i + ch.len_utf8()].to_string())
            .collect();
        g.bench_with_input(
            BenchmarkId::from_parameter(typed),
            &prefixes,
            |b, prefixes| {
                let mut i = 0;
                b.iter(|| {
                    let q = &prefixes[i % prefixes.len()];
                    i += 1;
                    std::hint::black_box(catalog.search(q).len())
                })
            },
        );
    }
    g.finish();
    c.bench_function("catalog_parse_and_index", |b| {
        b.iter(|| Catalog::parse(zizhu::catalog::BUILTIN_TOML).map(|c| c.services().len()))
    });
}

criterion_group!(benches, keystrokes);
criterion_main!(benches);
